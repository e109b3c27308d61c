/**
 * The per-host outcome table at the end of a fleet run, for a terminal and as JSON.
 */
import type { HostStatus } from '../audit/records.js';

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
  messagesPurged: number;
  ipsBlocked: number;
  detail: string;
}

export interface OutcomeTable {
  rows: OutcomeRow[];
  totals: Record<HostStatus, number> & { messagesPurged: number; ipsBlocked: number };
}

export function outcomeTable(outcomes: readonly HostOutcomeLike[]): OutcomeTable {
  const totals = { ok: 0, changed: 0, failed: 0, unreachable: 0, skipped: 0, messagesPurged: 0, ipsBlocked: 0 };
  const rows = outcomes.map((o): OutcomeRow => {
    const row = {
      host: o.host,
      status: o.status,
      messagesPurged: o.counts.messages_purged ?? 0,
      ipsBlocked: o.counts.ips_blocked ?? 0,
      detail: o.error ?? '',
    };
    totals[o.status]++;
    totals.messagesPurged += row.messagesPurged;
    totals.ipsBlocked += row.ipsBlocked;
    return row;
  });
  return { rows, totals };
}

/** Control characters from hostile data (an error quoting a subject) must not drive the terminal. */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
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
  const { rows, totals } = outcomeTable(outcomes);
  const head = ['HOST', 'STATUS', 'PURGED', 'IPS BLOCKED', 'DETAIL'];
  const cells = rows.map((r) => [oneLine(r.host), r.status, String(r.messagesPurged), String(r.ipsBlocked), oneLine(r.detail)]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[], status?: HostStatus): string =>
    c
      .map((v, i) => {
        const padded = i === 2 || i === 3 ? v.padStart(widths[i]!) : i === 4 ? v : v.padEnd(widths[i]!);
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
    `${summary}; ${totals.messagesPurged} messages purged, ${totals.ipsBlocked} IPs blocked`,
  ].join('\n');
}

export function outcomeTableJson(outcomes: readonly HostOutcomeLike[]): string {
  return JSON.stringify(outcomeTable(outcomes), null, 2);
}
