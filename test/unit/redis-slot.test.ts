import fc from 'fast-check';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { clientMayMisroute, crc16, hashedPart, keySlot, SLOT_COUNT } from '../../src/adapters/redis/slot.js';

// ioredis's own slot function (its dependency), as an independent oracle for the property test.
const calculateSlot = createRequire(import.meta.url)('cluster-key-slot') as (key: string) => number;
const utf8 = (text: string) => new TextEncoder().encode(text);
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

// Keys rich in braces and surrogates, where slot functions go wrong.
const keys = fc
  .oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('{', '}', '{}', '{}}', '{a}', '}{'))
  .chain((a) => fc.tuple(fc.constant(a), fc.string({ unit: 'grapheme' })).map(([x, y]) => x + y));

describe('keySlot', () => {
  it('uses CRC16-CCITT (XMODEM): the check value of "123456789" is 0x31C3', () => {
    expect(crc16(utf8('123456789'))).toBe(0x31c3);
  });

  it('matches the slots the Redis documentation and servers give for known keys', () => {
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('bar')).toBe(5061);
    expect(keySlot('')).toBe(0);
  });

  it('hashes only the first non-empty hash tag', () => {
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    expect(text(hashedPart(utf8('foo{}{bar}')))).toBe('foo{}{bar}');
    expect(text(hashedPart(utf8('foo{{bar}}zap')))).toBe('{bar');
    expect(text(hashedPart(utf8('foo{bar}{zap}')))).toBe('bar');
    expect(text(hashedPart(utf8('foo{bar')))).toBe('foo{bar');
    expect(text(hashedPart(utf8('}{x}')))).toBe('x');
  });

  it('hashes a lone surrogate as the U+FFFD bytes a client sends, not as CESU-8 (cluster-key-slot does the latter)', () => {
    // ioredis writes keys with Buffer.from(key) (UTF-8, lone surrogates replaced by EF BF BD); the
    // server hashes those bytes. cluster-key-slot encodes a lone surrogate as ED A0 80, so it
    // disagrees here; the cluster integration test checks these keys against CLUSTER KEYSLOT.
    expect(keySlot('a\uD800b')).toBe(keySlot('a\uFFFDb'));
    expect(keySlot('a\uD800b')).toBe(crc16(Buffer.from('a\uD800b')) % SLOT_COUNT);
    expect(keySlot('a\uDC00')).toBe(keySlot('a\uFFFD'));
  });

  it('hashes the whole key when the first tag is empty, even if another "}" follows (cluster-key-slot returns the slot of the empty string)', () => {
    // Found by the property test below in CI (0.2.0): for "{}}" cluster-key-slot skips the empty
    // tag and hashes up to the second "}". The server hashes the whole key (the integration test
    // checks "{}}" against CLUSTER KEYSLOT).
    expect(keySlot('{}}')).toBe(crc16(utf8('{}}')) % SLOT_COUNT);
    expect(keySlot('{}}')).not.toBe(0);
  });

  it("agrees with the Redis Cluster specification's HASH_SLOT pseudo-code over the bytes a client sends", () => {
    fc.assert(
      fc.property(keys, (key) => {
        const slot = keySlot(key);
        expect(slot).toBeGreaterThanOrEqual(0);
        expect(slot).toBeLessThan(SLOT_COUNT);
        expect(slot).toBe(specSlot(Buffer.from(key)));
      }),
      { numRuns: 2_000 },
    );
  });

  it('agrees with ioredis (cluster-key-slot) wherever cluster-key-slot follows the specification', () => {
    fc.assert(
      fc.property(keys, (key) => {
        // Its two known departures are pinned above: lone surrogates, and an empty first tag.
        fc.pre(!LONE_SURROGATE.test(key) && !/^[^{]*\{\}/.test(key));
        expect(keySlot(key)).toBe(calculateSlot(key));
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('clientMayMisroute', () => {
  it('flags the keys for which ioredis (cluster-key-slot) computes another slot than the server', () => {
    for (const key of ['a{}}', '{}}', '{}a}b', 'x{}{y}', 'a\uD800b', '{\uDC00}x', 'k\uDBFF']) {
      expect(clientMayMisroute(key), JSON.stringify(key)).toBe(true);
    }
    expect(calculateSlot('a{}}')).toBe(0);
    expect(keySlot('a{}}')).not.toBe(0);
  });

  it('leaves ordinary, tagged, empty-tag-only and well-formed unicode keys alone', () => {
    for (const key of ['foo', '{user:1}:a', 'x{}', '{}x', 'a}{}', '🔑:1', 'ключ', '']) {
      expect(clientMayMisroute(key), JSON.stringify(key)).toBe(false);
      expect(calculateSlot(key)).toBe(keySlot(key));
    }
  });

  it('covers every key where ioredis and the server disagree (property, against cluster-key-slot)', () => {
    fc.assert(
      // Splice a lone surrogate or an empty tag into the brace-rich keys: the two quirks.
      fc.property(keys, fc.constantFrom('\uD800', '\uDBFF', '\uDC00', '\uDFFF', '{}', '}', ''), keys, (a, quirk, b) => {
        const key = a + quirk + b;
        if (!clientMayMisroute(key)) expect(calculateSlot(key)).toBe(keySlot(key));
      }),
      { numRuns: 5_000 },
    );
  });
});

/** The specification's pseudo-code, transcribed independently of src/: first "{", then the first "}" after it. */
function specSlot(bytes: Uint8Array): number {
  let s = 0;
  while (s < bytes.length && bytes[s] !== 0x7b) s++;
  if (s === bytes.length) return crc16(bytes) & 16383;
  let e = s + 1;
  while (e < bytes.length && bytes[e] !== 0x7d) e++;
  if (e === bytes.length || e === s + 1) return crc16(bytes) & 16383;
  return crc16(bytes.subarray(s + 1, e)) & 16383;
}
