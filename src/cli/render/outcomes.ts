import { safeLine } from '../../core/text.js';
import type { HostOutcome } from '../../engine/types.js';
import type { Style } from '../style.js';

/** The per-host outcome table printed at the end of a run. */
export function renderOutcomes(outcomes: HostOutcome[], style: Style): string {
  const rows = outcomes.map((o) => ({
    host: safeLine(o.host),
    status: o.status,
    purged: String(o.counts.messages_purged ?? 0),
    blocked: String(o.counts.ips_blocked ?? 0),
    note: safeLine(o.error ?? o.steps.filter((s) => s.status === 'changed').map((s) => s.id).join(', ')),
  }));
  const head = { host: 'HOST', status: 'STATUS', purged: 'PURGED', blocked: 'IPS BLOCKED', note: 'DETAIL' };
  const width = (k: keyof typeof head) => Math.max(head[k].length, ...rows.map((r) => r[k].length));
  const color = (status: string, text: string) =>
    status === 'failed' || status === 'unreachable' ? style.red(text) : status === 'changed' ? style.yellow(text) : status === 'ok' ? style.green(text) : style.dim(text);
  const fmt = (r: typeof head, colored = false) =>
    [r.host.padEnd(width('host')), colored ? color(r.status, r.status.padEnd(width('status'))) : r.status.padEnd(width('status')), r.purged.padStart(width('purged')), r.blocked.padStart(width('blocked')), r.note].join('  ');
  const counts = new Map<string, number>();
  for (const o of outcomes) counts.set(o.status, (counts.get(o.status) ?? 0) + 1);
  return [
    style.bold(fmt(head)),
    ...rows.map((r) => fmt(r, true)),
    '',
    [...counts].map(([k, v]) => `${v} ${k}`).join(', '),
  ].join('\n');
}
