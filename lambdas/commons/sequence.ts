/**
 * Kinesis sequence numbers as fences. They are decimal strings of up to ~56 digits, beyond what a
 * DynamoDB number holds, so they are stored zero-padded to a fixed width: then string order is
 * numeric order, in code and in DynamoDB condition expressions alike.
 */
const WIDTH = 64;

export function fence(sequenceNumber: string): string {
  if (!/^\d+$/.test(sequenceNumber) || sequenceNumber.length > WIDTH) {
    throw new Error(`not a Kinesis sequence number: ${sequenceNumber}`);
  }
  return sequenceNumber.padStart(WIDTH, '0');
}

/** The shard id from a Lambda Kinesis record's eventID ("shardId-000000000000:4954..."). */
export function shardOf(eventID: string): string {
  const colon = eventID.indexOf(':');
  if (colon <= 0) throw new Error(`unexpected Kinesis eventID: ${eventID}`);
  return eventID.slice(0, colon);
}
