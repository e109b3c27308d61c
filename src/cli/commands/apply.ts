import { basename, join } from 'node:path';
import { Option, type Command } from 'commander';
import { builtinActions } from '../../actions/registry.js';
import { attachExitCode, attachRun, type AttachResult } from '../../audit/attach/index.js';
import { chainHeadSigner, signKeyOption, signKeyPassphraseOption, type SigningFlags } from '../signing-key.js';
import { AuditWriter } from '../../audit/writer.js';
import { redactDeep } from '../../core/secret.js';
import { acquireHostLock } from '../../fleet/lock.js';
import { hostsToRerun } from '../../fleet/rerun.js';
import { renderOutcomeTable } from '../../fleet/outcome-table.js';
import type { HostTarget } from '../../hosts/types.js';
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
import { auditFileName, checkRunFlags, collect, interruptibleRun, positiveInt } from '../run-support.js';
import { colorEnabled, createStyle } from '../style.js';
import { targetsFromFlags } from '../targets.js';
import { VERSION } from '../version.js';

export interface ApplyFlags extends SigningFlags {
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

/** The command line that applies exactly this plan. */
function approveCommand(argv: string[], hash: string): string {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i] as string;
    if (a === '--dry-run' || a === '--yes' || a === '-y') continue;
    if (a === '--approve') {
      i += 1;
      continue;
    }
    if (a.startsWith('--approve=')) continue;
    kept.push(/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  }
  return `runbook ${kept.join(' ')} --approve ${hash}`;
}

