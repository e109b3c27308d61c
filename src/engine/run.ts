import { hostname, userInfo } from 'node:os';
import { recordedTransport } from '../actions/recorded-transport.js';
import type { Action } from '../actions/types.js';
import type { AuditRecord, HostStatus, PlannedStepRecord, RunStatus, SummaryRecord } from '../audit/records.js';
import type { AuditWriter } from '../audit/writer.js';
import { redactDeep, type Secret } from '../core/secret.js';
import type { HostTarget } from '../hosts/types.js';
import type { Transport } from '../transport/types.js';
import type { LoadedPlaybook } from '../playbook/load.js';
import { scheduleHosts } from '../fleet/scheduler.js';
import { createActionContext } from './context.js';
import { EXIT } from './exit-codes.js';
import { hashedIntent, executeHost } from './execute.js';
import { planHash } from './hash.js';
import { collectGates, mutationsAfter } from './gates.js';
import { classifyFailure, planHost, type StepRunOptions } from './plan.js';
import { Recorder } from './recorder.js';
import type { EngineObserver, Gatekeeper, HostOutcome, HostPlan, PlannedStep } from './types.js';


/** Re-exported: most commands import the exit codes from here. */
export { EXIT };

/** A host to work on; connecting is part of the run so an unreachable host is an outcome. */
export interface TargetHandle {
  name: string;
  connect(): Promise<HostTarget>;
}

export interface RunOptions {
  playbook: LoadedPlaybook;
  inputs: Record<string, unknown>;
  targets: TargetHandle[];
  registry: ReadonlyMap<string, Action>;
  dryRun: boolean;
  /** `--approve HASH`: run only if the fresh plan has this hash. */
  approve?: string;
  /**
   * No human is at the run (a watcher started it). Every mutating step whose action is not
   * declared reversible is refused while planning, whatever the playbook says, and left in the
   * plan as waiting for a human; the gates are not asked (nobody could answer) but recorded as
   * passed by the unattended policy, since only reversible changes remain behind them.
   */
  unattended?: boolean;
  gatekeeper: Gatekeeper;
  audit?: AuditWriter;
  argv: string[];
  toolVersion: string;
  observer: EngineObserver;
  signal: AbortSignal;
  deliverSecret: (host: string, label: string, secret: Secret) => Promise<string>;
  /** Shown to the operator after planning and before any gate. */
  onPlan?: (plan: RunPlan) => Promise<void> | void;
  /** The gates are answered and execution starts (progress display can begin). */
  onExecute?: () => void;
  forks?: number;
  serial?: number | number[];
  maxFailPercent?: number;
  /**
   * Taken per host before its first mutation; returns the release. The target it gets runs
   * its commands through the audit log, like an action's.
   */
  lockHost?: (target: HostTarget) => Promise<() => Promise<void>>;
  incident?: string;
  mode?: 'apply' | 'dry-run' | 'undo';
  /** Signs the summary record as written (its outcome and the chain head it closes). */
  signSummary?: (summary: AuditRecord) => NonNullable<SummaryRecord['signature']>;
}

export interface RunPlan {
  hash: string;
  hosts: HostPlan[];
  records: PlannedStepRecord[];
}

export interface RunReport {
  status: RunStatus;
  exitCode: number;
  reason?: string;
  plan: RunPlan;
  outcomes: HostOutcome[];
  auditPath?: string;
}

export class ApproveMismatchError extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`the plan changed: --approve ${expected} was given but the plan now has hash ${actual}`);
    this.name = 'ApproveMismatchError';
  }
}

function toRecord(step: PlannedStep): PlannedStepRecord {
  return {
    host: step.host,
    step: step.spec.id,
    ...(step.item ? { item: step.item } : {}),
    action: step.action.name,
    mutates: step.action.mutates,
    params: (redactDeep(step.params ?? {}) as Record<string, unknown>) ?? {},
    summary:
      step.plan?.summary ??
      step.result?.summary ??
      step.gate ??
      (step.state === 'later' ? (step.reason ?? `runs when applied`) : step.reason ?? step.title),
    commands: step.plan?.commands.map((c) => [...c.argv]) ?? [],
    ...(step.plan?.noop ? { noop: true } : {}),
    ...(step.state === 'skipped' ? { skipped: step.reason ?? 'skipped' } : {}),
    ...(step.state === 'failed' ? { skipped: `failed: ${step.reason ?? ''}` } : {}),
    ...(step.state === 'deferred' ? { deferred: step.reason ?? 'resolved when applied' } : {}),
    ...(step.state === 'later' && !step.action.gate ? { deferred: `runs when applied: ${step.reason ?? step.title}` } : {}),
    ...(step.plan?.facts ? { facts: step.plan.facts } : {}),
  };
}

