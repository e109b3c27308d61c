import { builtinActions } from '../../actions/registry.js';
import { AuditWriter } from '../../audit/writer.js';
import { redactDeep } from '../../core/secret.js';
import { safeLine } from '../../core/text.js';
import { EXIT } from '../../engine/exit-codes.js';
import type { TargetHandle } from '../../engine/run.js';
import { prepareUndo, runUndo, UndoError, type UndoPlan } from '../../undo/index.js';
import { reportError, UsageError } from '../errors.js';
import { createGatekeeper } from '../gate.js';
import { renderOutcomeTable } from '../../fleet/outcome-table.js';
import { checkRunFlags, interruptibleRun, positiveInt } from '../run-support.js';
import { openLoggedHostRun } from '../logged-host-run.js';
import { colorEnabled, createStyle, type Style } from '../style.js';
import { resolveTargetHandles } from '../targets.js';
import type { SigningFlags } from '../signing-key.js';
import { printJson } from '../render/json.js';

export interface UndoFlags extends SigningFlags {
  dryRun?: boolean;
  yes?: boolean;
  approve?: string;
  host: string[];
  inventory?: string;
  limit?: string;
  forks?: string;
  secretsFile?: string;
  acceptNewHostKeys?: boolean;
  knownHosts?: string;
  auditDir: string;
  json?: boolean;
  color?: boolean;
}

/** What the undo will and will not do, before the engine plans it against the hosts. */
export function renderUndoSummary(plan: UndoPlan, style: Style): string {
  const out: string[] = [];
  out.push(style.bold(`Undo of run ${safeLine(plan.source.runId ?? '?')} (${safeLine(plan.source.playbook ?? '?')})`));
  if (plan.entries.length === 0) out.push('  Nothing reversible was changed by that run.');
  for (const e of plan.entries) out.push(`  ${safeLine(e.host)}: ${safeLine(e.description)}  ${style.dim(`[${safeLine(e.action)}, undoes ${safeLine(e.step)}]`)}`);
  if (plan.irreversible.length > 0) {
    out.push(style.yellow('Cannot be undone (not attempted):'));
    for (const i of plan.irreversible) out.push(`  ${safeLine(i.host)}: ${safeLine(i.reason)}  ${style.dim(`[${safeLine(i.step)}]`)}`);
  }
  if (plan.manual.length > 0) {
    out.push(style.yellow('Not reversed automatically (check by hand if needed):'));
    for (const m of plan.manual) out.push(`  ${safeLine(m.host)}: ${safeLine(m.reason)}  ${style.dim(`[${safeLine(m.step)}]`)}`);
  }
  return out.join('\n');
}

/** How to reach the hosts a run changed: --host/--inventory when given, else their names from the log. */
export interface ReachFlags {
  host: string[];
  inventory?: string;
  limit?: string;
  acceptNewHostKeys?: boolean;
  knownHosts?: string;
}

/**
 * The targets for reversing changes on `hosts`. --limit narrows them to some of those hosts;
 * otherwise every one must be reachable, so no reversal is left out silently.
 */
export async function reachChangedHosts(flags: ReachFlags, hosts: string[]): Promise<TargetHandle[]> {
  const hostFlags = flags.host.length > 0 || flags.inventory ? flags.host : hosts;
  const targets = await resolveTargetHandles(
    {
      host: hostFlags,
      ...(flags.inventory ? { inventory: flags.inventory } : {}),
      ...(flags.limit ? { limit: flags.limit } : {}),
      ...(flags.acceptNewHostKeys ? { acceptNewHostKeys: true } : {}),
      ...(flags.knownHosts ? { knownHosts: flags.knownHosts } : {}),
    },
    {},
  );
  const missing = flags.limit ? [] : hosts.filter((h) => !targets.some((t) => t.name === h));
  if (flags.limit && !targets.some((t) => hosts.includes(t.name))) throw new UsageError(`--limit ${flags.limit} selects none of the hosts the run changed (${hosts.join(', ')})`);
  if (missing.length > 0) throw new UsageError(`the run changed ${missing.join(', ')}, which the given --host/--inventory do not reach; name them (e.g. --host ${missing[0]}) so every reversal can run`);
  return targets;
}

export async function undoCommand(logPath: string, flags: UndoFlags, argv: string[]): Promise<number> {
  const json = flags.json === true;
  const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true;
  const style = createStyle(colorEnabled(process.stdout, flags.color));
  const errStyle = createStyle(colorEnabled(process.stderr, flags.color));
  const run = interruptibleRun();
  let audit: AuditWriter | undefined;
  try {
    checkRunFlags(flags);
    const forks = positiveInt('--forks', flags.forks) ?? 10;
    const registry = builtinActions();
    let prepared;
    try {
      prepared = prepareUndo(logPath, registry);
    } catch (error) {
      if (error instanceof UndoError) throw new UsageError(error.message);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`no such audit log: ${logPath}`);
      throw error;
    }
    const { plan } = prepared;
    if (!json) {
      process.stdout.write(`${renderUndoSummary(plan, style)}\n\n`);
      if (prepared.incomplete) process.stderr.write(errStyle.yellow('The source log has no summary (the run was interrupted): steps in flight are listed above for checking by hand.\n'));
    }
    if (plan.entries.length === 0) {
      if (json) printJson({ ok: true, status: 'nothing-to-undo', plan });
      return EXIT.ok;
    }
    const targets = await reachChangedHosts(flags, plan.hosts);

    const opened = await openLoggedHostRun({
      name: prepared.playbook.spec.name,
      auditDir: flags.auditDir,
      argv,
      json,
      dryRun: flags.dryRun === true,
      hosts: plan.hosts,
      style,
      errStyle,
      signal: run.signal,
      signing: flags,
      secrets: { ...(flags.secretsFile ? { file: flags.secretsFile } : {}), interactive },
    });
    const { auditPath, progress } = opened;
    audit = opened.audit;
    const report = await runUndo(prepared, {
      targets,
      registry,
      dryRun: flags.dryRun === true,
      ...(flags.approve !== undefined ? { approve: flags.approve } : {}),
      forks,
      gatekeeper: createGatekeeper({ yes: flags.yes === true, interactive: interactive && !json, style: errStyle, retryHint: '--yes, or with --approve <plan hash>' }),
      ...opened.options,
    });
    await progress.end();
    audit.close();
    if (json) {
      printJson(redactDeep({ ok: report.exitCode === 0, status: report.status, exitCode: report.exitCode, reason: report.reason, planHash: report.plan.hash, dryRun: flags.dryRun === true, auditLog: auditPath, plan, hosts: report.outcomes }));
    } else {
      if (!flags.dryRun && report.outcomes.length > 0) process.stdout.write(`${renderOutcomeTable(report.outcomes, { color: style.enabled })}\n`);
      if (report.status === 'declined' || report.status === 'refused') process.stderr.write(errStyle.yellow(`Stopped before any change: ${safeLine(report.reason ?? report.status)}\n`));
      else if (report.status === 'failed') process.stderr.write(errStyle.red(`Some reversals failed: ${safeLine(report.reason ?? '')}\n`));
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
