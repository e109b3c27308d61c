import { displayText } from './escape.js';

/**
 * Logged values as rows a person reads, for both report formats: a list of objects becomes a
 * table (one column per key), nested values become `key: value` text and lists `a, b, c`,
 * never a block of raw JSON. Plain text out; each renderer escapes it.
 */

/** One value as readable text: scalars as they are, lists comma-separated, objects as `k: v; k: v`. */
export function readable(value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'object' && v !== null ? `(${readable(v)})` : readable(v))).join(', ');
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${displayText(k)}: ${readable(v)}`)
      .join('; ');
  }
  return displayText(value);
}

export interface Rows {
  columns: string[];
  rows: string[][];
}

/** A list of records as a table; items that are not objects go in a single `value` column. */
export function tableOf(items: unknown[]): Rows {
  const objects = items.every((i) => typeof i === 'object' && i !== null && !Array.isArray(i));
  if (!objects) return { columns: ['value'], rows: items.map((i) => [readable(i)]) };
  const records = items as Record<string, unknown>[];
  const columns = Array.from(new Set(records.flatMap((r) => Object.keys(r))));
  return { columns, rows: records.map((r) => columns.map((c) => readable(r[c]))) };
}

/** An object's fields as `field | value` rows. */
export function fieldsOf(record: Record<string, unknown>): Rows {
  return { columns: ['field', 'value'], rows: Object.entries(record).map(([k, v]) => [displayText(k), readable(v)]) };
}
