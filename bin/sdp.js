#!/usr/bin/env -S node --single-threaded-gc
// The `sdp` command. It runs bin/sdp.ts compiled by esbuild into one file under .cache/cli/, built
// on the first run and again whenever one of its sources changes (their sizes and mtimes are kept
// beside the bundle), so no build step is needed after `npm ci` and a start compiles no TypeScript.
// The bundle holds only the CLI's light modules; the heavy ones (AWS SDKs, DuckDB, the platform)
// are required through tsx by the commands that use them (lazy() in sdp.ts). Should the bundle
// not build (a read-only checkout, say), the CLI runs through tsx as it is.
// Node 20 is what this machine has; the SDK's notice about its future Node 22 floor is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { join, resolve } = require('node:path');

const ROOT = resolve(__dirname, '..');
const OUT_DIR = join(ROOT, '.cache', 'cli');
const BUNDLE = join(OUT_DIR, 'sdp.js');
const MANIFEST = join(OUT_DIR, 'inputs.json');

/** Size and mtime of a file: what says it changed. */
function stamp(file) {
  const s = statSync(file, { throwIfNoEntry: false });
  return s ? `${s.size}:${s.mtimeMs}` : 'gone';
}

/** True when the bundle exists and none of its inputs (this file among them) changed since it was built. */
function fresh() {
  try {
    const inputs = JSON.parse(readFileSync(MANIFEST, 'utf8'));
    return existsSync(BUNDLE) && Object.entries(inputs).every(([file, key]) => stamp(file) === key);
  } catch {
    return false;
  }
}

/** Builds the bundle and its manifest; written aside and renamed, so concurrent runs never read half a file. */
function build() {
  mkdirSync(OUT_DIR, { recursive: true });
  const tmp = `${BUNDLE}.${process.pid}.tmp`;
  const result = require('esbuild').buildSync({
    entryPoints: [join(__dirname, 'sdp.ts')],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    // sdp.ts finds queries/ and the heavy modules from its own directory, not the bundle's.
    define: { SDP_BIN_DIR: JSON.stringify(__dirname) },
    metafile: true,
    absWorkingDir: ROOT,
    logLevel: 'silent',
  });
  const inputs = Object.fromEntries([__filename, ...Object.keys(result.metafile.inputs).map((f) => resolve(ROOT, f))].map((f) => [f, stamp(f)]));
  renameSync(tmp, BUNDLE);
  const tmpManifest = `${MANIFEST}.${process.pid}.tmp`;
  writeFileSync(tmpManifest, JSON.stringify(inputs));
  renameSync(tmpManifest, MANIFEST);
}

let entry = BUNDLE;
if (!fresh()) {
  try {
    build();
  } catch {
    require('tsx/cjs');
    entry = join(__dirname, 'sdp.ts');
  }
}
require(entry);
