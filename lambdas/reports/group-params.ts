/**
 * The group key of a report route, `/reports/<route>/{<group field>}/...`: each path segment parsed
 * by its field's kind and checked with the field's own schema (schemas/fields.ts limits), so a
 * report route reads every value the ingestion route accepts and refuses the rest naming the field.
 * Pure.
 */
import { z } from 'zod';
import type { AggregationSpec, FieldInfo, FieldValue } from '../../schemas/pipeline';
import { streamOf } from '../../schemas/pipeline';
import { activePipeline } from '../../schemas/active-pipeline';

export type GroupParamsResult = { ok: true; values: FieldValue[] } | { ok: false; field: string; message: string };

/** Echoes a bad value back, cut short so a huge segment doesn't make a huge error. */
const quote = (raw: string) => JSON.stringify(raw.length > 64 ? `${raw.slice(0, 64)}…` : raw);

/** The zod schema of a required field, its optional/default wrappers removed. */
function fieldSchema(aggregation: AggregationSpec, field: string): z.ZodType {
  const stream = streamOf(activePipeline(), aggregation.stream);
  return stream.schema.shape[field] as z.ZodType;
}

/** Bounds of an integer field, for the message (a zod number's declared minimum and maximum). */
function bounds(schema: z.ZodType): { min: number; max: number } {
  const n = schema instanceof z.ZodNumber ? schema : undefined;
  return { min: n?.minValue ?? Number.MIN_SAFE_INTEGER, max: n?.maxValue ?? Number.MAX_SAFE_INTEGER };
}

/** One path segment as the value of `field`, or the message saying what it must be. */
export function parseGroupValue(field: FieldInfo, schema: z.ZodType, raw: string | undefined): { ok: true; value: FieldValue } | { ok: false; message: string } {
  const text = raw ?? '';
  if (field.kind === 'integer') {
    const { min, max } = bounds(schema);
    // Longer than any safe integer (leading zeros aside, which no client needs): refused unread.
    // Digits past 2^53 round to a neighbour: those are refused by the field's maximum.
    const parsed = /^-?\d{1,32}$/.test(text) ? schema.safeParse(Number(text)) : undefined;
    if (parsed?.success) return { ok: true, value: parsed.data as number };
    return { ok: false, message: `${field.name} must be an integer from ${min} to ${max}, got ${quote(text)}` };
  }
  if (field.kind === 'boolean') {
    if (text === 'true' || text === 'false') return { ok: true, value: text === 'true' };
    return { ok: false, message: `${field.name} must be true or false, got ${quote(text)}` };
  }
  const parsed = schema.safeParse(text);
  if (parsed.success) return { ok: true, value: parsed.data as string };
  return { ok: false, message: `${field.name} ${parsed.error.issues[0]?.message ?? 'is not valid'}, got ${quote(text)}` };
}

/** The group values of a report request's path parameters, in the aggregation's groupBy order. */
export function parseGroupParams(aggregation: AggregationSpec, params: Readonly<Record<string, string | undefined>> | null): GroupParamsResult {
  const values: FieldValue[] = [];
  for (const field of aggregation.groupBy) {
    const parsed = parseGroupValue(field, fieldSchema(aggregation, field.name), params?.[field.name]);
    if (!parsed.ok) return { ok: false, field: field.name, message: parsed.message };
    values.push(parsed.value);
  }
  return { ok: true, values };
}
