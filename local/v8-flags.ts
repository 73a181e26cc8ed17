/**
 * V8 flags of the process that runs the local platform: `sdp local` (bin/sdp.js's first line),
 * `npm start` and `npm run sdp` (package.json), the tests' and the benches' platform processes.
 *
 * --single-threaded-gc: the platform runs six JavaScript threads (API, three emulators, two stream
 * consumers) on machines with as few as 2 cores, all of them busy under load. V8's parallel and
 * concurrent collector helpers only compete with those threads for the same cores: they used about
 * a quarter of the platform's CPU. `npm run bench -- pipeline --freshness-rate 0`, six alternating
 * pairs: 5,142 → 5,727 events/s (medians), the flag's run ahead in five pairs of six.
 */
export const PLATFORM_V8_FLAGS: readonly string[] = ['--single-threaded-gc'];
