import { basename } from 'node:path';
import { parseAuditLog, checkChain, reportVerification } from '../read.js';
import { buildReport, type IncidentReport } from '../render/model.js';
import { renderHtml } from '../render/html.js';
import { renderMarkdown } from '../render/markdown.js';
import { displayText, escapeMarkdown, mdFence } from '../render/escape.js';

/**
 * What a run left for a human, with the exact command that does it: an unattended run's
 * irreversible rest and the `runbook apply … --approve HASH` that finishes it.
 */
export interface PendingAction {
  what: string;
  command: string;
}

/** Everything an adapter may post about one run, built once from the log file. */
export interface AttachContent {
  report: IncidentReport;
  markdown: string;
  html: string;
  /** A few plain-text lines for places with little room (PagerDuty notes, Jira comments). */
  brief: string;
  logName: string;
  logText: string;
  /** sha256 of the log's last line: the off-host anchor posted everywhere. */
  head: string;
  chainOk: boolean;
  /** Left for a human; in the brief and the Markdown too. */
  pending?: PendingAction;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Plain text summary; values are neutralized (no control characters), not trusted. */
export function briefText(report: IncidentReport, head: string, chainOk: boolean): string {
  const t = (v: unknown) => displayText(v).slice(0, 200);
  const lines: string[] = [];
  lines.push(`runbook ${t(report.trigger.playbook?.name ?? 'run')} ${t(report.run.runId ?? '')}: ${t(report.run.status)}${report.run.reason ? ` (${t(report.run.reason)})` : ''}${report.run.dryRun ? ' [dry run]' : ''}`);
  lines.push(`Operator ${t(report.origin.operator ?? '?')} on ${t(report.origin.controlHost ?? '?')}, ${t(report.run.startedAt ?? '')}`);
  lines.push(`Hosts: ${report.hosts.map((h) => `${t(h.host)} ${t(h.status)}`).join(', ') || 'none'}`);
  for (const f of report.findings.slice(0, 5)) {
    lines.push(`Finding on ${t(f.host)}: ${t(f.summary ?? f.sender ?? f.kind ?? 'see report')}`);
  }
  if (report.changes.length > 0) {
    lines.push(`Changed: ${report.changes.slice(0, 10).map((c) => `${t(c.host)}: ${t(c.what)}${c.target !== undefined ? ` ${t(c.target)}` : ''}`).join('; ')}${report.changes.length > 10 ? `; and ${report.changes.length - 10} more` : ''}`);
  }
  if (report.failures.length > 0) lines.push(`Failed: ${report.failures.slice(0, 5).map((f) => `${t(f.host)}${f.step ? `/${t(f.step)}` : ''}: ${t(f.error)}`).join('; ')}`);
  if (report.undo.length > 0 || report.irreversible.length > 0) {
    lines.push(`Undo: ${plural(report.undo.length, 'reversible change')} (runbook undo LOG); ${plural(report.irreversible.length, 'irreversible change')}`);
  }
  lines.push(`Audit chain head: ${head} (${chainOk ? 'chain verified' : 'CHAIN DOES NOT VERIFY'})`);
  return lines.join('\n');
}

/** The brief's closing lines for what waits for a human. */
function pendingLines(pending: PendingAction): string {
  return `Waiting for a human: ${displayText(pending.what)}\nTo finish: ${displayText(pending.command)}`;
}

function pendingMarkdown(pending: PendingAction): string {
  return `\n\n## Waiting for a human\n\n${escapeMarkdown(pending.what)}\n\n${mdFence(pending.command, 'sh')}\n`;
}

export function buildAttachContent(logPath: string, logText: string, pending?: PendingAction): AttachContent {
  const log = parseAuditLog(logText);
  const chain = checkChain(log);
  const verification = reportVerification(log, chain);
  const report = buildReport(log.records, verification);
  const brief = briefText(report, log.head, chain.ok);
  const markdown = renderMarkdown(report);
  return {
    report,
    markdown: pending ? `${markdown.trimEnd()}${pendingMarkdown(pending)}` : markdown,
    html: renderHtml(report),
    brief: pending ? `${brief}\n${pendingLines(pending)}` : brief,
    ...(pending ? { pending } : {}),
    logName: basename(logPath),
    logText,
    head: log.head,
    chainOk: chain.ok,
  };
}
