/**
 * Validation of the state files a local platform reads at start (local/state-check.ts and the
 * parsers it uses): what is refused, with one line naming the file and the recovery, and what is
 * recovered from.
 */
import { mkdirSync, mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointStore, parseCheckpoints, SHARD_END } from '../../local/checkpoints';
import { parseDeadLetter } from '../../local/dead-letters';
import { jobRuns } from '../../local/jobs';
import { checkStateFiles } from '../../local/state-check';
import { StateError } from '../../local/state-error';
import { parseCurrentModel } from '../../lambdas/commons/model-registry';

const SEQ = '49680850282700953371039114701942140633632235254051766274';
const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(StateError);
    return (err as Error).message;
  }
  throw new Error('not refused');
};

describe('checkpoint files', () => {
  it('accepts an object of shard id to sequence number or SHARD_END', () => {
    expect(parseCheckpoints('f', JSON.stringify({ 'shardId-000000000000': SEQ, 'shardId-000000000001': SHARD_END }))).toEqual({ 'shardId-000000000000': SEQ, 'shardId-000000000001': SHARD_END });
    expect(parseCheckpoints('f', '{}')).toEqual({});
  });

  it.each([
    ['garbage', '\u0000\u00ff\n{{', /^f: not valid JSON \(.*\); delete f to have the consumer re-read its stream/],
    ['truncated', `{"shardId-000000000000":"${SEQ.slice(0, 20)}`, /^f: not valid JSON/],
    ['a JSON string', '"x"', /^f: holds "x", not an object of shard id to sequence number; delete f/],
    ['an array', '[]', /^f: holds an array/],
    ['null', 'null', /^f: holds null/],
    ['a number as position', '{"shardId-000000000000":12}', /the position of shardId-000000000000, 12, is neither a sequence number nor SHARD_END/],
    ['a word as position', '{"shardId-000000000000":"x"}', /the position of shardId-000000000000, "x", is neither/],
    ['a negative position', '{"shardId-000000000000":"-1"}', /is neither/],
    ['a position of 130 digits', `{"shardId-000000000000":"1${'0'.repeat(129)}"}`, /is neither/],
    ['a key that is not a shard id', `{"__proto__x":"${SEQ}"}`, /"__proto__x" is not a shard id/],
  ])('refuses %s, in one line naming the file', (_what, text, message) => {
    const line = refusal(() => parseCheckpoints('f', text));
    expect(line).toMatch(message);
    expect(line).not.toContain('\n');
  });

  it('a missing file is no checkpoint (the consumer reads from TRIM_HORIZON); a damaged one refuses the store', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdp-state-'));
    expect(new CheckpointStore(dir, 'aggregator').all()).toEqual({});
    writeFileSync(join(dir, 'checkpoints', 'aggregator.json'), '"x"');
    expect(refusal(() => new CheckpointStore(dir, 'aggregator'))).toContain(join(dir, 'checkpoints', 'aggregator.json'));
  });
});

describe('dead letters', () => {
  const letter = {
    timestamp: '2026-12-05T00:00:00.000Z',
    KinesisBatchInfo: { shardId: 'shardId-000000000000', startSequenceNumber: '1' },
    records: [{ kinesis: { data: 'e30=', sequenceNumber: '1' } }],
  };
  it('reads a letter, and refuses one that is not JSON or not a letter', () => {
    expect(parseDeadLetter('l.json', JSON.stringify(letter)).records).toHaveLength(1);
    expect(refusal(() => parseDeadLetter('/d/dlq/aggregator/l.json', '{"time'))).toMatch(/^\/d\/dlq\/aggregator\/l.json: the dead letter is not valid JSON .*; restore it from a backup, or move it out of \/d\/dlq\/aggregator/);
    expect(refusal(() => parseDeadLetter('l.json', '"x"'))).toMatch(/not a dead letter/);
    expect(refusal(() => parseDeadLetter('l.json', JSON.stringify({ ...letter, records: [{}] })))).toMatch(/a record of the dead letter has no kinesis data/);
  });
});

describe('job runs', () => {
  it('leaves out lines that are not runs, and the start warns about them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdp-state-'));
    mkdirSync(join(dir, 'jobs'));
    const run = { job: 'compaction', started_at: '2026-12-05T00:00:00Z', ended_at: '2026-12-05T00:00:01Z', trigger: 't', outcome: 'succeeded' };
    writeFileSync(join(dir, 'jobs', 'compaction.jsonl'), [JSON.stringify(run), '"x"', '{"job":"compaction"}', 'garbage', JSON.stringify({ ...run, started_at: 'yesterday' }), '{"job":"comp'].join('\n'));
    expect(jobRuns(dir, 'compaction')).toEqual([run]);
    expect(checkStateFiles(dir)).toEqual([expect.stringMatching(/compaction\.jsonl: left out 5 line\(s\) that are not job runs \(damaged\); 1 run\(s\) kept$/)]);
  });
});

describe('the files checked before the emulators start', () => {
  it('removes the last run’s outputs.json (it names that run’s ports) and refuses a damaged checkpoint or letter', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdp-state-'));
    writeFileSync(join(dir, 'outputs.json'), 'garbage');
    expect(checkStateFiles(dir)).toEqual([]);
    expect(existsSync(join(dir, 'outputs.json'))).toBe(false);
    mkdirSync(join(dir, 'dlq', 'aggregator'), { recursive: true });
    writeFileSync(join(dir, 'dlq', 'aggregator', 'a.json'), '');
    expect(refusal(() => checkStateFiles(dir))).toContain(join(dir, 'dlq', 'aggregator', 'a.json'));
    mkdirSync(join(dir, 'checkpoints'));
    writeFileSync(join(dir, 'checkpoints', 'lake-writer-events.json'), '{');
    expect(refusal(() => checkStateFiles(dir))).toContain(join(dir, 'checkpoints', 'lake-writer-events.json'));
  });
});

describe("the model registry's current model", () => {
  const record = { version: 'v1', createdAt: 'c', deployedAt: 'd', trainingRows: 1, holdoutRows: 1, trainingSeconds: 0, metrics: {}, decision: {} };
  it('is read when it is a record, and refused with what is wrong otherwise', () => {
    expect(parseCurrentModel(JSON.stringify(record)).version).toBe('v1');
    expect(() => parseCurrentModel('{"vers')).toThrow(/models\/current.json is not valid JSON/);
    expect(() => parseCurrentModel('"x"')).toThrow(/models\/current.json is not a deployed model's record \(no version, createdAt, deployedAt\)/);
    expect(() => parseCurrentModel(JSON.stringify({ ...record, metrics: undefined }))).toThrow(/no metrics or decision/);
  });
});
