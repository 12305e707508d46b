/**
 * The fused `json` encoder (bench/lib/fused-json.ts, an experiment kept with the bench) writes exactly the bytes of
 * `JSON.stringify` of the plain item, for any valid image.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeEvent } from '../../bench/lib/workload.js';
import { convertImage } from '../../src/core/attributes.js';
import { imageToJson } from '../../bench/lib/fused-json.js';
import type { AttributeMap } from '../../src/core/rules.js';
import { imageArb } from '../helpers/attribute-arbitraries.js';

/** A valid image, or undefined when the generator made a number DynamoDB refuses. */
function converted(image: AttributeMap) {
  try {
    return convertImage(image, 'NewImage');
  } catch {
    return undefined;
  }
}

describe('imageToJson', () => {
  it('is byte-identical to JSON.stringify of the plain item for random images (3,000 cases)', () => {
    let checked = 0;
    fc.assert(
      fc.property(imageArb, (image) => {
        const valid = converted(image);
        if (valid === undefined) return;
        checked++;
        expect(imageToJson(valid.raw)).toBe(JSON.stringify(valid.item));
      }),
      { numRuns: 3_000 },
    );
    // Most generated images are valid: the property was not vacuous.
    expect(checked).toBeGreaterThan(1_500);
  });

  it('matches on the benchmark workload images', () => {
    for (const record of makeEvent(200).Records) {
      const image = record.dynamodb?.NewImage ?? record.dynamodb?.OldImage;
      const valid = convertImage(image, 'NewImage');
      expect(imageToJson(valid.raw)).toBe(JSON.stringify(valid.item));
    }
  });
});
