/**
 * How Lambda's event source mapping reads a handler's answer for a stream batch when
 * `ReportBatchItemFailures` is on. Pure; shared by the local stream runner and its tests.
 *
 * The AWS rules:
 * - success: no response, an empty response, or a null/empty `batchItemFailures` list;
 * - complete failure: an `itemIdentifier` that is null, empty or not a sequence number of the batch
 *   (so the whole batch is retried);
 * - otherwise the record with the lowest reported sequence number becomes the checkpoint: records
 *   before it are done and the next invocation starts at it.
 *
 * @module
 */
import type { DynamoDBRecord } from 'aws-lambda';

/** What the event source mapping does after an invocation. */
export type BatchOutcome =
  | { readonly kind: 'success' }
  /** Records before `checkpoint` (an index into the batch) are done; retry from it. */
  | { readonly kind: 'partial'; readonly checkpoint: number; readonly itemIdentifier: string }
  /** Retry the whole batch. */
  | { readonly kind: 'failure'; readonly reason: string; readonly error?: unknown };

/**
 * Interpret a handler's return value for `batch`.
 *
 * @example
 * ```ts
 * interpretBatchResponse(batch, { batchItemFailures: [{ itemIdentifier: batch[3].dynamodb.SequenceNumber }] });
 * // { kind: 'partial', checkpoint: 3, itemIdentifier: '...' }
 * ```
 */
export function interpretBatchResponse(batch: readonly DynamoDBRecord[], response: unknown): BatchOutcome {
  if (response === undefined || response === null || typeof response !== 'object') return { kind: 'success' };
  const failures: unknown = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'success' };
  if (!Array.isArray(failures)) {
    return { kind: 'failure', reason: 'batchItemFailures is not an array, so Lambda treats the whole batch as failed' };
  }
  if (failures.length === 0) return { kind: 'success' };

  const positions = new Map<string, number>();
  batch.forEach((record, index) => {
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    if (sequenceNumber !== undefined && !positions.has(sequenceNumber)) positions.set(sequenceNumber, index);
  });

  let checkpoint: number | undefined;
  let itemIdentifier = '';
  for (const failure of failures) {
    const id: unknown = typeof failure === 'object' && failure !== null ? (failure as { itemIdentifier?: unknown }).itemIdentifier : undefined;
    if (typeof id !== 'string' || id === '') {
      return {
        kind: 'failure',
        reason: `batchItemFailures has an entry without an itemIdentifier (${JSON.stringify(failure) ?? String(failure)}), so Lambda treats the whole batch as failed`,
      };
    }
    const index = positions.get(id);
    if (index === undefined) {
      return {
        kind: 'failure',
        reason: `itemIdentifier ${JSON.stringify(id)} is not the SequenceNumber of a record in this batch, so the whole batch is treated as failed`,
      };
    }
    // Records in a shard batch are in sequence order, so the lowest index is the lowest sequence number.
    if (checkpoint === undefined || index < checkpoint) {
      checkpoint = index;
      itemIdentifier = id;
    }
  }
  return checkpoint === undefined ? { kind: 'success' } : { kind: 'partial', checkpoint, itemIdentifier };
}
