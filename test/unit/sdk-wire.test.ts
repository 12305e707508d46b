import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { collectBody, wireItemOf, wireResponse } from '../../src/sdk/wire.js';

const text = (bytes: unknown) => Buffer.from(bytes as Uint8Array).toString('utf8');

describe('the read-through wire form', () => {
  it('collects a streamed response body, in chunks, into the same bytes', async () => {
    const body = Readable.from([Buffer.from('{"Item":{"pk":'), Buffer.from('{"S":"é"}}}')]);
    expect(text(await collectBody(body))).toBe('{"Item":{"pk":{"S":"é"}}}');
    expect(text(await collectBody('{}'))).toBe('{}');
    expect(await collectBody(undefined)).toEqual(new Uint8Array());
  });

  it('refuses a body it cannot read rather than answering an empty item', async () => {
    await expect(collectBody(42)).rejects.toThrow(/neither bytes nor a stream/);
  });

  it('answers a hit as the GetItem JSON DynamoDB sends, projected to the names asked for', () => {
    const item = { pk: { S: 'u1' }, big: { N: '12345678901234567890123456789012345678' }, b: { B: 'AAE=' } };
    const whole = wireResponse(item, undefined);
    expect(whole.statusCode).toBe(200);
    expect(wireItemOf(whole.body as Uint8Array)).toEqual(item);
    expect(wireItemOf(wireResponse(item, ['big', 'absent']).body as Uint8Array)).toEqual({ big: item.big });
  });

  it('answers "not found" with no Item', () => {
    expect(text(wireResponse(undefined, undefined).body)).toBe('{}');
    expect(wireItemOf(new TextEncoder().encode('{}'))).toBeUndefined();
  });
});
