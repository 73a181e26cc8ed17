// The README test's reading of console blocks and its matcher (test/support/readme.ts).
import { mismatch, readmeBlocks } from '../support/readme';

describe('readmeBlocks', () => {
  const md = [
    'Text.',
    '```console',
    '$ curl -s $API/x \\',
    "  -d '{}'",
    '{"accepted":1}',
    '$ true',
    "$ curl -d '[{\"a\":\"'\"$(date -u +%F)\"'\"},",
    "         {\"b\":2}]' # it's",
    '{"accepted":2}',
    '```',
    '<!-- readme-test: skip (needs AWS) -->',
    '',
    '```console',
    '$ cdk deploy',
    '```',
    '```sh',
    'echo hi',
    '```',
    '```',
    'raw/<table>/...',
    '```',
    '- item:',
    '  ```console',
    '  $ echo indented',
    '  indented',
    '  ```',
  ].join('\n');

  it('reads commands with their continuation lines and expected output, skips, shell and text blocks', () => {
    const blocks = readmeBlocks(md);
    expect(blocks.map((b) => [b.kind, b.line, 'skip' in b ? b.skip : undefined])).toEqual([
      ['console', 2, undefined],
      ['console', 13, 'needs AWS'],
      ['shell', 16, undefined],
      ['text', 19, undefined],
      ['console', 23, undefined],
    ]);
    const first = blocks[0] as Extract<(typeof blocks)[0], { kind: 'console' }>;
    expect(first.commands).toEqual([
      { text: "curl -s $API/x \\\n  -d '{}'", expected: ['{"accepted":1}'], line: 3 },
      { text: 'true', expected: [], line: 6 },
      { text: "curl -d '[{\"a\":\"'\"$(date -u +%F)\"'\"},\n         {\"b\":2}]' # it's", expected: ['{"accepted":2}'], line: 7 },
    ]);
    expect((blocks[4] as typeof first).commands).toEqual([{ text: 'echo indented', expected: ['indented'], line: 24 }]);
  });

  it('reads a file the README shows whole, with the path its marker names', () => {
    const blocks = readmeBlocks(['Write it:', '', '<!-- readme-test: file pipelines/x.ts -->', '```ts', "import { z } from 'zod';", '', 'export default 1;', '```', '```ts', 'not a file', '```'].join('\n'));
    expect(blocks).toEqual([
      { kind: 'file', line: 4, lang: 'ts', path: 'pipelines/x.ts', text: "import { z } from 'zod';\n\nexport default 1;\n" },
      { kind: 'text', line: 9, lang: 'ts' },
    ]);
  });

  it('refuses output before the first command', () => {
    expect(() => readmeBlocks('```console\noops\n```')).toThrow(/starts with a "\$ " command/);
  });
});

describe('mismatch', () => {
  it('text: lines, `...` lines and `...` in a line, spaces and dashes normalized', () => {
    const expected = ['sdp is running locally. Outputs:', '  UrlForAPI          http://127.0.0.1:3000/', '...', 'Ctrl-C stops it...'];
    expect(mismatch(expected, 'sdp is running locally. Outputs:\n  UrlForAPI   http://127.0.0.1:3000/\n  A b\n  C d\nCtrl-C stops it; a restart resumes.\n')).toBeUndefined();
    expect(mismatch(expected, 'sdp is running locally. Outputs:\n  UrlForAPI http://127.0.0.1:3001/\nCtrl-C stops it\n')).toMatch(/no output line matches: +UrlForAPI/);
    expect(mismatch(['type  n', '----  --', 'bid   3', '(1 row)'], 'type  n\n----  -----\nbid   3\n(1 row)\n')).toBeUndefined();
    expect(mismatch(['a'], 'a\nb\n')).toMatch(/lines the README does not show/);
    expect(mismatch([], '')).toBeUndefined();
    expect(mismatch([], '{"accepted":1}')).toBeDefined();
  });

  it('JSON: keys, types, values but times, and `...` for any value, more keys, more elements, any text', () => {
    const expected = ['{"campaign_item_id":42,"bids":3,"ctr":1,"win_rate":0.333333,', ' "periods":[{"period":1795305600,"period_start":"2026-11-21T05:00:00-05:00",...},...],"note":"m-...",...}'];
    const actual = { campaign_item_id: 42, bids: 3, ctr: 1, win_rate: 0.333333, periods: [{ period: 1796000000, period_start: '2026-12-05T07:00:00Z', bids: 3 }, { period: 1 }], note: 'm-123', extra: true };
    expect(mismatch(expected, JSON.stringify(actual))).toBeUndefined();
    expect(mismatch(expected, JSON.stringify({ ...actual, bids: 4 }))).toBe('$.bids: expected 3, got 4');
    expect(mismatch(expected, JSON.stringify({ ...actual, periods: [] }))).toMatch(/\$\.periods: expected 1 or more elements, got 0/);
    expect(mismatch(expected, JSON.stringify({ ...actual, note: 'x' }))).toMatch(/\$\.note: expected "m-\.\.\."/);
    expect(mismatch(['{"accepted":1}'], '{"accepted":1,"more":2}')).toMatch(/keys the README does not show: more/);
    expect(mismatch(['{"score":...}'], '{"score":0.74}')).toBeUndefined();
    expect(mismatch(['{"a":1}'], 'not json')).toMatch(/expected JSON/);
    expect(mismatch(['[...]'], '[1,2]')).toBeUndefined();
    expect(mismatch(['[1]'], '[1,2]')).toMatch(/expected 1 elements, got 2/);
  });
});
