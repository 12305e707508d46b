/**
 * The hand-written versioned handler on Memcached: what a competent engineer writes when the
 * client (memjs) has no gets/cas methods. memjs speaks the binary protocol, where every item
 * carries a CAS unique, and its `perform` sends any frame to the server that owns a key; so each
 * record is a set-if-newer loop of GET (with CAS) then SET with that CAS (ADD when absent),
 * retried on a conflict. Records of a batch run concurrently, those of one key chained in order.
 *
 * Values are stored in the library's envelope (`\x1ev<version>\x1f<json>`, tombstone
 * `\x1et<version>\x1f`, see docs/consistency.md), so both handlers leave comparable caches.
 * Deliberately its own code, not the library's: it is the baseline the library must beat.
 *
 * @module
 */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';

/** The part of a memjs `Client` that sends raw frames (memjs types its callback loosely). */
export interface FrameClient {
  perform(key: string, request: Buffer, seq: number, callback: (error: Error | null, reply: Reply | null) => void): void;
  incrSeq(): void;
  readonly seq: number;
}
interface Reply {
  readonly header: { readonly status: number; readonly cas: Buffer };
  readonly val: Buffer;
}

const GET = 0x00;
const SET = 0x01;
const ADD = 0x02;
const OK = 0x0000;
const NOT_FOUND = 0x0001;
const CONFLICTS = new Set([0x0001, 0x0002, 0x0005]); // not found, exists, not stored
const TTL_SECONDS = 3600;
// A tombstone must outlive any record the stream can still redeliver (24 h retention + retries).
const TOMBSTONE_TTL_SECONDS = 90_000;
const MAX_ATTEMPTS = 20;
const NO_EXTRAS = Buffer.alloc(0);

function send(client: FrameClient, opcode: number, key: string, extras: Buffer, value: string, cas?: Buffer): Promise<Reply> {
  const keyBytes = Buffer.byteLength(key);
  const body = extras.length + keyBytes + Buffer.byteLength(value);
  const frame = Buffer.alloc(24 + body);
  frame[0] = 0x80;
  frame[1] = opcode;
  frame.writeUInt16BE(keyBytes, 2);
  frame[4] = extras.length;
  frame.writeUInt32BE(body, 8);
  client.incrSeq();
  const seq = client.seq;
  frame.writeUInt32BE(seq >>> 0, 12);
  cas?.copy(frame, 16);
  extras.copy(frame, 24);
  frame.write(key, 24 + extras.length);
  frame.write(value, 24 + extras.length + keyBytes);
  return new Promise((resolve, reject) =>
    client.perform(key, frame, seq, (error, reply) => (reply ? resolve(reply) : reject(error ?? new Error(`memcached: no reply for ${key}`)))),
  );
}

/** What a stored envelope holds: version, and 1 for a tombstone (a delete wins a tie). */
function stampOf(stored: Buffer): [number, number] | undefined {
  if (stored[0] !== 0x1e) return undefined;
  const end = stored.indexOf(0x1f, 2);
  const version = end < 0 ? Number.NaN : Number(stored.toString('latin1', 2, end));
  return Number.isFinite(version) && end > 2 ? [version, stored[1] === 0x76 /* v */ ? 0 : 1] : undefined;
}

async function setIfNewer(client: FrameClient, key: string, version: number, rank: number, stored: string, ttl: number): Promise<void> {
  const extras = Buffer.alloc(8);
  extras.writeUInt32BE(ttl, 4);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await send(client, GET, key, NO_EXTRAS, '');
    const found = current.header.status === OK;
    if (!found && current.header.status !== NOT_FOUND) throw new Error(`memcached GET ${key}: status ${current.header.status}`);
    const held = found ? stampOf(current.val) : undefined;
    if (held && (held[0] > version || (held[0] === version && held[1] >= rank))) return;
    const put = await send(client, found ? SET : ADD, key, extras, stored, found ? current.header.cas : undefined);
    if (put.header.status === OK) return;
    if (!CONFLICTS.has(put.header.status)) throw new Error(`memcached ${found ? 'SET' : 'ADD'} ${key}: status ${put.header.status}`);
  }
  throw new Error(`memcached: ${key} changed under ${MAX_ATTEMPTS} attempts`);
}

type Image = Parameters<typeof unmarshall>[0];

/** The handler; `client` lives at module scope. Rejects (fails the batch) if any write fails. */
export function handwrittenMemcachedVersioned(client: FrameClient): (event: DynamoDBStreamEvent) => Promise<void> {
  return async (event) => {
    const lastOfKey = new Map<string, Promise<void>>();
    for (const record of event.Records) {
      const item = unmarshall((record.dynamodb?.NewImage ?? record.dynamodb?.OldImage) as Image);
      // JSON.stringify turns a Set (DynamoDB SS/NS) into {}; store it as the array it is.
      for (const name in item) if (item[name] instanceof Set) item[name] = [...item[name]];
      const key = `user:${String(item['id'])}`;
      const version = Number(item['version']);
      const write =
        record.eventName === 'REMOVE'
          ? () => setIfNewer(client, key, version, 1, `\x1et${version}\x1f`, TOMBSTONE_TTL_SECONDS)
          : () => setIfNewer(client, key, version, 0, `\x1ev${version}\x1f${JSON.stringify(item)}`, TTL_SECONDS);
      const previous = lastOfKey.get(key);
      lastOfKey.set(key, previous ? previous.then(write) : write());
    }
    await Promise.all(lastOfKey.values());
  };
}
