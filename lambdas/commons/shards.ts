/** A Kinesis stream's shards, open and closed, as ListShards gives them page by page. */
import { ListShardsCommand, type KinesisClient, type Shard } from '@aws-sdk/client-kinesis';

export async function listShards(kinesis: Pick<KinesisClient, 'send'>, streamName: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let next: string | undefined;
  do {
    const out = await kinesis.send(new ListShardsCommand(next ? { NextToken: next } : { StreamName: streamName }));
    shards.push(...(out.Shards ?? []));
    next = out.NextToken;
  } while (next);
  return shards;
}

/** A shard still takes new records until a reshard closes it (it then has an ending sequence number). */
export function isOpen(shard: Shard): boolean {
  return shard.SequenceNumberRange?.EndingSequenceNumber === undefined;
}
