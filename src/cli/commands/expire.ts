import { builtinActions } from '../../actions/registry.js';
import { AuditWriter } from '../../audit/writer.js';
import { redactDeep } from '../../core/secret.js';
import { safeLine } from '../../core/text.js';
import { EXIT } from '../../engine/run.js';
import { runExpiry, scanAuditDir, type ExpiryScan } from '../../undo/index.js';
import { reportError } from '../errors.js';
import { renderOutcomeTable } from '../../fleet/outcome-table.js';
import { interruptibleRun, parseNow, positiveInt } from '../run-support.js';
import { openLoggedHostRun } from '../logged-host-run.js';
import { colorEnabled, createStyle, type Style } from '../style.js';
import type { SigningFlags } from '../signing-key.js';
import { printJson } from '../render/json.js';
import { reachChangedHosts } from './undo.js';

export interface ExpireFlags extends SigningFlags {
  dryRun?: boolean;
  host: string[];
  inventory?: string;
  limit?: string;
  forks?: string;
  acceptNewHostKeys?: boolean;
  knownHosts?: string;
  auditDir: string;
  now?: string;
  json?: boolean;
  color?: boolean;
}

/** What is due, what is still running, and which logs were not read. */
export function renderExpirySummary(scan: ExpiryScan, now: Date, style: Style): string {
  const out: string[] = [style.bold(`Holds and temporary denies past their deadline at ${now.toISOString()} (${scan.logs} audit logs read)`)];
  if (scan.due.length === 0) out.push('  Nothing is due.');
  for (const d of scan.due) out.push(`  ${safeLine(d.host)}: ${safeLine(d.target)}  deadline ${safeLine(d.until)}  ${style.dim(`[${safeLine(d.action)} in ${safeLine(d.log)}]`)}`);
  if (scan.pending.length > 0) {
    out.push(style.dim('Still running (not touched):'));
    for (const p of scan.pending) out.push(style.dim(`  ${safeLine(p.host)}: ${safeLine(p.target)}  until ${safeLine(p.until)}`));
  }
  out.push(...skippedLogLines(scan.skipped, style));
  return out.join('\n');
}

/** The audit logs a scan of the audit directory could not read, and why (none: no lines). */
export function skippedLogLines(skipped: readonly { log: string; reason: string }[], style: Style): string[] {
  if (skipped.length === 0) return [];
  return [style.yellow('Audit logs not read (check them with runbook audit verify):'), ...skipped.map((s) => `  ${safeLine(s.log)}: ${safeLine(s.reason)}`)];
}

export async function expireCommand(flags: ExpireFlags, argv: string[]): Promise<number> {
  const json = flags.json === true;
  const style = createStyle(colorEnabled(process.stdout, flags.color));
  const errStyle = createStyle(colorEnabled(process.stderr, flags.color));
  const run = interruptibleRun();
  let audit: AuditWriter | undefined;
  try {
    const forks = positiveInt('--forks', flags.forks) ?? 10;
    const now = parseNow(flags.now);
    const registry = builtinActions();
    const scan = scanAuditDir(flags.auditDir, registry, now);
    if (!json) process.stdout.write(`${renderExpirySummary(scan, now, style)}\n\n`);
    if (scan.due.length === 0) {
      if (json) printJson({ ok: true, status: 'nothing-due', now: now.toISOString(), due: [], pending: scan.pending, skipped: scan.skipped });
      return EXIT.ok;
    }
    const hosts = [...new Set(scan.due.map((d) => d.host))];
    const targets = await reachChangedHosts(flags, hosts);
    // Releases generate no secrets; a file beside the log would be the place if one ever did.
    const opened = await openLoggedHostRun({ name: 'expire', auditDir: flags.auditDir, argv, json, dryRun: flags.dryRun === true, hosts, style, errStyle, signal: run.signal, signing: flags });
    const { auditPath, progress } = opened;
    audit = opened.audit;
    const report = await runExpiry(scan, {
      auditDir: flags.auditDir,
      now,
      targets,
      registry,
      dryRun: flags.dryRun === true,
      forks,
      ...opened.options,
    });
    await progress.end();
    audit.close();
    if (json) {
      printJson(
        redactDeep({ ok: report.exitCode === 0, status: report.status, exitCode: report.exitCode, reason: report.reason, now: now.toISOString(), dryRun: flags.dryRun === true, auditLog: auditPath, due: scan.due, pending: scan.pending, skipped: scan.skipped, planHash: report.plan.hash, hosts: report.outcomes }),
      );
    } else {
      if (!flags.dryRun && report.outcomes.length > 0) process.stdout.write(`${renderOutcomeTable(report.outcomes, { color: style.enabled })}\n`);
      if (report.status === 'failed') process.stderr.write(errStyle.red(`Some releases failed: ${safeLine(report.reason ?? '')}; the next runbook expire tries them again\n`));
      process.stderr.write(`Audit log: ${auditPath}\n`);
    }
    return report.exitCode;
  } catch (error) {
    return reportError(error, json);
  } finally {
    run.dispose();
    audit?.close();
  }
}
