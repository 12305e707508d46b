/**
 * The benchmark workload: deterministic DynamoDB Streams batches of realistic `User` items
 * (about 400 bytes of JSON each), the library's rules for them, and the three comparison
 * handlers: the raw-client ceiling, the classic blog Lambda and the naive port.
 *
 * @module
 */
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Redis } from 'ioredis';
import type memjs from 'memjs';
import type { AnyCacheCommand, CacheCommand } from '../../src/core/commands.js';
import type { AttributeMap, KeyRule, Rule } from '../../src/core/rules.js';
import { prng } from '../../test/helpers/prng.js';

export const TABLE = 'App';
export const ARN = `arn:aws:dynamodb:us-east-1:123456789012:table/${TABLE}/stream/2026-01-01T00:00:00.000`;

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Leslie'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Perlman', 'Lamport'];
const CITIES = ['Lisbon', 'Oslo', 'Nairobi', 'Osaka', 'Lima', 'Perth', 'Tallinn', 'Austin'];

/** The DynamoDB image of user `id` at `version`: a map, a list, a string set, numbers, a boolean. */
export function userImage(id: number, version: number, random: () => number): AttributeMap {
  const first = FIRST[id % FIRST.length] as string;
  const last = LAST[(id >> 3) % LAST.length] as string;
  const city = CITIES[Math.floor(random() * CITIES.length)] as string;
  return {
    pk: { S: `USER#${id}` },
    sk: { S: 'PROFILE' },
    type: { S: 'User' },
    id: { S: String(id) },
    email: { S: `${first.toLowerCase()}.${last.toLowerCase()}${id}@example.com` },
    name: { S: `${first} ${last}` },
    plan: { S: random() < 0.2 ? 'enterprise' : 'team' },
    version: { N: String(version) },
    balance: { N: (random() * 10_000).toFixed(2) },
    createdAt: { S: '2025-03-14T09:26:53.589Z' },
    updatedAt: { S: new Date(Date.UTC(2026, 0, 1) + version * 60_000).toISOString() },
    verified: { BOOL: random() < 0.8 },
    address: {
      M: {
        street: { S: `${Math.floor(random() * 900) + 100} Market Street` },
        city: { S: city },
        zip: { S: String(10_000 + Math.floor(random() * 89_999)) },
      },
    },
    roles: { SS: ['reader', random() < 0.3 ? 'admin' : 'writer'] },
    recentOrders: { L: [{ S: `ORD-${id}-1` }, { S: `ORD-${id}-2` }, { N: String(Math.floor(random() * 500)) }] },
    bio: { S: 'Writes about distributed systems, caches and the occasional stream processor.' },
  };
}

/** How the records of a batch pick their users. */
export interface EventShape {
  /**
   * Every user appears twice per batch (first half, then again in the same order in the second
   * half, as MODIFY or REMOVE of the first record's image): the repeated-keys workload, where
   * only half the records' effects need to reach the cache.
   */
  readonly repeatKeys?: boolean;
  /**
   * Added to every version (default 0). A batch built with a larger base holds newer writes of
   * the same items, so a versioned cache applies it instead of refusing it as a replay.
   */
  readonly versionBase?: number;
}

/**
 * A batch of `size` records: 40% INSERT, 40% MODIFY, 20% REMOVE, over `size` distinct users,
 * with the images Lambda delivers for a `NEW_AND_OLD_IMAGES` stream. With `repeatKeys`, over
 * `size / 2` users, each twice.
 */
export function makeEvent(size: number, seed = 42, shape: EventShape = {}): DynamoDBStreamEvent {
  const random = prng(seed);
  const records: DynamoDBRecord[] = [];
  let sequence = 4_000_000_000_000_000_000_000n;
  const created = Math.floor(Date.UTC(2026, 0, 1) / 1000);
  const users = shape.repeatKeys ? Math.max(1, Math.ceil(size / 2)) : size;
  // The image each user holds after the records so far (undefined: absent or removed).
  const latest = new Map<number, AttributeMap | undefined>();
  for (let i = 0; i < size; i++) {
    const id = 100_000 + (i % users);
    const roll = random();
    const again = latest.has(id);
    const held = latest.get(id);
    let eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
    if (!again) eventName = roll < 0.4 ? 'INSERT' : roll < 0.8 ? 'MODIFY' : 'REMOVE';
    else eventName = held === undefined ? 'INSERT' : roll < 0.7 ? 'MODIFY' : 'REMOVE';
    const version = (shape.versionBase ?? 0) + (again ? 3 : 2);
    const oldImage = eventName === 'INSERT' ? undefined : (held ?? userImage(id, version - 1, random));
    const newImage = eventName === 'REMOVE' ? undefined : userImage(id, version, random);
    if (shape.repeatKeys) latest.set(id, newImage);
    sequence += 100n;
    const dynamodb: NonNullable<DynamoDBRecord['dynamodb']> = {
      ApproximateCreationDateTime: created,
      Keys: { pk: { S: `USER#${id}` }, sk: { S: 'PROFILE' } },
      SequenceNumber: String(sequence),
      SizeBytes: 800,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    };
    if (newImage) dynamodb.NewImage = newImage as NonNullable<typeof dynamodb.NewImage>;
    if (oldImage) dynamodb.OldImage = oldImage as NonNullable<typeof dynamodb.OldImage>;
    records.push({
      eventID: `c81e728d9d4c2f636f067f89cc14862c-${i}`,
      eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: ARN,
      dynamodb,
    });
  }
  return { Records: records };
}

