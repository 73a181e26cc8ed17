/**
 * The limits of the fields the APIs take, defined once: the pipelines' stream schemas (pipelines/),
 * the prediction requests (schemas/predictions.ts) and the reports' group parameters
 * (lambdas/reports/group-params.ts, which read a field's own schema) all validate with these
 * schemas, so what one route accepts, every other route that takes the same field can read.
 * Limits of one pipeline's own fields live with it (pipelines/adtech/fields.ts).
 *
 * Every string is also checked to be well-formed Unicode: JSON may carry a lone surrogate as an
 * escape ("\ud800"), which is not a Unicode scalar value; such a string cannot be stored as UTF-8
 * (the lake, DuckDB) and different lone surrogates collapse into one key once encoded (DynamoDB),
 * so it is refused with the field's name rather than accepted and mangled downstream.
 */
import { z } from 'zod';

/** The bounds of each bounded field, for the routes' messages and for the test that walks them. */
export const FIELD_LIMITS = {
  /** Ids and free text: characters, after trimming ids. */
  textLength: { min: 1, max: 256 },
  /** Prices in micros of a currency unit. */
  price: { min: 0, max: 1_000_000_000_000 },
  /** Numeric ids: non-negative integers exactly representable as JSON numbers (doubles). */
  numericId: { min: 0, max: Number.MAX_SAFE_INTEGER },
} as const;

const WELL_FORMED_MESSAGE = 'must be valid Unicode text: it holds a lone surrogate (such as "\\ud800")';

/** String.prototype.isWellFormed (ES2024, Node 20+): false when the string holds a lone surrogate. */
export function isWellFormedText(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

/** A string of well-formed Unicode text, at most the text limit long. */
export const text = () => z.string().refine(isWellFormedText, WELL_FORMED_MESSAGE).max(FIELD_LIMITS.textLength.max);

/** A required identifier: trimmed, non-empty, well-formed, within the text limit. */
export const id = () => z.string().trim().min(FIELD_LIMITS.textLength.min, 'must be a non-empty string').refine(isWellFormedText, WELL_FORMED_MESSAGE).max(FIELD_LIMITS.textLength.max);

/** A client's time of an event: ISO 8601 date-time with an offset (or Z), or epoch milliseconds. */
export const clientTimestamp = z.union([
  z.iso.datetime({ offset: true }),
  z.number().int('must be an integer (epoch milliseconds)').min(0).max(8.64e15),
]);

/** An integer price within the price limits. */
export const price = () => z.number().int('must be an integer').min(FIELD_LIMITS.price.min).max(FIELD_LIMITS.price.max);

/** A numeric id as a JSON number. */
export const numericId = () => z.number().int('must be an integer').min(FIELD_LIMITS.numericId.min).max(FIELD_LIMITS.numericId.max);

/**
 * A numeric id written as decimal digits (a URL path segment, a request's string id): the number
 * it names, when that number is within the numeric id limits; undefined otherwise.
 */
export function numericIdFromDigits(raw: string | undefined): number | undefined {
  // Longer than any id within the limits (leading zeros aside, which no client needs): refused unread.
  if (raw === undefined || !/^\d{1,32}$/.test(raw)) return undefined;
  const parsed = numericId().safeParse(Number(raw));
  // Digits past 2^53 round to a neighbour: those are refused by the maximum, as 2^53 itself is.
  return parsed.success ? parsed.data : undefined;
}
