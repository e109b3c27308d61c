/**
 * The per-host outcome table at the end of a fleet run, for a terminal and as JSON.
 */
import { declaredCounters } from '../actions/registry.js';
import type { HostStatus } from '../audit/records.js';
import { safeLine } from '../core/text.js';

/** What the table needs of an engine host outcome. */
export interface HostOutcomeLike {
  host: string;
  status: HostStatus;
  error?: string;
  counts: Record<string, number>;
}

export interface OutcomeRow {
  host: string;
  status: HostStatus;
  /** The table's counters (its `counters` columns), zero where this host did none. */
  counts: Record<string, number>;
  detail: string;
}

export interface OutcomeTable {
  /** The counters actions declare that are non-zero on some host: key and words. */
  counters: { key: string; label: string }[];
  rows: OutcomeRow[];
  totals: Record<HostStatus, number> & { counts: Record<string, number> };
}

export function outcomeTable(outcomes: readonly HostOutcomeLike[]): OutcomeTable {
  const counters = [...declaredCounters()]
    .filter(([key]) => outcomes.some((o) => (o.counts[key] ?? 0) !== 0))
    .map(([key, label]) => ({ key, label }));
  const totals = { ok: 0, changed: 0, failed: 0, unreachable: 0, skipped: 0, counts: Object.fromEntries(counters.map((c) => [c.key, 0])) as Record<string, number> };
  const rows = outcomes.map((o): OutcomeRow => {
    const counts = Object.fromEntries(counters.map((c) => [c.key, o.counts[c.key] ?? 0]));
    totals[o.status]++;
    for (const c of counters) totals.counts[c.key] = (totals.counts[c.key] ?? 0) + (counts[c.key] ?? 0);
    return { host: o.host, status: o.status, counts, detail: o.error ?? '' };
  });
  return { counters, rows, totals };
}

/**
 * Control characters from hostile data (an error quoting a subject) must not drive the
 * terminal: line breaks and tabs become spaces, every other control (bidi overrides too) is
 * made visible as everywhere else (core/text.ts).
 */
function oneLine(text: string): string {
  return safeLine(text.replace(/[\t\n\r]+/g, ' ').trim());
}

const COLORS: Record<HostStatus, string> = {
  ok: '\u001b[32m',
  changed: '\u001b[33m',
  failed: '\u001b[31m',
  unreachable: '\u001b[31m',
  skipped: '\u001b[2m',
};

export function colorWanted(env: NodeJS.ProcessEnv = process.env, isTTY = process.stdout.isTTY === true): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return isTTY;
}

export function renderOutcomeTable(
  outcomes: readonly HostOutcomeLike[],
  options: { color?: boolean } = {},
): string {
  const color = options.color ?? colorWanted();
  const { counters, rows, totals } = outcomeTable(outcomes);
  const head = ['HOST', 'STATUS', ...counters.map((c) => c.label.toUpperCase()), 'DETAIL'];
  const cells = rows.map((r) => [oneLine(r.host), r.status, ...counters.map((c) => String(r.counts[c.key] ?? 0)), oneLine(r.detail)]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const last = head.length - 1;
  const line = (c: string[], status?: HostStatus): string =>
    c
      .map((v, i) => {
        const padded = i === last ? v : i >= 2 ? v.padStart(widths[i]!) : v.padEnd(widths[i]!);
        return i === 1 && status && color ? `${COLORS[status]}${padded}\u001b[0m` : padded;
      })
      .join('  ')
      .trimEnd();
  const summary = (['ok', 'changed', 'failed', 'unreachable', 'skipped'] as const)
    .filter((s) => totals[s] > 0)
    .map((s) => `${totals[s]} ${s}`)
    .join(', ');
  return [
    line(head),
    ...cells.map((c, i) => line(c, rows[i]!.status)),
    '',
    [summary, counters.map((c) => `${totals.counts[c.key] ?? 0} ${c.label}`).join(', ')].filter((part) => part !== '').join('; '),
  ].join('\n');
}

export function outcomeTableJson(outcomes: readonly HostOutcomeLike[]): string {
  return JSON.stringify(outcomeTable(outcomes), null, 2);
}
