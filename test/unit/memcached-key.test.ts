import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MEMCACHED_MAX_KEY_BYTES, memcachedKey } from '../../src/adapters/memcached/index.js';

const SAFE = /^[\x21-\x7e]+$/;
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

describe('memcachedKey', () => {
  it('passes printable ASCII keys of up to 250 bytes through unchanged', () => {
    for (const key of ['user:42', 'USER#123|SK#profile', 'a~b', '~', 'x'.repeat(250), '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}']) {
      expect(memcachedKey(key)).toBe(key);
    }
  });

  it('hashes a 251-byte ASCII key to at most 250 bytes, keeping the first 200 characters readable', () => {
    const key = `${'p'.repeat(200)}${'q'.repeat(51)}`;
    const mapped = memcachedKey(key);
    expect(mapped).not.toBe(key);
    expect(bytes(mapped)).toBeLessThanOrEqual(MEMCACHED_MAX_KEY_BYTES);
    expect(mapped.startsWith(`${'p'.repeat(200)}~~`)).toBe(true);
  });

  it('hashes keys with spaces, control characters and DEL, replacing each by _ in the prefix', () => {
    for (const [key, prefix] of [
      ['a b', 'a_b'],
      ['tab\there', 'tab_here'],
      ['line\r\nbreak', 'line__break'],
      ['nul\u0000', 'nul_'],
      ['del\u007f', 'del_'],
    ] as const) {
      const mapped = memcachedKey(key);
      expect(mapped.startsWith(`${prefix}~~`)).toBe(true);
      expect(mapped).toMatch(SAFE);
    }
  });

  it('hashes non-ASCII keys, one _ per code point', () => {
    expect(memcachedKey('user:Zoë Smith')).toBe('user:Zo__Smith~~DsP_Y6HK2E7cCcXHY5HEd2YJR0rHdUBk2GZlQk533JY');
    expect(memcachedKey('k🔑')).toMatch(/^k_~~[A-Za-z0-9_-]{43}$/);
  });

  it('follows the documented rule exactly (vectors computed with Python hashlib)', () => {
    expect(memcachedKey('')).toBe('~~47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU');
    expect(memcachedKey('a b')).toBe('a_b~~yGh6CKpdbtIEQyj6aml6uOltw0KR6MIDSujDjm_MbWU');
  });

  it('hashes at the multi-byte boundary: 250 characters but 251 bytes', () => {
    const key = `${'a'.repeat(249)}é`;
    expect(key.length).toBe(250);
    expect(bytes(key)).toBe(251);
    const mapped = memcachedKey(key);
    expect(bytes(mapped)).toBeLessThanOrEqual(250);
    expect(mapped).toMatch(SAFE);
  });

  it('keeps the prefix at 200 code points for long keys of astral characters', () => {
    const mapped = memcachedKey('🍰'.repeat(300));
    expect(mapped).toMatch(/^_{200}~~[A-Za-z0-9_-]{43}$/);
  });

  it('hashes keys that contain ~~, so a passed-through key never equals a hashed one', () => {
    const hashed = memcachedKey('a b');
    expect(memcachedKey(hashed)).not.toBe(hashed);
    expect(memcachedKey('x~~y')).not.toBe('x~~y');
  });

  it('always yields 1 to 250 bytes of printable ASCII', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (key) => {
        const mapped = memcachedKey(key);
        return SAFE.test(mapped) && bytes(mapped) <= 250;
      }),
      { numRuns: 2_000 },
    );
  });

  it('maps different well-formed keys to different keys', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 300 }), (a, b) => {
        fc.pre(a !== b);
        return memcachedKey(a) !== memcachedKey(b);
      }),
      { numRuns: 2_000 },
    );
    // Keys differing only after the 200-character prefix still differ.
    const base = 'x'.repeat(260);
    expect(memcachedKey(`${base}1`)).not.toBe(memcachedKey(`${base}2`));
  });
});
