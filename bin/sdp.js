#!/usr/bin/env -S node --single-threaded-gc
// The `sdp` command. It runs bin/sdp.ts compiled by esbuild into one file under .cache/cli/, built
// on the first run and again whenever one of its sources changes (their sizes and mtimes are kept
// beside the bundle; packages are keyed on package-lock.json), so no build step is needed after
// `npm ci` and a start compiles no TypeScript. The bundle holds only the CLI's light modules; the
// lake's SQL (local/lake-sql.ts) is a second bundle, loaded by sdp query alone, and what it needs
// once a query names a table (local/lake-sql-deps.ts) a third; the heavy modules
// (AWS SDKs, the platform) are required through tsx by the commands that use them (lazy() in
// sdp.ts). Should the bundles not build (a read-only checkout, say), the CLI runs through tsx.
// Node 20 is what this machine has; the SDK's notice about its future Node 22 floor is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { join, resolve } = require('node:path');

const ROOT = resolve(__dirname, '..');
const OUT_DIR = join(ROOT, '.cache', 'cli');
const BUNDLE = join(OUT_DIR, 'sdp.js');
const MANIFEST = join(OUT_DIR, 'inputs.json');
const LOCKFILE = join(ROOT, 'package-lock.json');

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

/** Builds the bundles and their manifest; built aside and renamed, so concurrent runs never read half a file. */
function build() {
  mkdirSync(OUT_DIR, { recursive: true });
  const tmp = join(OUT_DIR, `build-${process.pid}`);
  const result = require('esbuild').buildSync({
    entryPoints: {
      sdp: join(__dirname, 'sdp.ts'),
      'lake-sql': join(ROOT, 'local', 'lake-sql.ts'),
      // What the lake's SQL needs once a query names a table (zod schemas, hyparquet): loaded only then.
      'lake-sql-deps': join(ROOT, 'local', 'lake-sql-deps.ts'),
    },
    outdir: tmp,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Packages are bundled too (fewer files to find and read at start), but for those that load
    // native code or hooks, or that only the heavy commands need. DuckDB's JavaScript API is
    // bundled (its ~180 files took ~60 ms to load), its native bindings are not.
    external: ['@duckdb/node-bindings*', 'tsx', 'tsx/*', 'esbuild', '@aws-sdk/*', '@smithy/*'],
    // sdp.ts finds queries/ and the heavy modules from its own directory, not the bundle's.
    define: { SDP_BIN_DIR: JSON.stringify(__dirname), SDP_CLI_BUNDLE: 'true' },
    metafile: true,
    absWorkingDir: ROOT,
    logLevel: 'silent',
  });
  const sources = Object.keys(result.metafile.inputs).filter((f) => !f.split(/[\\/]/).includes('node_modules'));
  const inputs = Object.fromEntries([__filename, LOCKFILE, ...sources.map((f) => resolve(ROOT, f))].map((f) => [f, stamp(f)]));
  // The entry point last: a run that finds it finds the others it loads.
  for (const file of ['lake-sql-deps.js', 'lake-sql.js', 'sdp.js']) renameSync(join(tmp, file), join(OUT_DIR, file));
  rmSync(tmp, { recursive: true, force: true });
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
