import type { FailureRow, IncidentReport } from './model.js';

const DONE = new Set(['ok', 'changed']);

/**
 * What a reader must still act on: every failure, and every host that did not finish (skipped,
 * interrupted, never reported) even where no error was logged for it.
 */
export function stillOpen(report: IncidentReport): FailureRow[] {
  const open = [...report.failures];
  for (const host of report.hosts) {
    if (DONE.has(host.status) || open.some((f) => f.host === host.host)) continue;
    open.push({ host: host.host, step: undefined, error: host.error ?? `host ${host.status}: not finished` });
  }
  return open;
}
