/**
 * Redis Cluster key slots, per the Redis Cluster specification: `CRC16(key) mod 16384`, with
 * CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0) over the key's UTF-8 bytes, and hash
 * tags: when the key has a `{` followed later by a `}` with at least one byte between them, only
 * the bytes between the first `{` and the first `}` after it are hashed.
 *
 * @module
 */

/** Number of hash slots in a Redis Cluster. */
export const SLOT_COUNT = 16_384;

const TABLE = ((): Uint16Array => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

/** CRC16-CCITT (XMODEM) of `bytes`; `crc16(utf8('123456789')) === 0x31c3`. */
export function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ byte) & 0xff] ?? 0);
  return crc;
}

const OPEN = 0x7b; // '{'
const CLOSE = 0x7d; // '}'

/** The part of `key` Redis hashes: the hash tag if there is a non-empty one, else the whole key. */
export function hashedPart(key: Uint8Array): Uint8Array {
  const open = key.indexOf(OPEN);
  if (open === -1) return key;
  const close = key.indexOf(CLOSE, open + 1);
  // "{}" (empty tag) or no closing brace: the whole key is hashed.
  if (close === -1 || close === open + 1) return key;
  return key.subarray(open + 1, close);
}

const encoder = new TextEncoder();

/** The cluster hash slot (0..16383) of `key`, as `CLUSTER KEYSLOT` computes it. */
export function keySlot(key: string): number {
  return crc16(hashedPart(encoder.encode(key))) % SLOT_COUNT;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * True when ioredis may route `key` to another slot than the one the server hashes it to
 * ({@link keySlot}). ioredis uses `cluster-key-slot`, which departs from the specification in two
 * cases: it encodes a lone UTF-16 surrogate as CESU-8 bytes (ED A0 80; the wire carries U+FFFD's
 * EF BF BD), and after an empty first tag (`{}`) it hashes up to the next `}` (`a{}}` → the slot
 * of the empty string) where the server hashes the whole key. Such a key cannot share a pipeline
 * with other keys: ioredis checks a cluster pipeline's keys against its own slot view, so it may
 * reject the pipeline or send it to the wrong node. Conservative: a lone surrogate outside the
 * hashed part also counts.
 */
export function clientMayMisroute(key: string): boolean {
  const open = key.indexOf('{');
  if (open !== -1 && key.charCodeAt(open + 1) === CLOSE && key.indexOf('}', open + 2) !== -1) return true;
  return LONE_SURROGATE.test(key);
}
