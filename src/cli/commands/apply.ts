import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { builtinActions } from '../../actions/registry.js';
import { attachExitCode, attachRun, AttachTargetError, parseAttachTarget, type AttachResult, type AttachTarget } from '../../audit/attach/index.js';
import { summarySigner, type SigningFlags } from '../signing-key.js';
import { AuditWriter } from '../../audit/writer.js';
import { redactDeep } from '../../core/secret.js';
import { acquireHostLock } from '../../fleet/lock.js';
import { hostsToRerun } from '../../fleet/rerun.js';
import { renderOutcomeTable } from '../../fleet/outcome-table.js';
import type { HostTarget } from '../../hosts/types.js';
import { approveCommand } from '../approve-command.js';
import { askHidden } from '../prompt-secret.js';
import { safeLine } from '../../core/text.js';
import { EXIT, runPlaybook, type RunPlan } from '../../engine/run.js';
import { loadPlaybook } from '../../playbook/load.js';
import { parseVarFlags, readVarsFile, resolveInputs } from '../../playbook/inputs.js';
import { reportError, UsageError } from '../errors.js';
import { createGatekeeper } from '../gate.js';
import { diffPlans, findPlanByHash } from '../plan-diff.js';
import { renderPlan } from '../render/plan.js';
import { canRedraw, listrProgress, plainProgress } from '../render/progress.js';
import { createSecretDelivery, fallbackSecretsFile } from '../secrets.js';
import { auditFileName, checkRunFlags, interruptibleRun, positiveInt } from '../run-support.js';
import { colorEnabled, createStyle } from '../style.js';
import { targetsFromFlags } from '../targets.js';
import { VERSION } from '../version.js';
import { checkVerbosity, extraVars, printHostListing, selectedSteps, type AnsibleStyleFlags } from '../ansible-style.js';
import { diagnosticLogger, diagnosticObserver, withDiagnostics } from '../diagnostics.js';
import type { LoadedPlaybook } from '../../playbook/load.js';
import type { ActionRegistry } from '../../actions/registry.js';
import { printJson } from '../render/json.js';
import { safeForTerminal } from '../../core/terminal-safe.js';

export interface ApplyFlags extends SigningFlags, Partial<AnsibleStyleFlags> {
  dryRun?: boolean;
  yes?: boolean;
  approve?: string;
  var: string[];
  varsFile?: string;
  host: string[];
  inventory?: string;
  limit?: string;
  forks: string;
  serial?: string;
  maxFailPercent?: string;
  acceptNewHostKeys?: boolean;
  askBecomePass?: boolean;
  becomePasswordFile?: string;
  knownHosts?: string;
  auditLog?: string;
  auditDir: string;
  secretsFile?: string;
  incident?: string;
  rerunFailed?: string;
  breakStaleLock?: boolean;
  json?: boolean;
  color?: boolean;
}

function incidentTarget(text: string): AttachTarget {
  try {
    return parseAttachTarget(text);
  } catch (error) {
    if (error instanceof AttachTargetError) throw new UsageError(`--incident: ${error.message}`);
    throw error;
  }
}

/** Where the playbook comes from: a file, or one built on the command line (`runbook run`). */
export type PlaybookSource = (registry: ActionRegistry) => Promise<LoadedPlaybook>;

