/** Dead letters: written atomically per batch, listed across consumers oldest first. */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { DeadLetterStore, deadLetterSummaries, listDeadLetters, markRedriven, type DeadLetter } from '../../local/dead-letters';

function letter(timestamp: string, shardId: string): DeadLetter {
  return {
    version: '1.0',
    timestamp,
    requestContext: { requestId: 'r', functionArn: 'arn', condition: 'RetryAttemptsExhausted', approximateInvokeCount: 11 },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'boom' },
    KinesisBatchInfo: { shardId, startSequenceNumber: '1', endSequenceNumber: '2', approximateArrivalOfFirstRecord: timestamp, approximateArrivalOfLastRecord: timestamp, batchSize: 2, streamArn: 'arn' },
    records: [],
  };
}

it('lists every consumer’s dead letters, oldest first, and leaves no temporary files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdp-dlq-'));
  expect(listDeadLetters(dir)).toEqual([]);
  new DeadLetterStore(dir, 'aggregator').put(letter('2026-11-21T10:00:02.000Z', 'shardId-000000000001'));
  new DeadLetterStore(dir, 'lake-writer-events').put(letter('2026-11-21T10:00:01.000Z', 'shardId-000000000000'));
  const listed = listDeadLetters(dir);
  expect(listed.map((l) => [l.consumer, l.letter.KinesisBatchInfo.shardId])).toEqual([
    ['lake-writer-events', 'shardId-000000000000'],
    ['aggregator', 'shardId-000000000001'],
  ]);
  expect(readdirSync(join(dir, 'dlq', 'aggregator')).every((f) => f.endsWith('.json'))).toBe(true);
});

it('summarizes letters without their records, and no longer lists a letter set aside after its redrive', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdp-dlq-'));
  const store = new DeadLetterStore(dir, 'aggregator');
  const first = store.put(letter('2026-11-21T10:00:01.000Z', 'shardId-000000000000'));
  store.put(letter('2026-11-21T10:00:02.000Z', 'shardId-000000000001'));
  const summaries = deadLetterSummaries(dir);
  expect(summaries.map((s) => s.letter.KinesisBatchInfo.shardId)).toEqual(['shardId-000000000000', 'shardId-000000000001']);
  expect(summaries.every((s) => !('records' in s.letter))).toBe(true);
  const moved = markRedriven(first);
  expect(moved).toBe(join(dir, 'dlq', 'aggregator', 'redriven', basename(first)));
  expect(deadLetterSummaries(dir).map((s) => s.file)).toEqual([summaries[1].file]);
  expect(listDeadLetters(dir).map((l) => l.file)).toEqual([summaries[1].file]);
});
