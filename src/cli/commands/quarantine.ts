import { builtinActions } from '../../actions/registry.js';
import { quarantinePrune } from '../../actions/exim/quarantine-prune.js';
import { AuditWriter } from '../../audit/writer.js';
import { redactDeep } from '../../core/secret.js';
import { safeLine } from '../../core/text.js';
import { EXIT, runPlaybook } from '../../engine/run.js';
import { renderOutcomeTable } from '../../fleet/outcome-table.js';
import { parseRetention, prunePlaybook, scanQuarantines, type KeptQuarantine, type QuarantineScan } from '../../undo/quarantine-retention.js';
import { reportError, UsageError } from '../errors.js';
import { createGatekeeper } from '../gate.js';
import { printJson } from '../render/json.js';
import { interruptibleRun, parseNow, positiveInt } from '../run-support.js';
import { openLoggedHostRun } from '../logged-host-run.js';
import type { SigningFlags } from '../signing-key.js';
import { colorEnabled, createStyle, type Style } from '../style.js';
import { skippedLogLines } from './expire.js';
import { reachChangedHosts } from './undo.js';

export interface QuarantineListFlags {
  auditDir: string;
  retention: string;
  now?: string;
  json?: boolean;
  color?: boolean;
}

export interface QuarantinePruneFlags extends QuarantineListFlags, SigningFlags {
  dryRun?: boolean;
  yes?: boolean;
  withinRetention?: boolean;
  host: string[];
  inventory?: string;
  limit?: string;
  forks?: string;
  acceptNewHostKeys?: boolean;
  knownHosts?: string;
}

function retentionOf(text: string): number {
  const seconds = parseRetention(text);
  if (seconds === null) throw new UsageError(`--retention ${text} is not a duration; give e.g. 30d, 12h or 2w`);
  return seconds;
}

function line(q: KeptQuarantine, style: Style): string {
  const what = q.state === 'deleted' ? style.dim(`deleted ${safeLine(q.since ?? '')}`) : q.state === 'restored' ? `restored ${safeLine(q.since ?? '')}, copy spare` : q.due ? `retention ended ${safeLine(q.expires)}` : `kept until ${safeLine(q.expires)} (its purge can be undone)`;
  const partly = q.prunedPartly === undefined ? '' : `  ${style.yellow(`a prune stopped part-way at ${safeLine(q.prunedPartly.at)}, some copies may be gone (prune again to finish) [${safeLine(q.prunedPartly.log)}]`)}`;
  return `  ${safeLine(q.host)}: ${safeLine(q.dir)}  ${q.messages ?? '?'} messages, purged ${safeLine(q.created)}  ${what}${partly}  ${style.dim(`[${safeLine(q.log)}]`)}`;
}

/** The quarantines the logs name, and what each is now. */
export function renderQuarantines(scan: QuarantineScan, now: Date, style: Style): string {
  const out: string[] = [style.bold(`Quarantines of purges at ${now.toISOString()} (${scan.logs} audit logs read)`)];
  if (scan.quarantines.length === 0) out.push('  None recorded.');
  for (const q of scan.quarantines) out.push(line(q, style));
  out.push(...skippedLogLines(scan.skipped, style));
  return out.join('\n');
}

export async function quarantineListCommand(flags: QuarantineListFlags): Promise<number> {
  const json = flags.json === true;
  try {
    const now = parseNow(flags.now);
    const scan = scanQuarantines(flags.auditDir, builtinActions(), now, retentionOf(flags.retention));
    if (json) printJson({ ok: true, now: now.toISOString(), retention: flags.retention, quarantines: scan.quarantines, skipped: scan.skipped });
    else process.stdout.write(`${renderQuarantines(scan, now, createStyle(colorEnabled(process.stdout, flags.color)))}\n`);
    return EXIT.ok;
  } catch (error) {
    return reportError(error, json);
  }
}

/**
 * Deletes the chosen quarantines as an audited run: those past retention (or whose messages
 * were put back), and those within it only with --within-retention. `dirs` narrows the choice.
 */
