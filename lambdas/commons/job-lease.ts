/**
 * A lease that lets one run of a scheduled job at a time do its work, held as an item of the
 * job-leases table (schemas/resources.ts) and taken with a conditional write: the item does not
 * exist, or its lease has run out. A run that cannot take it skips its work. A lease runs out on
 * its own (`until`), so a run killed before it lets go (a Lambda timeout) blocks the job only until
 * then; the lease is set to outlast the longest run (its Lambda's timeout), so no live run loses it.
 * This replaces reserved concurrency 1, which an account can only grant while it keeps 100
 * unreserved concurrent executions ("UnreservedConcurrentExecution below its minimum value").
 */
import { DeleteItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { unlessConditionFails } from './dynamo-conditions';

export interface JobLease {
  /** Lets go of the lease, if this run still holds it. */
  release(): Promise<void>;
}

/** DynamoDB TTL deletes expired leases some time after they run out (the condition does not wait for it). */
const TTL_GRACE_SECONDS = 24 * 3600;

/**
 * Takes `job`'s lease for `holder` until `untilMs` (epoch ms), or answers undefined when another
 * holder has it and it has not run out at `nowMs`.
 */
export async function takeJobLease(
  db: DynamoDBClient,
  table: string,
  lease: { job: string; holder: string; nowMs: number; untilMs: number },
): Promise<JobLease | undefined> {
  const taken = await unlessConditionFails(
    db.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          job: { S: lease.job },
          holder: { S: lease.holder },
          until_ms: { N: String(lease.untilMs) },
          expires_at: { N: String(Math.ceil(lease.untilMs / 1000) + TTL_GRACE_SECONDS) },
        },
        ConditionExpression: 'attribute_not_exists(job) OR until_ms < :now',
        ExpressionAttributeValues: { ':now': { N: String(lease.nowMs) } },
      }),
    ),
  );
  if (!taken) return undefined;
  return {
    release: async () => {
      await unlessConditionFails(
        db.send(
          new DeleteItemCommand({
            TableName: table,
            Key: { job: { S: lease.job } },
            ConditionExpression: 'holder = :holder',
            ExpressionAttributeValues: { ':holder': { S: lease.holder } },
          }),
        ),
      );
    },
  };
}