export async function applyCommand(playbookPath: string, flags: ApplyFlags, argv: string[], source?: PlaybookSource): Promise<number> {
  const json = flags.json === true;
  const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true;
  const style = createStyle(colorEnabled(process.stdout, flags.color));
  const errStyle = createStyle(colorEnabled(process.stderr, flags.color));
  const run = interruptibleRun();
  let audit: AuditWriter | undefined;
  try {
    checkRunFlags(flags);
    // Parsed before anything is recorded: a bad target stops here, and a Slack hook URL (its
    // own credential) is known as a secret before argv reaches the audit log's header.
    const incident = flags.incident !== undefined ? incidentTarget(flags.incident) : undefined;
    const forks = positiveInt('--forks', flags.forks) ?? 10;
    const maxFail = flags.maxFailPercent === undefined ? undefined : Number(flags.maxFailPercent);
    if (maxFail !== undefined && !(maxFail >= 0 && maxFail <= 100)) throw new UsageError('--max-fail-percent takes a number from 0 to 100');
    const serial = flags.serial === undefined ? undefined : flags.serial.split(',').map((s) => positiveInt('--serial', s.trim()) as number);

    checkVerbosity({ verbose: flags.verbose ?? 0, ...(flags.quiet ? { quiet: true } : {}) });
    const registry = builtinActions();
    const playbook = selectedSteps(source ? await source(registry) : await loadPlaybook(playbookPath, registry), flags);
    if (flags.listHosts) return await printHostListing(flags, { json, ...(flags.rerunFailed ? { only: await hostsToRerun(flags.rerunFailed) } : {}) });
    const extra = await extraVars(flags.extraVars ?? []);
    const inputs = resolveInputs(playbook.spec, parseVarFlags([...flags.var, ...extra.pairs]), { ...(flags.varsFile ? await readVarsFile(flags.varsFile) : {}), ...extra.fromFiles });
    const log = diagnosticLogger(flags.verbose ?? 0);
    const logStep = log ? diagnosticObserver(log) : undefined;

    let only: string[] | undefined;
    if (flags.rerunFailed) {
      only = await hostsToRerun(flags.rerunFailed);
    }
    const targets = withDiagnostics(await targetsFromFlags(
      flags,
      {
        ...(interactive ? { askPassphrase: (keyPath: string) => askHidden(`Passphrase for ${keyPath}: `) } : {}),
        onHostKeyAccepted: (host, fingerprint) => {
          audit?.appendDurable({ type: 'note', host, step: '-', message: `host key accepted on first use (--accept-new-host-keys): ${fingerprint}`, data: { fingerprint } });
        },
      },
      { ...(only ? { only } : {}), ask: (q) => askHidden(q) },
    ), log);

    const auditPath = flags.auditLog ?? join(flags.auditDir, auditFileName(playbook.spec.name));
    // Before the audit log is created: a bad key or passphrase leaves nothing behind.
    const signSummary = await summarySigner(flags);
    if (run.signal.aborted) {
      process.stderr.write('Nothing ran and no audit log was written.\n');
      return EXIT.interrupted;
    }
    audit = AuditWriter.create(auditPath);


    const progress = json || flags.quiet ? plainProgress(process.stderr, errStyle, true) : interactive && errStyle.enabled && canRedraw(process.stderr) ? listrProgress(errStyle) : plainProgress(process.stderr, errStyle);
    const hostNames = targets.map((t) => t.name);
    progress.phase('Planning', hostNames);
    let shownPlan: RunPlan | undefined;
    const report = await runPlaybook({
      playbook,
      inputs,
      targets,
      registry,
      dryRun: flags.dryRun === true,
      ...(flags.approve !== undefined ? { approve: flags.approve } : {}),
      gatekeeper: createGatekeeper({ yes: flags.yes === true, interactive: interactive && !json, style: errStyle, retryHint: '--yes, or with --approve <plan hash>' }),
      audit,
      argv,
      toolVersion: VERSION,
      observer: (event) => {
        progress.observer(event);
        logStep?.(event);
      },
      signal: run.signal,
      deliverSecret: createSecretDelivery({
        ...(flags.secretsFile ? { secretsFile: flags.secretsFile } : {}),
        fallbackFile: fallbackSecretsFile(auditPath),
        interactive,
        emergencyDir: dirname(auditPath),
      }),
      onPlan: async (plan) => {
        await progress.end();
        shownPlan = plan;
        // -q shows the plan only where it is the outcome (a dry-run's hash) or a question follows.
        const gateAsked = interactive && !flags.yes && !flags.approve && !flags.dryRun;
        if (!json && flags.quiet && !gateAsked) {
          if (flags.dryRun) process.stdout.write(`Plan ${plan.hash}${plan.hosts.some((h) => h.stopped) ? '' : `; apply exactly this plan with: ${approveCommand(argv, plan.hash)}`}\n`);
        } else if (!json) {
          process.stdout.write(
            `${renderPlan(plan, { playbook: playbook.spec.name, dryRun: flags.dryRun === true, hosts: hostNames, approveHint: flags.dryRun && !plan.hosts.some((h) => h.stopped) ? approveCommand(argv, plan.hash) : undefined }, style)}\n\n`,
          );
        }
      },
      // The progress display starts after the gates, so no spinner runs under the prompt.
      onExecute: () => progress.phase('Applying', hostNames),
      forks,
      ...(flags.dryRun
        ? {}
        : {
            lockHost: async (target: HostTarget) => {
              const lock = await acquireHostLock(target, { runId: basename(auditPath, '.jsonl'), ...(flags.breakStaleLock ? { breakStale: true } : {}) });
              if (lock.brokeStale) process.stderr.write(`${safeLine(target.name)}: broke a stale run lock: ${safeLine(lock.brokeStale)}\n`);
              if (lock.brokeStale) audit?.append({ type: 'note', host: target.name, step: '-', message: `broke a stale run lock: ${lock.brokeStale}`, ...(lock.broke ? { data: { owner: lock.broke } } : {}) });
              return () => lock.release();
            },
          }),
      ...(serial ? { serial: serial.length === 1 ? serial[0] : serial } : {}),
      ...(maxFail !== undefined ? { maxFailPercent: maxFail } : {}),
      ...(flags.incident ? { incident: flags.incident } : {}),
      ...(signSummary ? { signSummary } : {}),
    });
    await progress.end();
    audit.close();

    let diff: string[] | undefined;
    if (report.status === 'refused' && flags.approve && shownPlan) {
      const approved = await findPlanByHash(flags.auditDir, flags.approve);
      diff = approved ? diffPlans(approved, shownPlan.records) : undefined;
    }

    let attached: AttachResult | undefined;
    if (incident && !flags.dryRun) attached = await attachRun(auditPath, incident);

    if (json) {
      printJson(
        redactDeep({
          ok: report.exitCode === 0,
          status: report.status,
          exitCode: report.exitCode,
          reason: report.reason,
          planHash: report.plan.hash,
          dryRun: flags.dryRun === true,
          auditLog: auditPath,
          hosts: report.outcomes,
          plan: report.plan.records,
          ...(diff ? { planDiff: diff } : {}),
          ...(attached ? { attached: { ok: attached.ok, message: attached.message, target: attached.target, ...(attached.reportPath ? { reportPath: attached.reportPath } : {}) } } : {}),
        }),
      );
    } else {
      if (!flags.dryRun && report.outcomes.length > 0 && report.status !== 'refused') process.stdout.write(`${renderOutcomeTable(report.outcomes, { color: style.enabled })}\n`);
      const say = (text: string) => process.stderr.write(`${text}\n`);
      if (report.status === 'refused' && flags.approve) {
        say(errStyle.red(`Refused: the plan now has hash ${report.plan.hash}, not the approved ${flags.approve}. Nothing was changed.`));
        if (diff && diff.length > 0) say(['What changed since the approved plan:', ...diff.map((l) => `  ${l}`)].join('\n'));
        else if (!diff) say(`(The approved plan was not found under ${flags.auditDir}, so the difference cannot be shown; the fresh plan is above.)`);
        say('Review the plan above; if it is right, approve its hash.');
      } else if (report.status === 'refused' || report.status === 'declined') {
        say(errStyle.yellow(`Stopped before any change: ${safeLine(report.reason ?? report.status)}`));
      } else if (report.status === 'interrupted') {
        say(errStyle.yellow('Interrupted. The audit log says exactly which steps ran.'));
      } else if (report.status === 'failed') {
        say(errStyle.red(`Finished with failures: ${safeLine(report.reason ?? '')}`));
      }
      if (attached) say(attached.ok ? safeForTerminal(attached.message) : errStyle.red(safeForTerminal(attached.message)));
      say(`Audit log: ${auditPath}`);
    }
    if (attached && !attached.ok && report.exitCode === 0) return attachExitCode(attached);
    return report.exitCode;
  } catch (error) {
    return reportError(error, json);
  } finally {
    run.dispose();
    audit?.close();
  }
}


/** The options of every command that plans and runs steps on hosts (apply, run). */
