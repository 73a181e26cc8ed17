/**
 * Unit tests for local/aws-dead-letters.ts: reading `cdk deploy --outputs-file`, the environment
 * handler code gets from it, and peeking at or receiving letters from an SQS queue (an in-memory
 * queue answering ReceiveMessage and DeleteMessage as SQS does).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { deleteLetter, deployedEnvironment, readStackOutputs, receiveLetters } from '../../local/aws-dead-letters';
import { aggregatesFeed, aggregatesFeedOn, feedOutput, resourceOutputs, streams, tables } from '../../schemas/resources';

const outputsFile = (content: unknown) => {
  const file = join(mkdtempSync(join(tmpdir(), 'sdp-outputs-')), 'cdk-outputs.json');
  writeFileSync(file, JSON.stringify(content));
  return file;
};

describe('stack outputs', () => {
  const complete = Object.fromEntries(Object.keys(resourceOutputs).map((k) => [k, `name-of-${k}`]));

  it('reads the only stack of an outputs file, or the one named', () => {
    expect(readStackOutputs(outputsFile({ SdpStack: { A: '1' } }))).toEqual({ A: '1' });
    expect(readStackOutputs(outputsFile({ One: { A: '1' }, Two: { A: '2' } }), 'Two')).toEqual({ A: '2' });
    expect(() => readStackOutputs(outputsFile({ One: {}, Two: {} }))).toThrow(/holds the outputs of 2 stacks \(One, Two\); name one with --stack/);
    expect(() => readStackOutputs(outputsFile({ One: {} }), 'Three')).toThrow(/no outputs of a stack Three/);
    expect(() => readStackOutputs('/no/such/file.json')).toThrow(/cannot read the stack outputs \/no\/such\/file\.json \(write them with npx cdk deploy --outputs-file/);
  });

  it('gives handler code the deployed names under the variables it reads', () => {
    const env = deployedEnvironment(complete);
    expect(env[tables.aggregatorJournal.env]).toBe('name-of-AggregatorJournalTableName');
    expect(Object.keys(env)).toHaveLength(Object.keys(resourceOutputs).length);
    const { TxStateTableName: _omitted, ...partial } = complete;
    expect(() => deployedEnvironment(partial)).toThrow(/lack TxStateTableName: redeploy/);
  });

  it('tells handler code that a stack deployed without the aggregates feed has none, and needs no name for it', () => {
    const { AggregatesStreamName: _none, ...withoutFeed } = complete;
    const env = deployedEnvironment({ ...withoutFeed, [feedOutput.key]: aggregatesFeed.off });
    expect(env[feedOutput.env]).toBe(aggregatesFeed.off);
    expect(aggregatesFeedOn(env)).toBe(false);
    expect(env[streams.aggregates.env]).toBeUndefined();
    expect(aggregatesFeedOn(deployedEnvironment({ ...complete, [feedOutput.key]: 'on' }))).toBe(true);
    // A stack older than the option has the stream and no AggregatesFeed output.
    expect(aggregatesFeedOn(deployedEnvironment(complete))).toBe(true);
    expect(() => deployedEnvironment(withoutFeed)).toThrow(/lack AggregatesStreamName: redeploy/);
  });
});

/** An SQS queue in memory: received messages are hidden for their visibility timeout (0: not at all). */
class MemoryQueue {
  private messages: { id: string; body: string; hiddenUntil: number; receipt?: string }[] = [];
  private receipts = 0;
  add(body: unknown): void {
    this.messages.push({ id: `m${this.messages.length}`, body: JSON.stringify(body), hiddenUntil: 0 });
  }
  get size() {
    return this.messages.length;
  }
  async send(command: unknown): Promise<unknown> {
    if (command instanceof ReceiveMessageCommand) {
      const now = Date.now();
      const visible = this.messages.filter((m) => m.hiddenUntil <= now).slice(0, command.input.MaxNumberOfMessages ?? 1);
      for (const m of visible) {
        m.hiddenUntil = now + (command.input.VisibilityTimeout ?? 30) * 1000;
        m.receipt = `r${++this.receipts}`;
      }
      return { Messages: visible.map((m) => ({ MessageId: m.id, ReceiptHandle: m.receipt, Body: m.body })) };
    }
    if (command instanceof ChangeMessageVisibilityCommand) {
      const m = this.messages.find((x) => x.receipt === command.input.ReceiptHandle)!;
      m.hiddenUntil = Date.now() + command.input.VisibilityTimeout! * 1000;
      return {};
    }
    if (command instanceof DeleteMessageCommand) {
      this.messages = this.messages.filter((m) => m.receipt !== command.input.ReceiptHandle);
      return {};
    }
    throw new Error('unexpected command');
  }
}

describe('dead-letter queues', () => {
  const record = (n: number) => ({ timestamp: `2026-01-01T00:00:0${n}Z`, KinesisBatchInfo: { shardId: 'shardId-000000000000', startSequenceNumber: `${n}0`, endSequenceNumber: `${n}9`, batchSize: 10 } });

  it('lists every letter, however many rounds it takes, and leaves them visible', async () => {
    const queue = new MemoryQueue();
    for (let i = 0; i < 25; i++) queue.add(record(i % 10));
    const letters = await receiveLetters(queue, 'url', 'aggregator', { visibilitySeconds: 30, release: true });
    expect(letters).toHaveLength(25);
    expect(letters[3]).toEqual(expect.objectContaining({ consumer: 'aggregator', letter: expect.objectContaining({ KinesisBatchInfo: expect.objectContaining({ startSequenceNumber: '30' }) }) }));
    expect(await receiveLetters(queue, 'url', 'aggregator', { visibilitySeconds: 30, release: true })).toHaveLength(25);
  });

  it('receives letters for replay, hidden from other readers, and deletes one once replayed', async () => {
    const queue = new MemoryQueue();
    queue.add(record(1));
    queue.add(record(2));
    const letters = await receiveLetters(queue, 'url', 'lake-writer', { visibilitySeconds: 300, release: false });
    expect(letters).toHaveLength(2);
    expect(await receiveLetters(queue, 'url', 'lake-writer', { visibilitySeconds: 300, release: false })).toHaveLength(0);
    await deleteLetter(queue, 'url', letters[0]);
    expect(queue.size).toBe(1);
  });
});
