import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cleanError } from '../../src/adapters/redis/clean-error.js';
import { CacheUnavailableError } from '../../src/errors.js';

/** An error reply as ioredis raises it: the answered command and its arguments attached. */
function replyError(message: string, args: string[]): Error {
  const error = new Error(message);
  error.name = 'ReplyError';
  return Object.assign(error, { command: { name: 'hello', args } });
}

describe('cleanError', () => {
  it('keeps name, message and stack, drops the command and its arguments', () => {
    const raw = replyError('WRONGPASS invalid username-password pair', ['3', 'AUTH', 'app', 'hunter2-secret']);
    expect(inspect(raw, { depth: 5 })).toContain('hunter2-secret'); // what ioredis hands out
    const clean = cleanError(raw);
    expect(clean).toMatchObject({ name: 'ReplyError', message: 'WRONGPASS invalid username-password pair' });
    expect(clean.stack).toBe(raw.stack);
    expect(Object.keys(clean)).toEqual([]);
    expect(inspect(clean, { depth: 5 })).not.toContain('hunter2-secret');
  });

  it('keeps a string or numeric code (ECONNREFUSED), nothing else a client attached', () => {
    const raw = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED', address: '127.0.0.1', options: { password: 'p' } });
    const clean = cleanError(raw);
    expect(clean).toMatchObject({ code: 'ECONNREFUSED' });
    expect(Object.keys(clean)).toEqual(['code']);
  });

  it('cleans causes, and the node error behind a cluster-wide failure, as its cause', () => {
    const node = replyError('NOPERM this user has no permissions to access one of the keys', ['user:1', '{"email":"a@b.example"}']);
    const all = Object.assign(new Error('Failed to refresh slots cache.'), { lastNodeError: node });
    const clean = cleanError(all);
    expect(clean.cause).toMatchObject({ name: 'ReplyError', message: node.message });
    expect(inspect(clean, { depth: 10 })).not.toContain('a@b.example');
    const wrapped = cleanError(new Error('outer', { cause: node }));
    expect(inspect(wrapped, { depth: 10 })).not.toContain('a@b.example');
  });

  it('bounds the depth of a cause chain', () => {
    let error = new Error('0');
    for (let i = 1; i < 50; i++) error = new Error(String(i), { cause: error });
    let depth = 0;
    for (let current: unknown = cleanError(error); current instanceof Error; current = current.cause) depth++;
    expect(depth).toBeLessThanOrEqual(5);
  });

  it('names the parts of an AggregateError with an empty message (a connect to several addresses)', () => {
    const raw = new AggregateError([new Error('connect ECONNREFUSED ::1:6379'), new Error('connect ECONNREFUSED 127.0.0.1:6379')], '');
    expect(cleanError(raw).message).toBe('connect ECONNREFUSED ::1:6379; connect ECONNREFUSED 127.0.0.1:6379');
  });

  it("returns the library's own errors unchanged and wraps non-errors without printing them", () => {
    const own = new CacheUnavailableError('down', { adapter: 'redis' });
    expect(cleanError(own)).toBe(own);
    expect(cleanError('plain text').message).toBe('plain text');
    expect(cleanError({ password: 'p' }).message).toBe('non-error value thrown: object');
  });
});