/** The changes a plan makes: mutating steps that are neither skipped nor already done. */
export function plannedChanges(records: PlannedStepRecord[]): number {
  return records.filter((r) => r.mutates && r.skipped === undefined && !r.noop).length;
}

/** What the plan hash covers: per host and step, the action, its parameters and intent. */
function hashMaterial(hosts: HostPlan[]): unknown {
  return hosts.map((h) => ({
    host: h.target.name,
    stopped: h.stopped?.status,
    steps: h.steps.map((s) => ({
      step: s.spec.id,
      item: s.item?.index,
      action: s.action.name,
      state: s.state === 'ran' || s.state === 'later' ? 'ready' : s.state,
      params: s.params,
      intent: s.plan ? (s.plan.noop ? 'noop' : hashedIntent(s.plan)) : undefined,
      gate: s.gate,
    })),
  }));
}

/**
 * One run of a playbook over one or more hosts:
 *   1. plan every host (read-only steps run, mutating steps are planned) — src/engine/plan.ts
 *   2. hash the plan, check --approve, show it, ask the gates — here and src/engine/gates.ts
 *   3. execute the mutations host by host — src/engine/execute.ts
 * Every phase is recorded in the audit log; the summary record closes it.
 */
export async function runPlaybook(options: RunOptions): Promise<RunReport> {
  // The engine opens the connections (connect() during planning), so it closes them: an open
  // SSH socket would otherwise keep the process alive after the run is over.
  const opened: HostTarget[] = [];
  try {
    return await runOpened(options, opened);
  } finally {
    await Promise.allSettled(opened.map((target) => target.transport.close()));
  }
}

/** `host: host: message` reads badly; keep one host prefix in recorded errors. */
function withoutHostPrefix(host: string, message: string): string {
  const prefix = `${host}: `;
  let out = message;
  while (out.startsWith(prefix)) out = out.slice(prefix.length);
  return out;
}

/** What interrupted the run, in the words of whoever aborted it (which signal, or why). */
function interruptCause(signal: AbortSignal): string {
  return signal.reason instanceof Error ? signal.reason.message : 'interrupted';
}

/** The interrupt and where each host stopped: at the step it was running, or before the next. */
function interruptReason(signal: AbortSignal, outcomes: HostOutcome[]): string {
  const label = (s: HostOutcome['steps'][number]) => `${s.id}${s.item !== undefined ? `[${s.item}]` : ''}`;
  const where = outcomes.flatMap((o) => {
    const running = o.steps.find((s) => s.status === 'interrupted');
    if (running) return [`${o.host} at step ${label(running)}`];
    const next = o.steps.find((s) => s.status === 'skipped' && s.summary === 'not run: interrupted');
    return next ? [`${o.host} before step ${label(next)}`] : [];
  });
  return where.length > 0 ? `${interruptCause(signal)}; stopped ${where.join(', ')}` : interruptCause(signal);
}

