/**
 * What the cost bench measured on the local platform (`npm run bench -- cost --measure` writes
 * perf/cost-measurements.json), which `sdp cost` multiplies by the traffic and the prices: per
 * event, the records and bytes each stream carries, the DynamoDB request units each table consumes
 * (dynalite's own ReturnConsumedCapacity arithmetic: 1 KB per write unit, 4 KB per read unit, half
 * for eventually consistent reads), the S3 requests and bytes each bucket takes; per function, the
 * handler's time per invocation and per record and the bytes it logs. Validated when read.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { z } from 'zod';

const nonNegative = z.number().finite().nonnegative();

export const MeasurementsSchema = z.object({
  measuredAt: z.string(),
  commit: z.string(),
  command: z.string(),
  /** What the figures are (local, on which machine) and what they are not. */
  note: z.string(),
  workload: z.object({
    events: z.number().int().positive(),
    /** Adtech only: the auctions its blueprint traffic held. */
    auctions: z.number().int().positive().optional(),
    eventsPerRequest: z.number().positive(),
    /** Share of the measured events by stream name. */
    mix: z.record(z.string(), nonNegative),
  }),
  /** By stream name (schemas/resources.ts). */
  streams: z.record(z.string(), z.object({ recordsPerEvent: nonNegative, bytesPerRecord: nonNegative, bytesPerRecordByType: z.record(z.string(), nonNegative).optional() })),
  /**
   * By table name (schemas/resources.ts). Request units per event depend on how many records the
   * function writing the table gets per invocation (a batch writes one item per auction it holds),
   * so they are measured at several batch sizes (`samples`, each with the records per invocation of
   * each consumer function then) and `sdp cost` interpolates at the batch size of the traffic.
   */
  tables: z.record(
    z.string(),
    z.object({
      samples: z
        .array(
          z.object({
            batchRecords: z.record(z.string(), nonNegative),
            writeUnitsPerEvent: nonNegative,
            readUnitsPerEvent: nonNegative,
            itemWritesPerEvent: nonNegative,
            itemReadsPerEvent: nonNegative,
            /** Query and Scan requests per event: dynalite bills them inside, they are not in the read units above. */
            queriesPerEvent: nonNegative,
          }),
        )
        .min(1),
      storedBytesPerEvent: nonNegative,
    }),
  ),
  /** By bucket name (the function environment's <NAME>_BUCKET_NAME, e.g. "lake"). */
  buckets: z.record(
    z.string(),
    z.object({
      putsPerEvent: nonNegative,
      getsPerEvent: nonNegative,
      otherRequestsPerEvent: nonNegative,
      bytesPerEvent: nonNegative,
      /** The same requests per invocation of the function writing the bucket: a batch writes its files whatever its size, so this is what `sdp cost` uses when it knows that function's invocations. */
      perInvocation: z.object({ function: z.string(), puts: nonNegative, gets: nonNegative, other: nonNegative }).optional(),
    }),
  ),
  /** By function (POWERTOOLS_SERVICE_NAME): handler ms = fixedMs + perRecordMs × records of the invocation. */
  functions: z.record(
    z.string(),
    z.object({
      fixedMs: nonNegative,
      perRecordMs: nonNegative,
      recordsPerInvocation: nonNegative,
      logBytesPerInvocation: nonNegative,
      logBytesPerRecord: nonNegative,
    }),
  ),
});

export type Measurements = z.infer<typeof MeasurementsSchema>;
export type TableSample = Measurements['tables'][string]['samples'][number];

/**
 * A table's figures at `batchRecords` records per invocation of `fn`: interpolated between the two
 * nearest samples on a log scale of the batch size, the nearest sample's outside their range.
 */
export function tableAtBatch(samples: readonly TableSample[], fn: string | undefined, batchRecords: number): TableSample {
  const usable = samples.filter((s) => fn !== undefined && (s.batchRecords[fn] ?? 0) > 0).sort((a, b) => a.batchRecords[fn!] - b.batchRecords[fn!]);
  if (usable.length === 0 || !(batchRecords > 0)) return samples[0];
  const x = (s: TableSample) => Math.log(s.batchRecords[fn!]);
  const at = Math.log(batchRecords);
  if (at <= x(usable[0])) return usable[0];
  if (at >= x(usable[usable.length - 1])) return usable[usable.length - 1];
  const hi = usable.findIndex((s) => x(s) >= at);
  const [a, b] = [usable[hi - 1], usable[hi]];
  const w = (at - x(a)) / (x(b) - x(a) || 1);
  const mix = (k: keyof Omit<TableSample, 'batchRecords'>) => a[k] + (b[k] - a[k]) * w;
  return { batchRecords: { [fn!]: batchRecords }, writeUnitsPerEvent: mix('writeUnitsPerEvent'), readUnitsPerEvent: mix('readUnitsPerEvent'), itemWritesPerEvent: mix('itemWritesPerEvent'), itemReadsPerEvent: mix('itemReadsPerEvent'), queriesPerEvent: mix('queriesPerEvent') };
}

export const MEASUREMENTS_FILE = 'perf/cost-measurements.json';

/**
 * A pipeline's measurements file in the repository: adtech's is MEASUREMENTS_FILE, another's
 * perf/cost-measurements.<name>.json (a pipeline file: named after the file, without its extension).
 */
export function measurementsFile(pipeline: string): string {
  return pipeline === 'adtech' ? MEASUREMENTS_FILE : `perf/cost-measurements.${basename(pipeline).replace(/\.[^.]*$/, '')}.json`;
}

/** The measurements file, validated; a one-line error naming the file when it is missing or wrong. */
export function loadMeasurements(path: string): Measurements {
  if (!existsSync(path)) throw new Error(`no measurements at ${path}: run npm run bench -- cost --measure`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path} is not JSON: ${(err as Error).message}`);
  }
  const parsed = MeasurementsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${path} is not a measurements file: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}
