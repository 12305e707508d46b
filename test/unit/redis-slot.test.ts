import fc from 'fast-check';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { crc16, hashedPart, keySlot, SLOT_COUNT } from '../../src/adapters/redis/slot.js';

// ioredis's own slot function (its dependency), as an independent oracle for the property test.
const calculateSlot = createRequire(import.meta.url)('cluster-key-slot') as (key: string) => number;
const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

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

  it('agrees with ioredis (cluster-key-slot) for any string, including braces and unicode', () => {
    fc.assert(
      fc.property(
        fc
          .oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('{', '}', '{}', '{a}', '}{'))
          .chain((a) => fc.tuple(fc.constant(a), fc.string({ unit: 'grapheme' })).map(([x, y]) => x + y)),
        (key) => {
          const slot = keySlot(key);
          expect(slot).toBeGreaterThanOrEqual(0);
          expect(slot).toBeLessThan(SLOT_COUNT);
          expect(slot).toBe(calculateSlot(key));
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