async function runOpened(options: RunOptions, opened: HostTarget[]): Promise<RunReport> {
  const recorder = new Recorder(options.audit);
  const mode = options.mode ?? (options.dryRun ? 'dry-run' : 'apply');
  let uid: number | null = null;
  let operator = process.env.USER ?? 'unknown';
  try {
    const info = userInfo();
    uid = info.uid;
    operator = info.username;
  } catch {
    // no passwd entry (containers): keep $USER
  }
  const runId = `${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}Z-${Math.random().toString(36).slice(2, 8)}`;
  recorder.record({
    type: 'run.header',
    format: 'runbook-audit/1',
    runId,
    mode,
    operator,
    uid,
    controlHost: hostname(),
    toolVersion: options.toolVersion,
    argv: options.argv,
    playbook: { path: options.playbook.path, sha256: options.playbook.sha256, name: options.playbook.spec.name },
    inputs: redactDeep(options.inputs) as Record<string, unknown>,
    hosts: options.targets.map((t) => t.name),
    ...(options.unattended ? { unattended: true as const } : {}),
    ...(options.incident ? { incident: options.incident } : {}),
  });

  const stepOptions: StepRunOptions = {
    recorder,
    observer: options.observer,
    signal: options.signal,
    dryRun: options.dryRun,
    deliverSecret: options.deliverSecret,
    ...(options.unattended ? { unattended: true } : {}),
  };
  // The host lock's commands are recorded under step "-" (the run's own, as its notes are),
  // write-ahead like a mutation's. An interrupt does not stop them: the lock must still go. Nor
  // does an audit log that can no longer be written: the run stops there, and a lock left behind
  // would refuse every later run on the host; its release (a `cat` and an `rm -rf` of the lock,
  // both harmless to repeat) then runs unrecorded, as nothing can be recorded any more.
  const lockTarget = (target: HostTarget): HostTarget => {
    const ctx = createActionContext({ ...stepOptions, target, step: '-', mutating: true, signal: new AbortController().signal });
    const recorded = recordedTransport(ctx);
    const transport: Transport = {
      ...recorded,
      exec: async (argv, opts) => {
        if (recorder.failure === undefined) {
          try {
            return await recorded.exec(argv, opts);
          } catch (error) {
            if (recorder.failure === undefined) throw error;
          }
        }
        return target.transport.exec(argv, opts);
      },
    };
    return { ...target, transport };
  };

  // 1. Plan every host.
  const hostPlans = await scheduleHosts(options.targets, { forks: options.forks ?? 10 }, async (handle) => {
    options.observer({ type: 'plan.host', host: handle.name, status: 'started' });
    let target: HostTarget;
    try {
      target = await handle.connect();
      opened.push(target);
    } catch (error) {
      const message = withoutHostPrefix(handle.name, error instanceof Error ? error.message : String(error));
      options.observer({ type: 'plan.host', host: handle.name, status: 'failed', error: message });
      const placeholder = { name: handle.name } as HostTarget;
      return { target: placeholder, steps: [], outputs: {}, stopped: { status: 'unreachable' as HostStatus, error: message } };
    }
    const plan = await planHost(options.playbook, target, options.inputs, options.registry, stepOptions);
    options.observer({ type: 'plan.host', host: handle.name, status: plan.stopped ? 'failed' : 'done', ...(plan.stopped ? { error: plan.stopped.error } : {}) });
    return plan;
  });

  const records = hostPlans.flatMap((h) => h.steps.map(toRecord));
  const hash = planHash(hashMaterial(hostPlans));
  recorder.record({ type: 'plan', planHash: hash, steps: records });
  const plan: RunPlan = { hash, hosts: hostPlans, records };
  const waiting = hostPlans.flatMap((h) => h.steps.filter((s) => s.waitsForHuman));
  const waitingNote = waiting.length === 0 ? undefined : `${waiting.length} step${waiting.length === 1 ? '' : 's'} not reversible, waiting for a human: ${[...new Set(waiting.map((s) => s.spec.id))].join(', ')}`;

  const hostStatuses = (outcomes: HostOutcome[]): Record<string, HostStatus> =>
    Object.fromEntries(outcomes.map((o) => [o.host, o.status]));
  const finish = (status: RunStatus, exitCode: number, outcomes: HostOutcome[], reason?: string): RunReport => {
    for (const o of outcomes) recorder.record({ type: 'host.finish', host: o.host, status: o.status, counts: o.counts, ...(o.error ? { error: o.error } : {}) });
    const counts: Record<string, number> = {};
    for (const o of outcomes) {
      counts[o.status] = (counts[o.status] ?? 0) + 1;
      for (const [k, v] of Object.entries(o.counts)) counts[k] = (counts[k] ?? 0) + v;
    }
    const head = recorder.writer?.head ?? '';
    recorder.record({
      type: 'run.summary',
      status,
      exitCode,
      ...(reason ? { reason } : {}),
      dryRun: options.dryRun,
      planHash: hash,
      hosts: hostStatuses(outcomes),
      counts,
      head,
    }, options.signSummary);
    return { status, exitCode, ...(reason ? { reason } : {}), plan, outcomes, ...(options.audit ? { auditPath: options.audit.path } : {}) };
  };
  const planOutcome = (h: HostPlan): HostOutcome => ({
    host: h.target.name,
    status: h.stopped?.status ?? 'ok',
    ...(h.stopped ? { error: h.stopped.error } : {}),
    counts: {},
    steps: [],
  });

  await options.onPlan?.(plan);

  if (options.signal.aborted) return finish('interrupted', EXIT.interrupted, hostPlans.map(planOutcome), `${interruptCause(options.signal)} during planning`);

  if (options.dryRun) {
    const failed = hostPlans.some((h) => h.stopped);
    return finish(failed ? 'failed' : 'ok', failed ? EXIT.failed : EXIT.ok, hostPlans.map(planOutcome), failed ? 'planning failed on some hosts' : waitingNote);
  }

  if (options.approve !== undefined && options.approve !== hash) {
    const reason = `plan hash ${hash} differs from the approved ${options.approve}`;
    recorder.record({ type: 'gate', gate: 'approve', message: 'Approved plan hash must match', hosts: hostPlans.map((h) => h.target.name), answer: 'refused', by: `--approve ${options.approve}`, reason });
    const report = finish('refused', EXIT.approveMismatch, hostPlans.map((h) => ({ ...planOutcome(h), status: 'skipped' as HostStatus, error: 'plan not approved' })), reason);
    return report;
  }

  // 2. Gates, all answered before the first mutation.
  const gates = collectGates(hostPlans);
  let stopAtStep: string | undefined;
  let stopStatus: RunStatus | undefined;
  let stopReason: string | undefined;
  for (const [i, gate] of gates.entries()) {
    const next = gates[i + 1]?.stepIndex ?? Number.POSITIVE_INFINITY;
    const answer = options.approve !== undefined
      ? { answer: 'accepted' as const, by: `--approve ${options.approve}` }
      : options.unattended
        ? { answer: 'accepted' as const, by: 'unattended', reason: `no human to ask; only reversible steps run${waitingNote ? ` (${waitingNote})` : ''}` }
        : await options.gatekeeper.ask({ gate: gate.step, messages: gate.messages, mutations: mutationsAfter(hostPlans, gate.stepIndex, next), planHash: hash, plannedChanges: plannedChanges(records) });
    recorder.record({
      type: 'gate',
      gate: gate.step,
      message: gate.messages[0]?.message ?? '',
      hosts: gate.messages.map((m) => m.host),
      answer: answer.answer,
      by: answer.by,
      ...(answer.reason ? { reason: answer.reason } : {}),
    });
    if (answer.answer !== 'accepted') {
      stopAtStep = gate.step === 'apply' ? hostPlans.flatMap((h) => h.steps).find((s) => s.stepIndex === gate.stepIndex)?.spec.id : gate.step;
      stopStatus = answer.answer === 'declined' ? 'declined' : 'refused';
      stopReason = answer.reason ?? `gate ${gate.step} ${answer.answer}`;
      break;
    }
  }

  if (options.signal.aborted) {
    return finish('interrupted', EXIT.interrupted, hostPlans.map((h) => ({ ...planOutcome(h), status: 'skipped' as HostStatus, error: 'interrupted before any change' })), `${interruptCause(options.signal)} at a gate, before any change`);
  }

  // 3. Execute.
  options.onExecute?.();
  const outcomes = await scheduleHosts<HostPlan, HostOutcome>(
    hostPlans,
    {
      forks: options.forks ?? 10,
      ...(options.serial !== undefined ? { serial: options.serial } : {}),
      ...(options.maxFailPercent !== undefined ? { maxFailPercent: options.maxFailPercent } : {}),
      onError: (hostPlan, error) => ({ host: (hostPlan as HostPlan).target.name, status: classifyFailure(error), error: (error as Error).message, counts: {}, steps: [] }),
    },
    async (hostPlan) => {
      let release: (() => Promise<void>) | undefined;
      try {
        const mutates = hostPlan.steps.some((s) => s.action.mutates && s.state !== 'skipped');
        if (!hostPlan.stopped && stopAtStep === undefined && mutates && options.lockHost) release = await options.lockHost(lockTarget(hostPlan.target));
      } catch (error) {
        const outcome: HostOutcome = { host: hostPlan.target.name, status: 'failed', error: (error as Error).message, counts: {}, steps: [] };
        options.observer({ type: 'host.finish', outcome });
        return outcome;
      }
      let outcome: HostOutcome | undefined;
      try {
        outcome = await executeHost(hostPlan, { ...stepOptions, inputs: options.inputs, registry: options.registry, ...(stopAtStep ? { stopAtStep } : {}) });
      } finally {
        try {
          await release?.();
        } catch (error) {
          // A lock left behind (the host went away) changes nothing of what ran: keep the outcome and its counts.
          const message = `could not release the run lock: ${(error as Error).message}`;
          if (recorder.failure === undefined) recorder.record({ type: 'note', host: hostPlan.target.name, step: '-', message });
          if (outcome) outcome.error ??= message;
        }
      }
      options.observer({ type: 'host.finish', outcome });
      return outcome;
    },
    (hostPlan, reason) => {
      const outcome: HostOutcome = { host: hostPlan.target.name, status: 'skipped', error: `not started: ${reason}`, counts: {}, steps: [] };
      recorder.record({ type: 'note', host: hostPlan.target.name, step: '-', message: `host not started: ${reason}` });
      options.observer({ type: 'host.finish', outcome });
      return outcome;
    },
  );

  if (options.signal.aborted) return finish('interrupted', EXIT.interrupted, outcomes, interruptReason(options.signal, outcomes));
  if (stopStatus) return finish(stopStatus, EXIT.gate, outcomes, stopReason);
  const failed = outcomes.some((o) => o.status === 'failed' || o.status === 'unreachable');
  return finish(failed ? 'failed' : 'ok', failed ? EXIT.failed : EXIT.ok, outcomes, failed ? 'some hosts failed' : waitingNote);
}
