import { basename, join, resolve } from 'node:path';
import { builtinActions, type ActionRegistry } from '../actions/registry.js';
import { attachRun, describeTarget, parseAttachTarget, type AttachOptions, type PendingAction } from '../audit/attach/index.js';
import { AuditWriter } from '../audit/writer.js';
import { approveCommand } from '../cli/approve-command.js';
import { auditFileName } from '../cli/run-support.js';
import { resolveTargetHandles } from '../cli/targets.js';
import { VERSION } from '../cli/version.js';
import { runPlaybook, type RunReport, type TargetHandle } from '../engine/run.js';
import type { Gatekeeper } from '../engine/types.js';
import { acquireHostLock } from '../fleet/lock.js';
import type { HostTarget } from '../hosts/types.js';
import { resolveInputs } from '../playbook/inputs.js';
import { loadPlaybook, type LoadedPlaybook } from '../playbook/load.js';
import { applyArgv, playbookInputs } from './response-inputs.js';
import type { ResponseConfig, ResponseOutcome, Trigger, TriggerResponder } from './types.js';

/** What the responder needs from its surroundings; every field has a working default. */
export interface ResponderIo {
  /** Environment, credentials file and retry policy for the notification targets. */
  attach?: Omit<AttachOptions, 'pending' | 'fallbackDir' | 'signal'>;
  /** The run's hosts from `config.host` (and `config.inventory`); default: as `runbook apply` resolves them. */
  targets?: (config: ResponseConfig) => Promise<TargetHandle[]>;
  /** One line per thing done, for the watcher's own log. Never carries a secret. */
  log?: (line: string) => void;
}

/** Nobody is at an unattended run: a gate that reaches this was not meant to be asked. */
const noHuman: Gatekeeper = {
  async ask() {
    return { answer: 'refused', by: 'unattended', reason: 'an unattended run has nobody to answer a gate' };
  },
};

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A trigger id as part of a file name: `[A-Za-z0-9._-]`, short. */
function fileSafe(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60);
}

/** One line of what the plan leaves to a human: its mutating steps that will run. */
function finishSummary(report: RunReport): string {
  const steps = report.plan.records.filter((r) => r.mutates && r.skipped === undefined && !r.noop);
  if (steps.length === 0) return 'nothing (the finishing plan has no change to make)';
  return steps.map((s) => `${s.step}: ${s.summary}`).join('; ');
}

function triggerLine(trigger: Trigger): string {
  const o = trigger.observed;
  return `rule ${trigger.rule} tripped on ${trigger.key.kind} ${trigger.key.value} (${o.metric} ${o.value}, threshold ${o.threshold} in ${o.windowSeconds}s)`;
}

/**
 * Contains a trigger without a human: runs the containment playbook unattended (only
 * reversible steps may run; the engine refuses the rest), plans the finishing playbook to get
 * the hash a human approves, and notifies every target with the report and the exact
 * `runbook apply … --approve HASH`. A failed notification is reported in the outcome; it never
 * undoes or hides the containment.
 *
 * Outcome status: `contained` when the unattended run finished and a reversible step applied
 * (or found its hold in place); `refused` when nothing was run (a trigger input the playbooks
 * cannot take) or nothing in the containment playbook could run unattended for this trigger;
 * `failed` when the containment run failed or could not start. Every case but a refusal before
 * any run still plans the finishing playbook and notifies.
 */
