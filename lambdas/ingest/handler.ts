/**
 * Ingestion API: one handler for every declared stream's route (POST /<stream route>, found from
 * the API Gateway resource path): validates one event or an array of up to 500 against the
 * stream's schema, stamps type, received_at and event_time, puts each on the events stream under
 * the stream's partition key, and answers 200 only once the stream holds every one.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { activePipeline } from '../../schemas/active-pipeline';
import type { StreamSpec } from '../../schemas/pipeline';
import { partitionKeyOf } from '../../schemas/stream-record';
import { readSetting, resourceName, streams } from '../../schemas/resources';
import { kinesis } from '../commons/clients';
import { error, header, json } from '../commons/http';
import { emitCount, logger } from '../commons/observability';
import { StreamWriteError, StreamWriter } from '../commons/stream-writer';
import { parseIngestRequest } from './parse';

const policy = {
  maxClockSkewMs: readSetting('maxClockSkewSeconds') * 1000,
  maxEventAgeMs: readSetting('maxEventAgeSeconds') * 1000,
};

let writer: StreamWriter | undefined;
const streamWriter = () => (writer ??= new StreamWriter(kinesis(), resourceName(streams.events)));

/** The declared stream whose route is `path` (the resource path API Gateway passes, or the request path). */
export function streamOfRoute(path: string): StreamSpec | undefined {
  const route = path.replace(/(.)\/+$/, '$1');
  return activePipeline().streams.find((s) => s.route === route);
}

/**
 * Events accepted or rejected, by type (the stream's name) and, for rejections, by reason (the
 * status answered): each stream adds its own EventsAccepted metric and one EventsRejected metric
 * per reason it has answered (CloudWatch bills each distinct name and dimensions as a metric).
 */
function count(name: 'EventsAccepted' | 'EventsRejected', type: string, value: number, reason?: string): void {
  emitCount(name, value, reason ? { type, reason } : { type });
}

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const stream = streamOfRoute(event.resource ?? event.path);
  if (!stream) return error(404, `no ingestion route for ${event.path}`);
  const type = stream.name;

  const parsed = parseIngestRequest(
    stream,
    { body: event.body, isBase64Encoded: event.isBase64Encoded, contentType: header(event.headers, 'content-type') },
    Date.now(),
    policy,
  );
  if (!parsed.ok) {
    count('EventsRejected', type, Math.max(1, new Set(parsed.issues?.map((i) => i.index) ?? [undefined]).size), String(parsed.statusCode));
    return error(parsed.statusCode, parsed.message, parsed.issues ? { issues: parsed.issues } : {});
  }

  try {
    await streamWriter().put(
      parsed.events.map((e) => ({ partitionKey: partitionKeyOf(stream, e), data: Buffer.from(JSON.stringify(e)) })),
    );
  } catch (err) {
    if (!(err instanceof StreamWriteError)) throw err;
    logger.warn('stream write failed', { type, events: parsed.events.length, error: err.message });
    count('EventsRejected', type, parsed.events.length, err.throttled ? '429' : '503');
    return err.throttled
      ? error(429, 'the event stream is throttling writes; retry later', {}, { 'retry-after': '1' })
      : error(503, 'the event stream is unavailable; retry later', {}, { 'retry-after': '5' });
  }
  count('EventsAccepted', type, parsed.events.length);
  return json(200, { accepted: parsed.events.length });
}
