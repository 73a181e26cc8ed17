/**
 * Checks a consumer's checkpoints against its stream before the consumer reads it: each must be a
 * position the stream has. A checkpoint the stream does not have means the stream's store was lost,
 * damaged or replaced by an older copy (or the file was edited); read on from there, the consumer
 * would fail on every poll (stalling) or skip the records the stream takes next (kinesalite numbers
 * new records from its stored counter, so an older store numbers them below the checkpoint).
 * Either way the start is refused with one line naming the file and the recovery.
 */
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient, type Shard } from '@aws-sdk/client-kinesis';
import { checkpointRecovery, SHARD_END, type CheckpointStore } from './checkpoints';
import { StateError } from './state-error';
import { isOpen, listShards } from '../lambdas/commons/shards';

/** Why the checkpoint `position` of `shardId` is not a position in the stream, or undefined when it is. */
async function positionProblem(kinesis: KinesisClient, streamName: string, shard: Shard | undefined, shardId: string, position: string): Promise<string | undefined> {
  if (!shard) return `names ${shardId}, a shard stream ${streamName} does not have (was the stream's store lost or replaced?)`;
  if (position === SHARD_END) return isOpen(shard) ? `marks ${shardId} as read to its end, but that shard is still open` : undefined;
  let iterator: string | undefined;
  try {
    // AT_SEQUENCE_NUMBER: "Start reading from the position denoted by a specific sequence number"
    // (Kinesis API Reference, GetShardIterator); the first record read is the checkpoint's own.
    const out = await kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: position }));
    iterator = out.ShardIterator;
  } catch (err) {
    return `holds ${position} for ${shardId}, which stream ${streamName} refuses (${(err as Error).message.split('\n')[0]})`;
  }
  const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1 }));
  // A later record than the checkpoint's is fine: the checkpoint's own was trimmed by retention, and
  // the consumer resumes after it. No record at all means the checkpoint is past the shard's last.
  if ((out.Records ?? []).length === 0) return `holds ${position} for ${shardId}, past the last record of that shard in stream ${streamName} (the stream's store is older than the checkpoint, or was lost)`;
  return undefined;
}

/** Throws a StateError naming the checkpoint file when one of its checkpoints is not a position in `streamName`. */
export async function checkPositions(kinesis: KinesisClient, streamName: string, checkpoints: CheckpointStore): Promise<void> {
  const positions = Object.entries(checkpoints.all());
  if (positions.length === 0) return;
  const shards = new Map((await listShards(kinesis, streamName)).map((s) => [s.ShardId!, s]));
  for (const [shardId, position] of positions) {
    const problem = await positionProblem(kinesis, streamName, shards.get(shardId), shardId, position);
    if (problem) throw new StateError(checkpoints.file, problem, checkpointRecovery(checkpoints.file));
  }
}
