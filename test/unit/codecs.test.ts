import { describe, expect, it } from 'vitest';
import { convertImage, exactNumber } from '../../src/core/attributes.js';
import { dynamodbCodec, jsonCodec } from '../../src/core/codecs.js';
import { planCommands } from '../../src/core/plan.js';

describe('exactNumber', () => {
  it.each([
    ['42', 42],
    ['-7', -7],
    ['1.5', 1.5],
    ['1.50', 1.5],
    ['0.1', 0.1],
    ['1e3', 1000],
    ['-0', 0],
    ['1E+125', 1e125],
    ['9007199254740991', 9007199254740991],
    ['-9007199254740991', -9007199254740991],
    ['9007199254740992', 9007199254740992],
    ['007', 7],
    ['-007', -7],
    ['0', 0],
    ['-000', 0],
  ])('keeps %s as the JS number %d because that is exact', (text, value) => {
    expect(exactNumber(text)).toBe(value);
  });

  it.each([
    '9007199254740993',
    '-9007199254740993',
    '00009007199254740993',
    '12345678901234567890123456789012345678',
    '0.10000000000000000001',
    '1.0000000000000001',
  ])('keeps %s as its decimal string because a JS number would round it', (text) => {
    expect(exactNumber(text)).toBe(text);
  });
});

describe('convertImage', () => {
  it('maps sets to arrays, binary to base64, and keeps the raw image normalized', () => {
    const { item, raw } = convertImage(
      {
        ss: { SS: ['a', 'b'] },
        ns: { NS: ['1', '18446744073709551617'] },
        b: { B: new Uint8Array([1, 2, 255]) },
        bs: { BS: ['AQI=', new Uint8Array([3])] },
        m: { M: { n: { NULL: true }, t: { BOOL: true }, l: { L: [{ S: 'x' }, { N: '2.25' }] } } },
      },
      'NewImage',
    );
    expect(item).toEqual({ ss: ['a', 'b'], ns: [1, '18446744073709551617'], b: 'AQL/', bs: ['AQI=', 'Aw=='], m: { n: null, t: true, l: ['x', 2.25] } });
    expect(raw['b']).toEqual({ B: 'AQL/' });
    expect(raw['bs']).toEqual({ BS: ['AQI=', 'Aw=='] });
  });
});

describe('codecs', () => {
  const record = {
    eventName: 'INSERT',
    dynamodb: {
      SequenceNumber: '1',
      Keys: { pk: { S: 'p' } },
      NewImage: { pk: { S: 'p' }, big: { N: '123456789012345678901234567890' }, tags: { SS: ['x'] }, bin: { B: 'AAE=' } },
    },
  };

  it('json stores the plain item and decodes with JSON.parse', () => {
    const [plan] = planCommands([record], [{ key: () => 'k', strategy: 'write-through' }]);
    const value = (plan?.commands[0] as { value: string }).value;
    expect(JSON.parse(value)).toEqual({ pk: 'p', big: '123456789012345678901234567890', tags: ['x'], bin: 'AAE=' });
    expect(jsonCodec.decode(value)).toEqual(JSON.parse(value));
  });

  it('dynamodb stores the AttributeValue image losslessly and decodes like the DocumentClient', () => {
    const [plan] = planCommands([record], [{ key: () => 'k', strategy: 'write-through', codec: 'dynamodb' }]);
    const value = (plan?.commands[0] as { value: string }).value;
    expect(JSON.parse(value)).toEqual(record.dynamodb.NewImage);
    const decoded = dynamodbCodec.decode(value) as Record<string, unknown>;
    expect(String(decoded['big'])).toBe('123456789012345678901234567890');
    expect(decoded['tags']).toEqual(new Set(['x']));
    expect(Buffer.from(decoded['bin'] as Uint8Array).toString('base64')).toBe('AAE=');
  });

  it('dynamodb codec respects the attributes projection', () => {
    const [plan] = planCommands([record], [{ key: () => 'k', strategy: 'write-through', codec: 'dynamodb', attributes: ['pk'] }]);
    expect((plan?.commands[0] as { value: string }).value).toBe('{"pk":{"S":"p"}}');
  });

  it('a custom codec receives the value and the raw image', () => {
    const [plan] = planCommands(
      [record],
      [
        {
          key: () => 'k',
          strategy: 'write-through',
          attributes: ['pk'],
          codec: { name: 'upper', encode: (v) => JSON.stringify(v).toUpperCase(), decode: (s) => s },
        },
      ],
    );
    expect((plan?.commands[0] as { value: string }).value).toBe('{"PK":"P"}');
  });
});

describe('error paths', () => {
  it('name plain attribute names but hide map keys that may be item data', () => {
    expect(() => convertImage({ address: { M: { zip: { N: 'x' } } } }, 'NewImage')).toThrow('NewImage.address.zip: N must be a decimal number string');
    let message = '';
    try {
      convertImage({ byEmail: { M: { 'ann@example.com': { N: 'x' } } } }, 'NewImage');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe('NewImage.byEmail.<name>: N must be a decimal number string');
  });
});
