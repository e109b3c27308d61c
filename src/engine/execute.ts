import type { Action, ActionPlan } from '../actions/types.js';
import type { StepStatus } from '../audit/records.js';
import { createActionContext } from './context.js';
import { planHash } from './hash.js';
import { classifyFailure, registerOutputs, resolveStep, runReadOnly, stepSignal, type StepRunOptions } from './plan.js';
import type { HostOutcome, HostPlan, PlannedStep } from './types.js';

/** What the plan hash covers for a mutating step: its declared intent, or its exact argv. */
export function hashedIntent(plan: ActionPlan): unknown {
  return plan.hashed ?? plan.commands.map((c) => c.argv);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs a planned mutating step. The plan is computed again from the host's current state right
 * before running: if the host already reached the desired state the step is a no-op, and if
 * what would run differs from what was approved the step refuses instead of improvising.
 */
async function runMutating(hostPlan: HostPlan, step: PlannedStep, options: StepRunOptions, approvedPlan?: ActionPlan): Promise<StepStatus> {
  const { recorder, observer } = options;
  const host = hostPlan.target.name;
  const action = step.action as Extract<Action, { mutates: true }>;
  const params = step.params ?? {};
  const started = performance.now();
  const finish = (status: StepStatus, extra: Record<string, unknown>) => {
    recorder.record({
      type: 'step.finish',
      host,
      step: step.spec.id,
      action: action.name,
      status,
      durationMs: Math.round(performance.now() - started),
      ...(step.item ? { item: step.item } : {}),
      ...extra,
    });
    observer({
      type: 'step.finish',
      host,
      step: step.spec.id,
      title: step.title,
      status,
      ...(typeof extra.summary === 'string' ? { summary: extra.summary } : {}),
      ...(typeof extra.error === 'string' ? { error: extra.error } : {}),
    });
    return status;
  };
  observer({ type: 'step.start', host, step: step.spec.id, title: step.title, mutates: true });
  recorder.record({ type: 'step.start', host, step: step.spec.id, action: action.name, mutates: true, params, ...(step.item ? { item: step.item } : {}) });
  const signal = stepSignal(options.signal, step.spec);
  const probeCtx = createActionContext({ target: hostPlan.target, step: step.spec.id, mutating: false, ...options, signal });
  try {
    const fresh = await action.plan(probeCtx, params);
    if (fresh.noop) {
      step.result = { changed: false, outputs: {}, summary: `already done: ${fresh.summary}` };
      return finish('ok', { summary: step.result.summary, outputs: {} });
    }
    if (approvedPlan && planHash(hashedIntent(fresh)) !== planHash(hashedIntent(approvedPlan))) {
      throw new Error(
        `the host changed since the plan was made: planned "${approvedPlan.summary}", now "${fresh.summary}". Nothing was run for this step; make a new dry-run and approve that plan.`,
      );
    }
    const runCtx = createActionContext({ target: hostPlan.target, step: step.spec.id, mutating: true, ...options, signal });
    const result = await action.run(runCtx, params, fresh);
    step.result = result;
    return finish(result.changed ? 'changed' : 'ok', {
      ...(result.summary !== undefined ? { summary: result.summary } : { summary: fresh.summary }),
      outputs: result.outputs,
      ...(result.changes && result.changes.length > 0 ? { changes: result.changes } : {}),
      ...(result.undo ? { undo: result.undo } : {}),
      ...(result.irreversible ? { irreversible: result.irreversible } : {}),
    });
  } catch (error) {
    const interrupted = options.signal.aborted;
    const why = !interrupted && signal.aborted ? `timed out after ${step.spec.timeout}` : errorMessage(error);
    // A step that changed the host before it failed must not read as if it changed nothing.
    const ran = recorder.failure === undefined ? recorder.changingCommandsRun(host, step.spec.id) : [];
    const message = ran.length === 0 ? why : `${why} (after ${ran.length} changing command${ran.length === 1 ? '' : 's'} of this step had succeeded, so the host may be changed part-way: ${ran.slice(0, 3).join('; ')}${ran.length > 3 ? '; …' : ''}; the audit log has each)`;
    step.reason = message;
    step.result = { changed: false, outputs: {} };
    const status = finish(interrupted ? 'interrupted' : 'failed', { error: message, ...(ran.length > 0 ? { changingCommandsRun: ran.length } : {}) });
    if (classifyFailure(error) === 'unreachable') throw error;
    return status;
  }
}

export interface ExecuteOptions extends StepRunOptions {
  inputs: Record<string, unknown>;
  registry: ReadonlyMap<string, Action>;
  /** Step ids whose gate was declined or refused: nothing from there on runs. */
  stopAtStep?: string;
}

/** Groups a host plan's entries by step, keeping order. */
function byStep(steps: PlannedStep[]): PlannedStep[][] {
  const groups: PlannedStep[][] = [];
  for (const step of steps) {
    const last = groups.at(-1);
    if (last && last[0]?.spec.id === step.spec.id) last.push(step);
    else groups.push([step]);
  }
  return groups;
}

/** What a changed step adds to its host's counters, as its action declares. */
function countsOf(step: PlannedStep): Record<string, number> {
  return step.action.mutates && step.action.counts && step.result ? step.action.counts(step.result) : {};
}

/**
 * The execute phase on one host, after the gates. Returns the host's outcome, also when
 * something unexpected stops it part-way: the counts of what already ran are kept.
 */
export async function executeHost(hostPlan: HostPlan, options: ExecuteOptions): Promise<HostOutcome> {
  const outcome: HostOutcome = { host: hostPlan.target.name, status: 'ok', counts: {}, steps: [] };
  try {
    return await executeSteps(hostPlan, options, outcome);
  } catch (error) {
    // The audit log is gone: the run must stop, not go on to the next host.
    if (options.recorder.failure !== undefined) throw error;
    outcome.status = classifyFailure(error);
    outcome.error = errorMessage(error);
    return outcome;
  }
}

async function executeSteps(hostPlan: HostPlan, options: ExecuteOptions, outcome: HostOutcome): Promise<HostOutcome> {
  const host = hostPlan.target.name;
  const note = (step: PlannedStep, status: StepStatus, extra: { summary?: string; error?: string } = {}) => {
    outcome.steps.push({ id: step.spec.id, ...(step.item ? { item: step.item.index } : {}), status, ...extra });
    if (status === 'changed' && outcome.status === 'ok') outcome.status = 'changed';
    if (status === 'changed') {
      for (const [k, v] of Object.entries(countsOf(step))) outcome.counts[k] = (outcome.counts[k] ?? 0) + v;
    }
  };
  let stopReason: string | undefined = hostPlan.stopped?.error;
  if (hostPlan.stopped) {
    outcome.status = hostPlan.stopped.status;
    outcome.error = hostPlan.stopped.error;
  }
  for (const group of byStep(hostPlan.steps)) {
    const spec = group[0]!.spec;
    if (options.stopAtStep === spec.id) stopReason ??= 'stopped at a gate';
    if (options.signal.aborted) stopReason ??= 'interrupted';
    if (stopReason !== undefined) {
      for (const step of group) {
        if (step.state === 'ran' || step.state === 'failed') continue;
        options.recorder.record({ type: 'step.finish', host, step: spec.id, action: step.action.name, status: 'skipped', summary: `not run: ${stopReason}`, durationMs: 0, ...(step.item ? { item: step.item } : {}) });
        note(step, 'skipped', { summary: `not run: ${stopReason}` });
      }
      continue;
    }
    let entries = group;
    if (group[0]!.state === 'deferred') {
      try {
        entries = resolveStep(hostPlan, spec, group[0]!.stepIndex, group[0]!.action, options.inputs);
      } catch (error) {
        const message = errorMessage(error);
        options.recorder.record({ type: 'step.finish', host, step: spec.id, action: group[0]!.action.name, status: 'failed', error: message, durationMs: 0 });
        note(group[0]!, 'failed', { error: message });
        hostPlan.outputs[spec.id] = { status: 'failed' };
        if ((spec.on_error ?? 'abort') === 'abort') {
          stopReason = `step ${spec.id} failed`;
          outcome.status = 'failed';
          outcome.error ??= `step ${spec.id}: ${message}`;
        }
        continue;
      }
    }
    let groupFailed = false;
    for (const step of entries) {
      if (options.signal.aborted) break;
      let status: StepStatus;
      try {
        if (step.state === 'ran') {
          status = 'ok';
        } else if (step.state === 'failed') {
          status = 'failed';
        } else if (step.state === 'skipped') {
          options.recorder.record({ type: 'step.finish', host, step: spec.id, action: step.action.name, status: 'skipped', summary: step.reason ?? 'skipped', durationMs: 0, ...(step.item ? { item: step.item } : {}) });
          options.observer({ type: 'step.finish', host, step: spec.id, title: step.title, status: 'skipped', summary: step.reason ?? 'skipped' });
          status = 'skipped';
        } else if (step.action.gate) {
          step.result = { changed: false, outputs: { accepted: true } };
          status = 'ok';
        } else if (!step.action.mutates) {
          try {
            step.result = await runReadOnly(hostPlan, step, options);
            step.state = 'ran';
            status = 'ok';
          } catch (error) {
            step.reason = errorMessage(error);
            if (classifyFailure(error) === 'unreachable') throw error;
            status = options.signal.aborted ? 'interrupted' : 'failed';
          }
        } else {
          status = await runMutating(hostPlan, step, options, group[0]!.state === 'deferred' ? undefined : step.plan);
        }
      } catch (error) {
        outcome.status = 'unreachable';
        outcome.error = errorMessage(error);
        stopReason = 'host unreachable';
        note(step, 'failed', { error: outcome.error });
        groupFailed = true;
        break;
      }
      if (status === 'failed' || status === 'interrupted') {
        groupFailed = true;
        step.state = 'failed';
        note(step, status, { ...(step.reason ? { error: step.reason } : {}) });
      } else {
        note(step, status, { ...(step.result?.summary ? { summary: step.result.summary } : {}) });
      }
    }
    registerOutputs(hostPlan, spec, entries);
    if (options.signal.aborted) {
      stopReason ??= 'interrupted';
      if (outcome.status !== 'unreachable') {
        outcome.status = 'failed';
        outcome.error ??= 'interrupted';
      }
    } else if (groupFailed && (spec.on_error ?? 'abort') === 'abort' && stopReason === undefined) {
      stopReason = `step ${spec.id} failed`;
      outcome.status = 'failed';
      outcome.error ??= `step ${spec.id}: ${entries.find((e) => e.state === 'failed')?.reason ?? 'failed'}`;
    } else if (groupFailed) {
      // on_error: continue — the failure is recorded and counted, the host goes on.
      outcome.counts.failed_steps = (outcome.counts.failed_steps ?? 0) + 1;
    }
  }
  // Stopped at a gate before anything changed here: say so instead of a plain "ok".
  if (options.stopAtStep !== undefined && outcome.status === 'ok' && !hostPlan.stopped) {
    outcome.status = 'skipped';
    outcome.error ??= 'stopped at a gate before any change';
  }
  return outcome;
}
