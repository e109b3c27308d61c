import { dirname, join } from 'node:path';
import { Option, type Command } from 'commander';
import { builtinActions } from '../../actions/registry.js';
import { AuditWriter } from '../../audit/writer.js';
import { redactDeep } from '../../core/secret.js';
import { safeLine } from '../../core/text.js';
import { EXIT, type TargetHandle } from '../../engine/run.js';
import { prepareUndo, runUndo, UndoError, type UndoPlan } from '../../undo/index.js';
import { reportError, UsageError } from '../errors.js';
import { createGatekeeper } from '../gate.js';
import { renderOutcomeTable } from '../../fleet/outcome-table.js';
import { renderPlan } from '../render/plan.js';
import { plainProgress } from '../render/progress.js';
import { createSecretDelivery, fallbackSecretsFile } from '../secrets.js';
import { auditFileName, checkRunFlags, collect, interruptibleRun, positiveInt } from '../run-support.js';
import { colorEnabled, createStyle, type Style } from '../style.js';
import { resolveTargetHandles } from '../targets.js';
import { VERSION } from '../version.js';
import { summarySigner, signKeyOption, signKeyPassphraseOption, type SigningFlags } from '../signing-key.js';
import { printJson } from '../render/json.js';

interface UndoFlags extends SigningFlags {
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

    // Before the audit log is created: a bad key or passphrase leaves nothing behind.
    const signSummary = await summarySigner(flags);
    const auditPath = join(flags.auditDir, auditFileName(prepared.playbook.spec.name));
    audit = AuditWriter.create(auditPath);
    const progress = plainProgress(process.stderr, errStyle, json);
    const report = await runUndo(prepared, {
      targets,
      registry,
      dryRun: flags.dryRun === true,
      ...(flags.approve !== undefined ? { approve: flags.approve } : {}),
      forks,
      gatekeeper: createGatekeeper({ yes: flags.yes === true, interactive: interactive && !json, style: errStyle, retryHint: '--yes, or with --approve <plan hash>' }),
      audit,
      argv,
      toolVersion: VERSION,
      observer: (event) => progress.observer(event),
      signal: run.signal,
      ...(signSummary ? { signSummary } : {}),
      deliverSecret: createSecretDelivery({ ...(flags.secretsFile ? { secretsFile: flags.secretsFile } : {}), fallbackFile: fallbackSecretsFile(auditPath), interactive, emergencyDir: dirname(auditPath) }),
      onPlan: async (p) => {
        await progress.end();
        if (!json) process.stdout.write(`${renderPlan(p, { playbook: prepared.playbook.spec.name, dryRun: flags.dryRun === true, hosts: plan.hosts }, style)}\n\n`);
      },
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

export function registerUndoCommand(program: Command): void {
  program
    .command('undo')
    .description("Reverse a run's reversible changes (file modes, CSF denies, suspensions) from its audit log, planned and gated like any run")
    .argument('<log>', 'audit log of the run to undo')
    .option('-n, --dry-run', 'show the undo plan against the hosts; change nothing')
    .option('-y, --yes', 'accept the confirmation gate (for automation)')
    .option('--approve <hash>', 'undo only if the fresh plan has this hash (from a dry-run); accepts its gate')
    .option('-H, --host <host>', 'how to reach the hosts (default: the host names in the log)', collect, [])
    .option('-i, --inventory <file>', 'inventory that resolves the host names in the log')
    .option('-l, --limit <pattern>', 'only these hosts/groups/globs of the inventory, e.g. "web*,!web3"')
    .option('-f, --forks <n>', 'hosts worked on at once', '10')
    .option('--accept-new-host-keys', 'trust unknown SSH host keys on first use (recorded in the audit log)')
    .option('--known-hosts <file>', 'known_hosts file to verify host keys against')
    .option('--audit-dir <dir>', 'directory for the audit log of the undo run', 'runbook-audit')
    .option('--secrets-file <file>', 'write generated secrets to this 0600 file instead of the terminal (without a terminal the default is ~/.local/state/runbook/secrets/)')
    .addOption(signKeyOption())
    .addOption(signKeyPassphraseOption())
    .option('--json', 'machine-readable result on stdout')
    .addOption(new Option('--no-color', 'no colours (also NO_COLOR=1)'))
    .addHelpText(
      'after',
      `
Only changes recorded with an undo in steps that finished 'changed' are reversed, newest first.
Messages purged without quarantine and reset passwords cannot be brought back: they are
listed, never attempted. Quarantined messages are put back into the queue.
A log whose hash chain does not verify is refused.

Examples:
  runbook undo runbook-audit/20250301T100000Z-spam-incident-123.jsonl --dry-run
  runbook undo LOG -i fleet.yml

Exit codes: 0 undone (or nothing to undo) · 1 a reversal failed · 2 bad log, tampered log or
flags · 3 stopped at the gate · 4 --approve hash differs · 5 audit log not writable · 130 interrupted`,
    )
    .action(async (log: string, flags: UndoFlags) => {
      process.exitCode = await undoCommand(log, flags, process.argv.slice(2));
    });
}
