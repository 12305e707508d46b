/**
 * How planning a record fails: a reason and the field to fix, thrown inside the planner and
 * turned into an `InvalidRecordError` for that one record.
 *
 * @module
 */

/** Why a record could not be planned. */
export interface Failure {
  readonly reason: string;
  readonly field?: string;
  readonly cause?: unknown;
}

/** What a decoder had read before it failed, so the error can still name the record. */
export interface KnownFacts {
  readonly sequenceNumber?: string;
  readonly approximateCreationDateTime?: number;
}

/** Thrown by decoders and strategies; caught per record by the planner. */
export class PlanFailure extends Error {
  constructor(
    readonly failure: Failure,
    readonly known: KnownFacts = {},
  ) {
    super(failure.reason);
  }
}

/** Fail planning the current record. */
export function fail(reason: string, field?: string, cause?: unknown): never {
  throw new PlanFailure({ reason, field, cause });
}

/** What to tell the user when a rule needs an image the stream view does not carry. */
export function viewHint(view: string | undefined, side: 'old' | 'new'): string {
  const needed = side === 'new' ? 'NewImage' : 'OldImage';
  return `the record has no ${needed} (StreamViewType ${view ?? 'unknown'}); set the table's stream to NEW_AND_OLD_IMAGES or use a rule that needs only key attributes`;
}
