/**
 * fast-check arbitraries for DynamoDB images: every AttributeValue type, nested, with attribute
 * names that reorder (array indices) or that plain assignment mishandles (`__proto__`).
 */
import fc from 'fast-check';
import type { AttributeMap, AttributeValue } from '../../src/core/rules.js';

// Names that reorder (array indices come first in JS objects) or that plain assignment mishandles.
export const nameArb = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('__proto__', '0', '1', '10', '4294967295', '-1', '01', 'toJSON', 'constructor'));
const numberTextArb = fc.oneof(
  fc.integer().map(String),
  fc
    .double({ noNaN: true, noDefaultInfinity: true })
    .map((n) => String(n))
    .filter((s) => !s.includes('Infinity')),
  fc.constantFrom(
    '0',
    '-0',
    '0.0',
    '1.50',
    '123456789012345678901234567890',
    '1e-130',
    '9.9999999999999999999999999999999999999E+125',
    '+7',
    '.5',
    '5.',
    '0.1',
    '1E2',
    '-00012',
  ),
);
const base64Arb = fc.uint8Array({ maxLength: 8 }).map((bytes) => Buffer.from(bytes).toString('base64'));

export const { value: avArb } = fc.letrec<{ value: AttributeValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ unit: 'binary', maxLength: 8 }).map((S) => ({ S })),
    numberTextArb.map((N) => ({ N })),
    base64Arb.map((B) => ({ B })),
    fc.boolean().map((BOOL) => ({ BOOL })),
    fc.constant({ NULL: true }),
    fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }).map((SS) => ({ SS })),
    fc.array(numberTextArb, { maxLength: 3 }).map((NS) => ({ NS })),
    fc.array(base64Arb, { maxLength: 3 }).map((BS) => ({ BS })),
    fc.array(tie('value'), { maxLength: 3 }).map((L) => ({ L })),
    fc.array(fc.tuple(nameArb, tie('value')), { maxLength: 3 }).map((entries) => ({ M: mapOf(entries) })),
  ),
}));

/** An AttributeMap with own properties only (`__proto__` included), as JSON.parse builds it. */
function mapOf(entries: readonly (readonly [string, AttributeValue])[]): AttributeMap {
  const map: AttributeMap = {};
  for (const [name, value] of entries) Object.defineProperty(map, name, { value, enumerable: true, writable: true, configurable: true });
  return map;
}

export const imageArb = fc.array(fc.tuple(nameArb, avArb), { maxLength: 8 }).map(mapOf);