export async function quarantinePruneCommand(dirs: string[], flags: QuarantinePruneFlags, argv: string[]): Promise<number> {
  const json = flags.json === true;
  const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true;
  const style = createStyle(colorEnabled(process.stdout, flags.color));
  const errStyle = createStyle(colorEnabled(process.stderr, flags.color));
  const run = interruptibleRun();
  let audit: AuditWriter | undefined;
  try {
    const forks = positiveInt('--forks', flags.forks) ?? 10;
    const now = parseNow(flags.now);
    const registry = builtinActions();
    const scan = scanQuarantines(flags.auditDir, registry, now, retentionOf(flags.retention));
    const wanted = dirs.map((d) => d.replace(/\/+$/, ''));
    const unknown = wanted.filter((d) => !scan.quarantines.some((q) => q.dir === d));
    if (unknown.length > 0) throw new UsageError(`no purge in ${flags.auditDir} recorded the quarantine ${unknown[0]}; runbook deletes only quarantines its audit logs name`);
    const candidates = scan.quarantines.filter((q) => q.state !== 'deleted' && (wanted.length === 0 || wanted.includes(q.dir)));
    const chosen = candidates.filter((q) => q.due || flags.withinRetention === true);
    const held = candidates.filter((q) => !chosen.includes(q));
    if (!json) {
      process.stdout.write(`${renderQuarantines(scan, now, style)}\n\n`);
      for (const q of held) process.stdout.write(style.yellow(`Not deleted: ${safeLine(q.dir)} is within its retention (until ${safeLine(q.expires)}) and is the only undo of its purge; --within-retention deletes it anyway\n`));
    }
    if (chosen.length === 0) {
      if (json) printJson({ ok: true, status: 'nothing-due', now: now.toISOString(), due: [], kept: held, skipped: scan.skipped });
      return EXIT.ok;
    }
    const { playbook, inputs, plan } = prunePlaybook(chosen, flags.auditDir, now, quarantinePrune.name);
    const targets = await reachChangedHosts(flags, plan.hosts);
    const opened = await openLoggedHostRun({ name: 'quarantine-prune', auditDir: flags.auditDir, argv, json, dryRun: flags.dryRun === true, hosts: plan.hosts, style, errStyle, signal: run.signal, signing: flags });
    const { auditPath, progress } = opened;
    audit = opened.audit;
    const report = await runPlaybook({
      playbook,
      inputs,
      targets: targets.filter((t) => plan.hosts.includes(t.name)),
      registry,
      dryRun: flags.dryRun === true,
      forks,
      gatekeeper: createGatekeeper({ yes: flags.yes === true, interactive: interactive && !json, style: errStyle, retryHint: '--yes' }),
      ...opened.options,
    });
    await progress.end();
    audit.close();
    // Each deletion is a step of its own that goes on after another failed: a failed one fails the command.
    const failed = report.outcomes.flatMap((o) => o.steps.filter((s) => s.status === 'failed').map((s) => `${o.host}: ${s.error ?? s.id}`));
    const exitCode = report.exitCode !== EXIT.ok ? report.exitCode : failed.length > 0 ? 1 : EXIT.ok;
    const status = report.status === 'ok' && failed.length > 0 ? 'failed' : report.status;
    if (json) {
      printJson(redactDeep({ ok: exitCode === 0, status, exitCode, failed, reason: report.reason, now: now.toISOString(), dryRun: flags.dryRun === true, auditLog: auditPath, due: chosen, kept: held, skipped: scan.skipped, planHash: report.plan.hash, hosts: report.outcomes }));
    } else {
      if (!flags.dryRun && report.outcomes.length > 0) process.stdout.write(`${renderOutcomeTable(report.outcomes, { color: style.enabled })}\n`);
      if (report.status === 'declined' || report.status === 'refused') process.stderr.write(errStyle.yellow(`Stopped before any change: ${safeLine(report.reason ?? report.status)}\n`));
      else if (status === 'failed') process.stderr.write(errStyle.red(`Some deletions failed: ${safeLine(report.reason ?? failed.join('; '))}\n`));
      process.stderr.write(`Audit log: ${auditPath}\n`);
    }
    return exitCode;
  } catch (error) {
    return reportError(error, json);
  } finally {
    run.dispose();
    audit?.close();
  }
}