export function createResponder(config: ResponseConfig, io: ResponderIo = {}): TriggerResponder {
  const log = io.log ?? (() => {});
  const targets = io.targets ?? ((c: ResponseConfig) => resolveTargetHandles({ host: [c.host], ...(c.inventory !== undefined ? { inventory: c.inventory } : {}) }, {}));
  const auditDir = resolve(config.auditDir);

  async function run(playbook: LoadedPlaybook, registry: ActionRegistry, trigger: Trigger, pairs: [string, string][], mode: 'contain' | 'plan', signal: AbortSignal): Promise<RunReport> {
    const inputs = resolveInputs(playbook.spec, Object.fromEntries(pairs));
    const handles = await targets(config);
    // Created last: a host that cannot be resolved leaves no empty log behind.
    const auditPath = join(auditDir, auditFileName(`${playbook.spec.name}-${fileSafe(trigger.id)}`));
    const audit = AuditWriter.create(auditPath);
    const argv = applyArgv(playbook.path, config, pairs);
    try {
      return await runPlaybook({
        playbook,
        inputs,
        targets: handles,
        registry,
        dryRun: mode === 'plan',
        ...(mode === 'contain' ? { unattended: true } : {}),
        gatekeeper: noHuman,
        audit,
        // What a shell would have run; the header's `unattended` says no human did.
        argv: mode === 'plan' ? [...argv, '--dry-run'] : argv,
        toolVersion: VERSION,
        observer: () => {},
        signal,
        deliverSecret: async (_host, label) => {
          throw new Error(`an unattended run has nobody to hand the ${label} to`);
        },
        onPlan: () => {
          audit.append({ type: 'note', host: config.host, step: '-', message: `watch: ${triggerLine(trigger)}`, data: { trigger: { ...trigger } } });
        },
        ...(mode === 'contain'
          ? {
              lockHost: async (target: HostTarget) => {
                const lock = await acquireHostLock(target, { runId: basename(auditPath, '.jsonl'), operator: 'runbook watch' });
                return () => lock.release();
              },
            }
          : {}),
      });
    } finally {
      audit.close();
    }
  }

  async function notify(outcome: ResponseOutcome, pending: PendingAction | undefined, signal: AbortSignal): Promise<void> {
    if (outcome.auditLog === undefined) {
      if (config.notify.length > 0) outcome.errors.push('nobody was notified: the containment left no audit log to send');
      return;
    }
    for (const text of config.notify) {
      let where = 'a notification target';
      try {
        const target = parseAttachTarget(text);
        where = describeTarget(target);
        const result = await attachRun(outcome.auditLog, target, { ...io.attach, ...(pending ? { pending } : {}), fallbackDir: auditDir, signal });
        if (result.ok) outcome.notified.push(where);
        else outcome.errors.push(`${where}: ${result.message}`);
      } catch (error) {
        outcome.errors.push(`${where}: ${message(error)}`);
      }
      log(`${outcome.trigger}: ${outcome.notified.includes(where) ? `notified ${where}` : `could not notify ${where}`}`);
    }
  }

  return {
    async respond(trigger: Trigger, signal: AbortSignal): Promise<ResponseOutcome> {
      const outcome: ResponseOutcome = { trigger: trigger.id, status: 'failed', notified: [], errors: [] };
      const registry = builtinActions();
      let contain: LoadedPlaybook;
      let finish: LoadedPlaybook;
      let containPairs: [string, string][];
      let finishPairs: [string, string][];
      try {
        contain = await loadPlaybook(config.containPlaybook, registry);
        finish = await loadPlaybook(config.finishPlaybook, registry);
        containPairs = playbookInputs(contain.spec, trigger, config.holdFor);
        finishPairs = playbookInputs(finish.spec, trigger, config.holdFor);
        resolveInputs(contain.spec, Object.fromEntries(containPairs));
        resolveInputs(finish.spec, Object.fromEntries(finishPairs));
      } catch (error) {
        // Nothing ran and there is no log to send: the watcher reports it.
        outcome.status = 'refused';
        outcome.errors.push(message(error));
        log(`${trigger.id}: refused before any run: ${message(error)}`);
        return outcome;
      }

      // (a) Contain, unattended.
      let contained: RunReport | undefined;
      try {
        contained = await run(contain, registry, trigger, containPairs, 'contain', signal);
        outcome.auditLog = contained.auditPath;
        // A reversible step that applied: it ran, or found its hold already in place.
        const ran = contained.plan.records.some((r) => r.mutates && r.skipped === undefined);
        if (contained.status !== 'ok') {
          outcome.status = 'failed';
          outcome.errors.push(`containment ${contained.status}: ${contained.reason ?? contained.outcomes.map((o) => o.error).filter(Boolean).join('; ')}`);
        } else {
          outcome.status = ran ? 'contained' : 'refused';
          if (!ran) outcome.errors.push(`nothing in ${contain.spec.name} could run unattended for this trigger${contained.reason ? ` (${contained.reason})` : ''}`);
        }
      } catch (error) {
        outcome.errors.push(`containment: ${message(error)}`);
      }
      log(`${trigger.id}: ${outcome.status}${outcome.auditLog ? `, audit log ${outcome.auditLog}` : ''}`);
      if (signal.aborted) {
        outcome.errors.push('interrupted before the finishing plan and the notifications');
        return outcome;
      }

      // (b) The finishing plan and its hash, planned after the hold so it is about the held host.
      let pending: PendingAction | undefined;
      try {
        const planned = await run(finish, registry, trigger, finishPairs, 'plan', signal);
        if (planned.status === 'ok') {
          outcome.approveCommand = approveCommand(applyArgv(finish.path, config, finishPairs), planned.plan.hash);
          pending = { what: `${triggerLine(trigger)}. Not done without a human (${finish.spec.name}, plan ${planned.plan.hash}): ${finishSummary(planned)}`, command: outcome.approveCommand };
        } else {
          outcome.errors.push(`planning ${finish.spec.name} ${planned.status}: ${planned.reason ?? ''}; see ${planned.auditPath ?? 'its audit log'}`);
        }
      } catch (error) {
        outcome.errors.push(`planning ${finish.spec.name}: ${message(error)}`);
      }

      // (c) Tell the humans, whatever happened above.
      await notify(outcome, pending, signal);
      return outcome;
    },
  };
}
