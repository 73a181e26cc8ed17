// SQL over the lake: the Glue database with a raw (JSON) and a Parquet table per lake table (columns and partition projection from schemas/lake.ts), and the Athena workgroup, its results bucket and the named queries in queries/*.sql.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { disposableBucket } from './data-lake';
import {
  LAKE_PREFIXES,
  PARTITION_KEYS,
  sqlTableName,
  RAW_JSON_SERDE,
  glueColumns,
  lakeTable,
  lakeTableNames,
  tablePrefix,
  type LakeFormat,
} from '../schemas/lake';

/** The folder of named queries: one `<name>.sql` each, its leading `--` comment lines its description. */
export const QUERIES_DIR = path.join(__dirname, '..', 'queries');

/** Storage of each format, as Athena and Glue name it. */
const STORAGE: Record<LakeFormat, { parameters: Record<string, string>; storage: glue.CfnTable.StorageDescriptorProperty }> = {
  raw: {
    parameters: { classification: 'json', compressionType: 'gzip', typeOfData: 'file' },
    storage: {
      inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
      outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
      compressed: true,
      serdeInfo: { serializationLibrary: RAW_JSON_SERDE.serializationLibrary, parameters: { ...RAW_JSON_SERDE.parameters } },
    },
  },
  parquet: {
    parameters: { classification: 'parquet', 'parquet.compression': 'SNAPPY', typeOfData: 'file' },
    storage: {
      inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      compressed: false,
      serdeInfo: {
        serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
        parameters: { 'serialization.format': '1' },
      },
    },
  },
};

export interface NamedQueryFile {
  /** The file name without `.sql`. */
  readonly name: string;
  readonly description: string;
  readonly sql: string;
}

/** The lake tables a query reads: every `raw_<table>` or `parquet_<table>` it names. */
export function queryTables(sql: string): string[] {
  return [...new Set([...sql.matchAll(/\b(?:raw|parquet)_([a-z][a-z0-9_]*)\b/g)].map((m) => m[1]))];
}

/** The queries that read only lake tables of these names. */
export function queriesOverTables(queries: readonly NamedQueryFile[], tables: readonly string[]): NamedQueryFile[] {
  return queries.filter((q) => queryTables(q.sql).every((t) => tables.includes(t)));
}

/** The named queries in a folder, sorted by name; none when the folder does not exist. */
export function readNamedQueries(dir: string = QUERIES_DIR): NamedQueryFile[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((file) => {
      const sql = fs.readFileSync(path.join(dir, file), 'utf8').trim();
      const comments: string[] = [];
      for (const line of sql.split('\n')) {
        const m = /^\s*--\s?(.*)$/.exec(line);
        if (!m) break;
        comments.push(m[1].trim());
      }
      const name = file.slice(0, -'.sql'.length);
      const description = (comments.join(' ').trim() || name).slice(0, 1024);
      return { name, description, sql };
    })
    .filter((q) => q.sql.length > 0);
}

/**
 * The lake's first date when the deployer does not say: this version's release. Athena's partition
 * projection "looks only for existing partitions" when the range "matches your data as closely as
 * possible" (its documentation); a fixed early start made every query without a dt filter list
 * every hour since then (about 25,000 partitions after three years, growing).
 */
export const LAKE_START_DATE_DEFAULT = '2026-12-01';

export interface AnalyticsProps {
  readonly lakeBucket: s3.IBucket;
  /** Where the results bucket writes its server access logs. @default none (acknowledged) */
  readonly accessLogsBucket?: s3.IBucket;
  /** @default 'sdp_lake' */
  readonly databaseName?: string;
  /** @default 'sdp' */
  readonly workGroupName?: string;
  /** Athena cancels a query that would scan more. @default 10 GiB */
  readonly bytesScannedCutoffPerQuery?: number;
  /** Query results are deleted after this. @default Duration.days(7) */
  readonly resultsExpiration?: Duration;
  /**
   * First date (YYYY-MM-DD) of the projected `dt` partitions: Athena lists every projected
   * partition from it to now for a query that does not filter on dt, so it should be the lake's
   * first date. May be a token (SdpStack's LakeStartDate parameter). @default LAKE_START_DATE_DEFAULT
   */
  readonly projectionStartDate?: string;
  /** Named queries' folder. @default QUERIES_DIR (queries/ at the repository root) */
  readonly queriesDir?: string;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

export class Analytics extends Construct {
  public readonly database: glue.CfnDatabase;
  /** Glue tables by SQL name (`raw_bcns`, `parquet_bcns`, …). */
  public readonly tables: Record<string, glue.CfnTable> = {};
  public readonly resultsBucket: s3.Bucket;
  public readonly workGroup: athena.CfnWorkGroup;
  public readonly namedQueries: athena.CfnNamedQuery[] = [];
  public readonly databaseName: string;
  public readonly workGroupName: string;