export async function applyCommand(playbookPath: string, flags: ApplyFlags, argv: string[]): Promise<number> {
  const json = flags.json === true;
  const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true;
  const style = createStyle(colorEnabled(process.stdout, flags.color));
  const errStyle = createStyle(colorEnabled(process.stderr, flags.color));
  const run = interruptibleRun();
  let audit: AuditWriter | undefined;
  try {
    checkRunFlags(flags);
    const forks = positiveInt('--forks', flags.forks) ?? 10;
    const maxFail = flags.maxFailPercent === undefined ? undefined : Number(flags.maxFailPercent);
    if (maxFail !== undefined && !(maxFail >= 0 && maxFail <= 100)) throw new UsageError('--max-fail-percent takes a number from 0 to 100');
    const serial = flags.serial === undefined ? undefined : flags.serial.split(',').map((s) => positiveInt('--serial', s.trim()) as number);

    const registry = builtinActions();
    const playbook = await loadPlaybook(playbookPath, registry);
    const inputs = resolveInputs(playbook.spec, parseVarFlags(flags.var), flags.varsFile ? await readVarsFile(flags.varsFile) : {});

    let only: string[] | undefined;
    if (flags.rerunFailed) {
      only = await hostsToRerun(flags.rerunFailed);
    }
    const targets = await targetsFromFlags(
      flags,
      {
        ...(interactive ? { askPassphrase: (keyPath: string) => askHidden(`Passphrase for ${keyPath}: `) } : {}),
        onHostKeyAccepted: (host, fingerprint) => {
          audit?.appendDurable({ type: 'note', host, step: '-', message: `host key accepted on first use (--accept-new-host-keys): ${fingerprint}`, data: { fingerprint } });
        },
      },
      { ...(only ? { only } : {}), ask: (q) => askHidden(q) },
    );

    const auditPath = flags.auditLog ?? join(flags.auditDir, auditFileName(playbook.spec.name));
    // Before the audit log is created: a bad key or passphrase leaves nothing behind.
    const signHead = await chainHeadSigner(flags);
    audit = AuditWriter.create(auditPath);


    const progress = json ? plainProgress(process.stderr, errStyle, true) : interactive && canRedraw(process.stderr) ? listrProgress(errStyle) : plainProgress(process.stderr, errStyle);
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
      observer: (event) => progress.observer(event),
      signal: run.signal,
      deliverSecret: createSecretDelivery({
        ...(flags.secretsFile ? { secretsFile: flags.secretsFile } : {}),
        fallbackFile: fallbackSecretsFile(auditPath),
        interactive,
      }),
      onPlan: async (plan) => {
        await progress.end();
        shownPlan = plan;
        if (!json) {
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
              if (lock.broke) audit?.append({ type: 'note', host: target.name, step: '-', message: `broke a stale run lock held by ${JSON.stringify(lock.broke)}` });
              return () => lock.release();
            },
          }),
      ...(serial ? { serial: serial.length === 1 ? serial[0] : serial } : {}),
      ...(maxFail !== undefined ? { maxFailPercent: maxFail } : {}),
      ...(flags.incident ? { incident: flags.incident } : {}),
      ...(signHead ? { signHead } : {}),
    });
    await progress.end();
    audit.close();

    let diff: string[] | undefined;
    if (report.status === 'refused' && flags.approve && shownPlan) {
      const approved = await findPlanByHash(flags.auditDir, flags.approve);
      diff = approved ? diffPlans(approved, shownPlan.records) : undefined;
    }

    let attached: AttachResult | undefined;
    if (flags.incident && !flags.dryRun) attached = await attachRun(auditPath, flags.incident);

    if (json) {
      process.stdout.write(
        `${JSON.stringify(
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
          null,
          2,
        )}\n`,
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
      if (attached) say(attached.ok ? attached.message : errStyle.red(attached.message));
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

export function registerApplyCommand(program: Command): void {
  program
    .command('apply')
    .description('Plan and run a playbook on one host or a fleet (read-only steps run, mutating steps are gated)')
    .argument('<playbook>', 'playbook YAML file')
    .option('-n, --dry-run', 'run read-only steps, plan the rest; change nothing')
    .option('-y, --yes', 'accept every confirmation gate (for automation)')
    .option('--approve <hash>', 'apply only if the fresh plan has this hash (from a dry-run); accepts its gates')
    .option('--var <name=value>', 'set an input (repeatable)', collect, [])
    .option('--vars-file <file>', 'YAML file of input values')
    .option('-H, --host <host>', "target: 'demo' (built-in simulated cPanel host), 'local', or [user@]host[:port] over SSH (repeatable)", collect, [])
    .option('-i, --inventory <file>', 'inventory of hosts and groups (runbook or Ansible YAML)')
    .option('-l, --limit <pattern>', 'hosts/groups/globs from the inventory, e.g. "web*,!web3"')
    .option('-f, --forks <n>', 'hosts worked on at once', '10')
    .option('--serial <n[,n...]>', 'batches of hosts; the first batch is a canary')
    .option('--max-fail-percent <pct>', 'stop starting new hosts once this share of hosts failed')
    .option('--accept-new-host-keys', 'trust unknown SSH host keys on first use (recorded in the audit log); changed keys are still refused')
    .option('-K, --ask-become-pass', 'ask once for the sudo password of hosts with become (never on argv)')
    .option('--become-password-file <file>', 'read the sudo password for become from this 0600 file')
    .option('--known-hosts <file>', 'known_hosts file to verify host keys against (default ~/.ssh/known_hosts)')
    .option('--audit-log <file>', 'write the audit log here instead of the audit directory')
    .option('--audit-dir <dir>', 'directory for audit logs', 'runbook-audit')
    .option('--secrets-file <file>', 'write generated secrets (new passwords) to this 0600 file instead of the terminal (without a terminal the default is ~/.local/state/runbook/secrets/)')
    .addOption(signKeyOption())
    .addOption(signKeyPassphraseOption())
    .option('--incident <target>', 'attach the report to an incident: webhook:URL, pagerduty:ID, jira:KEY, github:OWNER/REPO#N')
    .option('--rerun-failed <auditlog>', 'only the hosts that failed or were unreachable in that run')
    .option('--break-stale-lock', "take over a host's run lock when its holder is gone or it is older than 6 hours (reported)")
    .option('--json', 'machine-readable result on stdout')
    .addOption(new Option('--no-color', 'no colours (also NO_COLOR=1)'))
    .addHelpText(
      'after',
      `
Examples:
  runbook apply playbooks/spam-incident.yml --host demo --dry-run
  runbook apply playbooks/spam-incident.yml --host demo --approve <hash from the dry-run>
  runbook apply playbooks/spam-incident.yml -i fleet.yml -l 'cpanel*' --forks 20 --yes

Exit codes: 0 ok · 1 a step or host failed · 2 bad playbook, inputs or flags ·
3 stopped at a gate (declined, or no terminal and no --yes) · 4 --approve hash differs ·
5 audit log not writable · 130 interrupted`,
    )
    .action(async (playbook: string, flags: ApplyFlags) => {
      process.exitCode = await applyCommand(playbook, flags, process.argv.slice(2));
    });
}
