/** Every way of starting the local platform runs it with the same V8 flags (local/v8-flags.ts). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PLATFORM_V8_FLAGS } from '../../local/v8-flags';

const root = join(__dirname, '..', '..');
const flags = PLATFORM_V8_FLAGS.join(' ');

it("bin/sdp.js's first line starts node with the platform's flags", () => {
  const shebang = readFileSync(join(root, 'bin', 'sdp.js'), 'utf8').split('\n')[0];
  expect(shebang).toBe(`#!/usr/bin/env -S node ${flags}`);
});

it("package.json's start and sdp scripts run node with the platform's flags", () => {
  const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  expect(scripts.start).toBe(`node ${flags} bin/sdp.js local`);
  expect(scripts.sdp).toBe(`node ${flags} bin/sdp.js`);
});
