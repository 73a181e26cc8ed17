/**
 * Bad events generated from a declared stream's schema, for the fuzz test: each a valid event
 * (local/traffic.ts sampleEvents) with one field made wrong: missing when required, of another
 * JSON type, beyond its limits (lengths, bounds, integers), a string holding a lone surrogate, an
 * event time in a format the API does not read. Every one is checked against the schema itself
 * (a candidate the schema would accept is left out), so each must be refused with a 400 naming
 * its field. Bodies are JSON text, so that numbers JSON.parse cannot hold (1e400) are sent as such.
 */
import { z } from 'zod';
import type { FieldInfo, StreamSpec } from '../../schemas/pipeline';
import { numericRange, stringRange } from '../../local/traffic';

export interface BadEvent {
  stream: string;
  /** What was made wrong. */
  kind: string;
  /** The field the answer must name. */
  field: string;
  /** The request body: the event as JSON text. */
  body: string;
}

const LONE_SURROGATES = ['\\ud800', '\\udbff', '\\udc00', '\\udfff', 'x\\ud83d', '\\ude00x'];
const MARK = '__SDP_BAD_VALUE__';

/** JSON text of `base` with `field` set to the raw JSON `raw` (or removed when undefined). */
function withRaw(base: Record<string, unknown>, field: string, raw: string | undefined): string {
  const { [field]: _dropped, ...rest } = base;
  if (raw === undefined) return JSON.stringify(rest);
  return JSON.stringify({ ...rest, [field]: MARK }).replace(`"${MARK}"`, raw);
}

/** The wrong values (raw JSON) of a field, by what is wrong with them. */
function candidates(stream: StreamSpec, field: FieldInfo): [kind: string, raw: string][] {
  const schema = stream.schema.shape[field.name] as z.ZodType;
  const out: [string, string][] = [];
  const wrongTypes: Record<string, string[]> = {
    string: ['42', 'true', 'null', '{}', '["x"]'],
    integer: ['"12"', 'true', 'null', '{}', '[1]'],
    number: ['"1.5"', 'true', 'null', '{}', '[1]'],
    boolean: ['"true"', '1', 'null', '{}', '[]'],
    time: ['true', 'null', '{}', '[1]'],
  };
  for (const raw of wrongTypes[field.kind] ?? []) out.push(['wrong type', raw]);
  if (field.kind === 'string') {
    const { min, max } = stringRange(schema);
    if (Number.isFinite(max)) out.push(['too long', JSON.stringify('x'.repeat(max + 1))], ['far too long', JSON.stringify('y'.repeat(max * 40))]);
    if (min > 0) out.push(['too short', '""'], ['blank', '"   "']);
    for (const s of LONE_SURROGATES) out.push(['lone surrogate', `"${s}"`]);
  }
  if (field.kind === 'integer' || field.kind === 'number') {
    const { min, max, integer } = numberBounds(schema);
    if (integer) out.push(['not an integer', String(numericRange(schema).lo + 0.5)]);
    if (Number.isFinite(max)) out.push(['above its maximum', String(integer ? max + 1 : max + Math.abs(max) * 1e-6 + 1)]);
    if (Number.isFinite(min)) out.push(['below its minimum', String(integer ? min - 1 : min - Math.abs(min) * 1e-6 - 1)]);
    out.push(['huge', `1${'0'.repeat(400)}`], ['huge negative', '-1e400']);
  }
  if (field.kind === 'time') {
    for (const raw of ['"yesterday"', '"2026-13-01T00:00:00Z"', '"2026-12-05 10:00:00"', '"2026-12-05T10:00:00"', '"12/05/2026"', '-1', '1.5', '8640000000000001', `"${'9'.repeat(30)}"`]) out.push(['wrong time format', raw]);
  }
  return out;
}

/** A numeric schema's declared bounds (infinite when none) and whether it takes integers only. */
function numberBounds(schema: z.ZodType): { min: number; max: number; integer: boolean } {
  let inner: z.ZodType = schema;
  while (inner instanceof z.ZodOptional || inner instanceof z.ZodNullable || inner instanceof z.ZodDefault) inner = (inner as z.ZodOptional<z.ZodType>).unwrap();
  const n = inner as z.ZodNumber;
  return { min: n.minValue ?? -Infinity, max: n.maxValue ?? Infinity, integer: n.isInt === true };
}

/** Every bad event of a stream, from a valid `base` of it; each refused by the stream's schema. */
export function badEvents(stream: StreamSpec, base: Record<string, unknown>): BadEvent[] {
  const out: BadEvent[] = [];
  const refused = (body: string) => !stream.schema.safeParse(JSON.parse(body)).success;
  for (const field of stream.fields) {
    if (field.required) out.push({ stream: stream.name, kind: 'missing', field: field.name, body: withRaw(base, field.name, undefined) });
    for (const [kind, raw] of candidates(stream, field)) {
      const body = withRaw(base, field.name, raw);
      if (refused(body)) out.push({ stream: stream.name, kind, field: field.name, body });
    }
  }
  return out;
}
