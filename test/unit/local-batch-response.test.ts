import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { interpretBatchResponse } from '../../src/local/batch-response.js';

const batch: DynamoDBRecord[] = ['100', '200', '300', '400'].map((seq) => ({
  eventName: 'INSERT',
  dynamodb: { SequenceNumber: seq, Keys: { pk: { S: `k${seq}` } } },
}));

describe('interpretBatchResponse (Lambda ReportBatchItemFailures rules)', () => {
  it.each([
    ['no response', undefined],
    ['null response', null],
    ['an empty response', {}],
    ['a null list', { batchItemFailures: null }],
    ['an empty list', { batchItemFailures: [] }],
  ])('treats %s as complete success', (_label, response) => {
    expect(interpretBatchResponse(batch, response)).toEqual({ kind: 'success' });
  });

  it('checkpoints at the lowest reported sequence number, whatever the order reported', () => {
    expect(interpretBatchResponse(batch, { batchItemFailures: [{ itemIdentifier: '400' }, { itemIdentifier: '200' }] })).toEqual({
      kind: 'partial',
      checkpoint: 1,
      itemIdentifier: '200',
    });
  });

  it.each([
    ['an empty itemIdentifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['a null itemIdentifier', { batchItemFailures: [{ itemIdentifier: null }] }],
    ['a misspelt key', { batchItemFailures: [{ itemIdentifer: '200' }] }],
    ['an identifier not in the batch', { batchItemFailures: [{ itemIdentifier: '999' }] }],
    ['one bad entry among good ones', { batchItemFailures: [{ itemIdentifier: '300' }, { itemIdentifier: '' }] }],
    ['a list that is not an array', { batchItemFailures: { itemIdentifier: '200' } }],
  ])('treats %s as failure of the whole batch', (_label, response) => {
    expect(interpretBatchResponse(batch, response).kind).toBe('failure');
  });

  it('reports the first record as checkpoint 0 (retry everything, but not an error)', () => {
    expect(interpretBatchResponse(batch, { batchItemFailures: [{ itemIdentifier: '100' }] })).toEqual({
      kind: 'partial',
      checkpoint: 0,
      itemIdentifier: '100',
    });
  });
});
