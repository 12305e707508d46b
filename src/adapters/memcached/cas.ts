/**
 * Memcached compare-and-swap through memjs. memjs speaks the binary protocol, in which every
 * item carries a CAS unique and SET, ADD and DELETE can carry one to compare, but it exposes no
 * CAS methods; its `perform` sends any binary frame to the server that owns a key. This module
 * builds those frames, giving the {@link CasStore} that versioned commands and leases need.
 *
 * @module
 */
import type { CasEntry, CasStore } from '../../core/versioned-cas.js';

/** The part of a memjs `Client` used to send raw binary-protocol frames. */
export interface MemjsFrameClient {
  perform(key: string, request: Buffer, seq: number, callback: (error: Error | null, response: MemjsResponse | null) => void, retries?: number): void;
  incrSeq(): void;
  readonly seq: number;
}

/** A parsed binary-protocol response, as memjs hands it to `perform`'s callback. */
export interface MemjsResponse {
  readonly header: { readonly status: number; readonly cas: Buffer };
  readonly val: Buffer;
}

/** True when `client` can send raw frames (a memjs `Client` can; a minimal test double cannot). */
export function canSendFrames(client: unknown): client is MemjsFrameClient {
  const c = client as Partial<MemjsFrameClient> | null;
  return typeof c === 'object' && c !== null && typeof c.perform === 'function' && typeof c.incrSeq === 'function' && typeof c.seq === 'number';
}

const OP_GET = 0x00;
const OP_SET = 0x01;
const OP_ADD = 0x02;
const OP_DELETE = 0x04;
const STATUS_OK = 0x0000;
const STATUS_NOT_FOUND = 0x0001;
const STATUS_EXISTS = 0x0002;
const STATUS_NOT_STORED = 0x0005;

function frame(opcode: number, key: Buffer, extras: Buffer, value: Buffer, opaque: number, cas: Buffer | undefined): Buffer {
  const buf = Buffer.alloc(24 + extras.length + key.length + value.length);
  buf.writeUInt8(0x80, 0);
  buf.writeUInt8(opcode, 1);
  buf.writeUInt16BE(key.length, 2);
  buf.writeUInt8(extras.length, 4);
  buf.writeUInt32BE(extras.length + key.length + value.length, 8);
  buf.writeUInt32BE(opaque >>> 0, 12);
  if (cas) cas.copy(buf, 16, 0, 8);
  extras.copy(buf, 24);
  key.copy(buf, 24 + extras.length);
  value.copy(buf, 24 + extras.length + key.length);
  return buf;
}

/**
 * A CAS store over memjs. `keyOf` maps cache keys the way the adapter does; `expirationOf`
 * turns a TTL in ms (undefined: none) into Memcached's expiration field.
 */
export function memjsCasStore(client: MemjsFrameClient, keyOf: (key: string) => string, expirationOf: (ttlMs: number | undefined) => number): CasStore {
  const send = (opcode: number, key: string, extras: Buffer, value: Buffer, cas: Buffer | undefined) =>
    new Promise<MemjsResponse>((resolve, reject) => {
      const mapped = keyOf(key);
      client.incrSeq();
      const seq = client.seq;
      // One attempt: a resend is the CAS loop's business (it re-reads), never memjs's.
      client.perform(
        mapped,
        frame(opcode, Buffer.from(mapped, 'utf8'), extras, value, seq, cas),
        seq,
        (error, response) => {
          if (error || !response) reject(error ?? new Error('memcached: no response'));
          else resolve(response);
        },
        1,
      );
    });
  const unexpected = (what: string, status: number) => new Error(`memcached ${what} answered status 0x${status.toString(16).padStart(4, '0')}`);

  return {
    async gets(key): Promise<CasEntry | undefined> {
      const response = await send(OP_GET, key, Buffer.alloc(0), Buffer.alloc(0), undefined);
      const { status, cas } = response.header;
      if (status === STATUS_NOT_FOUND) return undefined;
      if (status !== STATUS_OK) throw unexpected('GET', status);
      return { value: response.val.toString('utf8'), cas: Buffer.from(cas) };
    },
    async put(key, value, cas, ttlMs) {
      const extras = Buffer.alloc(8);
      extras.writeUInt32BE(0, 0);
      extras.writeUInt32BE(expirationOf(ttlMs) >>> 0, 4);
      const token = Buffer.isBuffer(cas) ? cas : undefined;
      const response = await send(token ? OP_SET : OP_ADD, key, extras, Buffer.from(value, 'utf8'), token);
      const { status } = response.header;
      if (status === STATUS_OK) return true;
      if (status === STATUS_EXISTS || status === STATUS_NOT_FOUND || status === STATUS_NOT_STORED) return false;
      throw unexpected(token ? 'SET with CAS' : 'ADD', status);
    },
    async remove(key, cas) {
      const token = Buffer.isBuffer(cas) ? cas : undefined;
      const response = await send(OP_DELETE, key, Buffer.alloc(0), Buffer.alloc(0), token);
      const { status } = response.header;
      if (status === STATUS_OK) return true;
      if (status === STATUS_EXISTS || status === STATUS_NOT_FOUND) return false;
      throw unexpected('DELETE with CAS', status);
    },
  };
}