/**
 * The library's rules for the workload: one write-through key per user with a TTL, so each
 * record becomes exactly one command (SET or DEL), the same count the classic Lambda sends.
 */
export const rules: Rule[] = [
  {
    name: 'user-by-id',
    table: TABLE,
    when: (item) => item['type'] === 'User',
    key: (item) => `user:${String(item['id'])}`,
    strategy: 'write-through',
    ttlSeconds: 3600,
  },
];

/** The jobs the benchmarks compare on: one key per user, kept by each strategy. */
export const MODES = ['write-through', 'invalidate', 'versioned'] as const;
export type Mode = (typeof MODES)[number];

/** The user id in a table key `USER#<id>`. */
const idOfPk = (pk: unknown) => String(pk).slice('USER#'.length);

/**
 * The library's rules for each mode. `invalidate` keys from the table key alone (no `when`),
 * as the hand-written variant does, so neither needs more of the record than `Keys`.
 */
export const RULES: Readonly<Record<Mode, Rule[]>> = {
  'write-through': rules,
  invalidate: [{ name: 'user-by-id', table: TABLE, key: (item) => `user:${idOfPk(item['pk'])}`, strategy: 'invalidate' }],
  versioned: [{ ...(rules[0] as KeyRule), strategy: 'versioned', version: { attribute: 'version' }, ttlSeconds: 3600 }],
};

// ---------------------------------------------------------------------------------------------
// The ceiling: the same final commands the library sends, precomputed, through the raw client.

/** The plain commands of a plan (the workload's rules never produce versioned ones). */
export function plainCommands(commands: readonly AnyCacheCommand[]): CacheCommand[] {
  return commands.map((command) => {
    if (command.kind !== 'set' && command.kind !== 'delete') throw new Error(`unexpected ${command.kind} command`);
    return command;
  });
}

/** One ioredis pipeline holding every command; resolves when every reply arrived. */
export async function ceilingRedis(client: Redis, commands: readonly CacheCommand[]): Promise<void> {
  const pipeline = client.pipeline();
  for (const command of commands) {
    if (command.kind === 'delete') pipeline.del(command.key);
    else if (command.ttlSeconds === undefined) pipeline.set(command.key, command.value);
    else pipeline.set(command.key, command.value, 'EX', command.ttlSeconds);
  }
  const replies = await pipeline.exec();
  if (replies === null || replies.some(([error]) => error)) throw new Error('ceiling pipeline failed');
}

