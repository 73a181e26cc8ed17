/** Conditional DynamoDB writes whose failed condition is an answer, not an error. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/** Resolves with the call's output, or undefined when DynamoDB refused it because its condition did not hold. */
export async function unlessConditionFails<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return undefined;
    throw err;
  }
}
