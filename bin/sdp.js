#!/usr/bin/env -S node --single-threaded-gc
// The `sdp` command: runs the TypeScript CLI (bin/sdp.ts) through tsx, so no build step is needed.
// Node 20 is what this machine has; the SDK's notice about its future Node 22 floor is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs');
require('./sdp.ts');
