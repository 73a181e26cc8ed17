/** Dead letters: written atomically per batch, listed across consumers oldest first. */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeadLetterStore, listDeadLetters, type DeadLetter } from '../../local/dead-letters';

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