/** Every command issued on the memjs client at once (memjs writes each as it is issued). */
export async function ceilingMemcached(client: memjs.Client, commands: readonly CacheCommand[]): Promise<void> {
  await Promise.all(
    commands.map((command) =>
      command.kind === 'delete' ? client.delete(command.key) : client.set(command.key, command.value, { expires: command.ttlSeconds ?? 0 }),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// The classic blog Lambda: a new client per invocation, every record's SET of the raw NewImage
// JSON (or DEL) fired at once, quit at the end. Ported as published in spirit: key from the
// table key, value the DynamoDB JSON as delivered, no TTL, no per-record error handling.

function classicKey(record: DynamoDBRecord): string {
  return `user:${record.dynamodb?.Keys?.['pk']?.S ?? ''}`;
}

/** The classic handler on Redis; `connect` makes the per-invocation client. */
export function classicRedisHandler(connect: () => Redis): (event: DynamoDBStreamEvent) => Promise<void> {
  return async (event) => {
    const redis = connect();
    await Promise.all(
      event.Records.map((record) =>
        record.eventName === 'REMOVE' ? redis.del(classicKey(record)) : redis.set(classicKey(record), JSON.stringify(record.dynamodb?.NewImage)),
      ),
    );
    await redis.quit();
  };
}

/** The classic handler on Memcached (memjs). */
export function classicMemcachedHandler(connect: () => memjs.Client): (event: DynamoDBStreamEvent) => Promise<void> {
  return async (event) => {
    const client = connect();
    await Promise.all(
      event.Records.map((record) =>
        record.eventName === 'REMOVE'
          ? client.delete(classicKey(record))
          : client.set(classicKey(record), JSON.stringify(record.dynamodb?.NewImage), { expires: 0 }),
      ),
    );
    client.quit();
  };
}

// ---------------------------------------------------------------------------------------------
// The naive port: a module-scope client, records unmarshalled to plain JSON like the library
// stores them, one command per record awaited one by one.

/** A naive handler: `send` issues one record's command. */
export function naiveHandler(
  unmarshall: (image: Record<string, unknown>) => Record<string, unknown>,
  send: (kind: 'set' | 'delete', key: string, value: string) => Promise<unknown>,
): (event: DynamoDBStreamEvent) => Promise<void> {
  return async (event) => {
    for (const record of event.Records) {
      const key = classicKey(record);
      if (record.eventName === 'REMOVE') await send('delete', key, '');
      else await send('set', key, JSON.stringify(unmarshall(record.dynamodb?.NewImage as Record<string, unknown>)));
    }
  };
}

// ---------------------------------------------------------------------------------------------
// The hand-written handler: what a competent team writes instead of adopting the library. A
// module-scope client, one pipeline per batch, no per-record error handling beyond failing the
// batch. Same keys, values and TTLs as the library's rules of the mode.

type Image = Parameters<typeof unmarshall>[0];
const TTL_SECONDS = 3600;

/** `user:<id>` from the record's `Keys`, without decoding any other attribute. */
function keyFromKeys(record: DynamoDBRecord): string {
  return `user:${idOfPk(record.dynamodb?.Keys?.['pk']?.S)}`;
}

/**
 * Set-if-newer: stores `<version>|<json>` (or a tombstone `<version>|` on REMOVE) unless the key
 * holds an equal or newer version.
 */
const SET_IF_NEWER = `
local current = redis.call('GET', KEYS[1])
if current then
  local stored = tonumber(string.match(current, '^(%d+)|'))
  if stored and stored >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'EX', ARGV[3])
return 1`;

/** The hand-written handler on Redis for `mode`; `client` lives at module scope. */
export function handwrittenRedis(client: Redis, mode: Mode): (event: DynamoDBStreamEvent) => Promise<void> {
  let sha: Promise<string> | undefined;
  return async (event) => {
    const pipeline = client.pipeline();
    if (mode === 'versioned') {
      sha ??= client.script('LOAD', SET_IF_NEWER) as Promise<string>;
      const loaded = await sha;
      for (const record of event.Records) {
        const image = (record.dynamodb?.NewImage ?? record.dynamodb?.OldImage) as Image;
        const item = unmarshall(image);
        const value = record.eventName === 'REMOVE' ? '' : JSON.stringify(item);
        pipeline.evalsha(loaded, 1, `user:${String(item['id'])}`, String(item['version']), value, String(TTL_SECONDS));
      }
    } else if (mode === 'invalidate') {
      for (const record of event.Records) pipeline.del(keyFromKeys(record));
    } else {
      for (const record of event.Records) {
        const image = record.dynamodb?.NewImage;
        if (record.eventName === 'REMOVE' || image === undefined) {
          pipeline.del(keyFromKeys(record));
          continue;
        }
        const item = unmarshall(image as Image);
        pipeline.set(`user:${String(item['id'])}`, JSON.stringify(item), 'EX', TTL_SECONDS);
      }
    }
    const replies = await pipeline.exec();
    if (replies === null || replies.some(([error]) => error)) throw new Error('hand-written pipeline failed');
  };
}

/**
 * The hand-written handler on Memcached (memjs) for `write-through` or `invalidate`. memjs has
 * no gets/cas API, so the versioned one sends its own CAS frames: `memcached-cas.ts`.
 */
export function handwrittenMemcached(client: memjs.Client, mode: Exclude<Mode, 'versioned'>): (event: DynamoDBStreamEvent) => Promise<void> {
  return async (event) => {
    await Promise.all(
      event.Records.map((record) => {
        if (mode === 'invalidate') return client.delete(keyFromKeys(record));
        const image = record.dynamodb?.NewImage;
        if (record.eventName === 'REMOVE' || image === undefined) return client.delete(keyFromKeys(record));
        const item = unmarshall(image as Image);
        return client.set(`user:${String(item['id'])}`, JSON.stringify(item), { expires: TTL_SECONDS });
      }),
    );
  };
}