  constructor(scope: Construct, id: string, props: AnalyticsProps) {
    super(scope, id);
    const account = Stack.of(this).account;
    this.databaseName = props.databaseName ?? 'sdp_lake';
    this.workGroupName = props.workGroupName ?? 'sdp';

    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: account,
      databaseInput: {
        name: this.databaseName,
        description: 'sdp: the data lake, raw (JSON) and Parquet tables partitioned by event date and hour',
      },
    });

    const bucketName = props.lakeBucket.bucketName;
    const start = props.projectionStartDate ?? LAKE_START_DATE_DEFAULT;
    for (const format of Object.keys(LAKE_PREFIXES) as LakeFormat[]) {
      for (const table of lakeTableNames()) {
        const name = sqlTableName(format, table);
        const location = `s3://${bucketName}/${tablePrefix(format, table)}`;
        this.tables[name] = new glue.CfnTable(this, `Table-${name}`, {
          catalogId: account,
          databaseName: this.database.ref,
          tableInput: {
            name,
            description: `${lakeTable(table).description} (${format === 'raw' ? 'raw JSON, gzip' : 'Parquet, snappy'})`,
            tableType: 'EXTERNAL_TABLE',
            partitionKeys: PARTITION_KEYS.map((k) => ({ ...k })),
            parameters: {
              EXTERNAL: 'TRUE',
              ...STORAGE[format].parameters,
              // Partition projection: Athena computes the partitions from the query's dt/hour
              // filters, so nothing registers partitions and no crawler runs.
              'projection.enabled': 'true',
              'projection.dt.type': 'date',
              'projection.dt.format': 'yyyy-MM-dd',
              // To tomorrow: an event may be stamped up to the allowed clock skew ahead, so just
              // before midnight UTC it lands in the next day's partition.
              'projection.dt.range': `${start},NOW+1DAYS`,
              'projection.dt.interval': '1',
              'projection.dt.interval.unit': 'DAYS',
              'projection.hour.type': 'integer',
              'projection.hour.range': '0,23',
              'projection.hour.digits': '2',
              'storage.location.template': `${location}dt=\${dt}/hour=\${hour}/`,
            },
            storageDescriptor: {
              ...STORAGE[format].storage,
              location,
              columns: glueColumns(table),
            },
          },
        });
      }
    }

    // Query results are disposable copies: no versions, expiring.
    this.resultsBucket = disposableBucket(this, 'Results', {
      accessLogsBucket: props.accessLogsBucket,
      accessLogsPrefix: 'athena-results/',
      expirationRuleId: 'expire-results',
      expiration: props.resultsExpiration ?? Duration.days(7),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      unloggedReason: 'No access-log bucket was given: this bucket holds only Athena query results, which expire, and Athena logs each query in its history.',
    });

    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.workGroupName,
      description: 'sdp: SQL over the data lake',
      state: 'ENABLED',
      // Deleting the stack deletes the workgroup's saved queries and query history with it.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        // Clients cannot override the result location, its encryption or the scan limit.
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery ?? 10 * 1024 ** 3,
        engineVersion: { selectedEngineVersion: 'AUTO' },
        resultConfiguration: {
          outputLocation: `s3://${this.resultsBucket.bucketName}/`,
          // SSE-S3, as the bucket: readers of results need no KMS grant.
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
          expectedBucketOwner: account,
        },
      },
    });

    // Only the queries whose tables the active pipelines declare: a telemetry-only stack saves none over ad-tech tables.
    for (const query of queriesOverTables(readNamedQueries(props.queriesDir ?? QUERIES_DIR), lakeTableNames())) {
      this.namedQueries.push(
        new athena.CfnNamedQuery(this, `Query-${query.name}`, {
          name: query.name,
          description: query.description,
          database: this.database.ref,
          workGroup: this.workGroup.ref,
          queryString: query.sql,
        }),
      );
    }
  }
}
