import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Action, ActionResult } from '../actions/types.js';
import { parseDuration } from '../core/duration.js';
import type { HostTarget } from '../hosts/types.js';
import {
  compileExpression,
  compileTemplate,
  findTemplateStrings,
  renderTemplates,
  truthy,
  type ExpressionContext,
} from '../playbook/expressions.js';
import type { LoadedPlaybook } from '../playbook/load.js';
import { closedParams, type StepSpec } from '../playbook/schema.js';
import { createActionContext, type ContextOptions } from './context.js';
import { ReadCache } from './read-cache.js';
import type { EngineObserver, HostPlan, PlannedStep, StepItem } from './types.js';
import type { Recorder } from './recorder.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = addFormats(new Ajv({ allErrors: true, strict: false }));
const validators = new WeakMap<Action, ValidateFunction>();

/** Checks resolved parameters (templates now evaluated) against the action's schema. */
export function checkParams(action: Action, params: Record<string, unknown>): string | undefined {
  let validate = validators.get(action);
  if (!validate) {
    validate = ajv.compile(closedParams(JSON.parse(JSON.stringify(action.params)) as Record<string, unknown>));
    validators.set(action, validate);
  }
  if (validate(params)) return undefined;
  return (validate.errors ?? [])
    .map((e) => `${e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') + ' ' : ''}${e.message ?? 'is invalid'}`)
    .join('; ');
}

/** Names of earlier steps an expression-bearing field of this step depends on. */
export function stepDependencies(step: StepSpec): Set<string> {
  const sources: { text: string; template: boolean }[] = [];
  if (step.when !== undefined) sources.push({ text: step.when, template: false });
  if (step.foreach !== undefined) sources.push({ text: step.foreach, template: false });
  if (typeof step.confirm === 'string') sources.push({ text: step.confirm, template: true });
  if (step.name !== undefined) sources.push({ text: step.name, template: true });
  for (const { text } of findTemplateStrings(step.with ?? {})) sources.push({ text, template: true });
  const deps = new Set<string>();
  for (const source of sources) {
    const expressions = source.template ? compileTemplate(source.text).map((p) => p.expression) : [compileExpression(source.text)];
    for (const expression of expressions) {
      for (const ref of expression.references) if (ref.root === 'steps' && ref.path[0]) deps.add(ref.path[0]);
    }
  }
  return deps;
}

export interface StepRunOptions {
  recorder: Recorder;
  observer: EngineObserver;
  signal: AbortSignal;
  dryRun: boolean;
  deliverSecret: ContextOptions['deliverSecret'];
  readCache?: ReadCache;
  /** No human is there: only reversible mutations may run (see RunOptions.unattended). */
  unattended?: boolean;
}

/** Why an unattended run leaves a step to a human, from the action's declaration. */
export function waitsForHumanReason(action: Action): string | undefined {
  if (!action.mutates || action.reversible) return undefined;
  return `waiting for a human: ${action.name} cannot be undone, and an unattended run makes only reversible changes`;
}

export function expressionContext(hostPlan: HostPlan, inputs: Record<string, unknown>, item?: StepItem): ExpressionContext {
  return {
    inputs,
    steps: hostPlan.outputs,
    host: { name: hostPlan.target.name, vars: hostPlan.target.vars },
    ...(item !== undefined ? { item: item.value } : {}),
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Signal for one step: the run's signal plus the step's own timeout. */
export function stepSignal(run: AbortSignal, step: StepSpec): AbortSignal {
  const ms = step.timeout !== undefined ? parseDuration(step.timeout) : undefined;
  if (ms === undefined) return run;
  const timeout = AbortSignal.timeout(ms);
  return AbortSignal.any([run, timeout]);
}

/**
 * Resolves one step into planned items: foreach, when, parameters, gate text. Does not run it.
 * Throws for expression or parameter errors (the caller marks the step failed).
 */
export function resolveStep(
  hostPlan: HostPlan,
  spec: StepSpec,
  stepIndex: number,
  action: Action,
  inputs: Record<string, unknown>,
): PlannedStep[] {
  const base = { host: hostPlan.target.name, spec, stepIndex, action };
  const baseContext = expressionContext(hostPlan, inputs);
  let items: (StepItem | undefined)[] = [undefined];
  if (spec.foreach !== undefined) {
    const list = compileExpression(spec.foreach).evaluate(baseContext);
    if (list === null || list === undefined) items = [];
    else if (!Array.isArray(list)) throw new Error(`foreach must give a list, got ${typeof list}`);
    else items = list.map((value, index) => ({ index, value }));
  }
  if (items.length === 0) {
    return [{ ...base, title: spec.name ?? spec.id, state: 'skipped', reason: 'foreach gave no items' }];
  }
  return items.map((item) => {
    const context = expressionContext(hostPlan, inputs, item);
    const title = spec.name !== undefined ? String(renderTemplates(spec.name, context)) : spec.id;
    const planned: PlannedStep = { ...base, title, state: 'ready', ...(item !== undefined ? { item } : {}) };
    if (spec.when !== undefined && !truthy(compileExpression(spec.when).evaluate(context))) {
      return { ...planned, state: 'skipped', reason: `when: ${spec.when}` };
    }
    const params = (renderTemplates(spec.with ?? {}, context) ?? {}) as Record<string, unknown>;
    const problem = checkParams(action, params);
    if (problem) throw new Error(`parameters of ${action.name} after resolving expressions: ${problem}`);
    planned.params = params;
    if (action.gate) planned.gate = action.gate(params) || 'Continue?';
    else if (spec.confirm === true) planned.gate = `Run ${title} on ${hostPlan.target.name}?`;
    else if (typeof spec.confirm === 'string') planned.gate = String(renderTemplates(spec.confirm, context));
    return planned;
  });
}

/** Registers a step's outputs under steps.<id> (a list under `items` for foreach steps). */
export function registerOutputs(hostPlan: HostPlan, spec: StepSpec, planned: PlannedStep[]): void {
  const statusOf = (p: PlannedStep) =>
    p.state === 'skipped' ? 'skipped' : p.state === 'failed' ? 'failed' : p.result?.changed ? 'changed' : 'ok';
  if (spec.foreach !== undefined) {
    hostPlan.outputs[spec.id] = {
      status: planned.some((p) => statusOf(p) === 'failed') ? 'failed' : planned.some((p) => statusOf(p) === 'changed') ? 'changed' : 'ok',
      items: planned.map((p) => ({ ...(p.result?.outputs ?? {}), status: statusOf(p) })),
    };
  } else {
    const only = planned[0];
    hostPlan.outputs[spec.id] = only ? { ...(only.result?.outputs ?? {}), status: statusOf(only) } : { status: 'skipped' };
  }
}

/** Runs a read-only action (planning or execute phase), recording it like any step. */
export async function runReadOnly(hostPlan: HostPlan, planned: PlannedStep, options: StepRunOptions): Promise<ActionResult> {
  const { recorder, observer } = options;
  const host = hostPlan.target.name;
  const started = performance.now();
  observer({ type: 'step.start', host, step: planned.spec.id, title: planned.title, mutates: false });
  recorder.record({
    type: 'step.start',
    host,
    step: planned.spec.id,
    action: planned.action.name,
    mutates: false,
    params: planned.params ?? {},
    ...(planned.item ? { item: planned.item } : {}),
  });
  const signal = stepSignal(options.signal, planned.spec);
  const ctx = createActionContext({ target: hostPlan.target, step: planned.spec.id, mutating: false, ...options, signal });
  if (planned.action.mutates) throw new Error('runReadOnly called for a mutating action');
  try {
    const result = await planned.action.run(ctx, planned.params ?? {});
    recorder.record({
      type: 'step.finish',
      host,
      step: planned.spec.id,
      action: planned.action.name,
      status: 'ok',
      ...(result.summary !== undefined ? { summary: result.summary } : {}),
      outputs: result.outputs,
      durationMs: Math.round(performance.now() - started),
      ...(planned.item ? { item: planned.item } : {}),
    });
    observer({ type: 'step.finish', host, step: planned.spec.id, title: planned.title, status: 'ok', ...(result.summary ? { summary: result.summary } : {}) });
    return result;
  } catch (error) {
    const interrupted = options.signal.aborted;
    const timedOut = !interrupted && signal.aborted;
    const message = timedOut ? `timed out after ${planned.spec.timeout}` : errorMessage(error);
    recorder.record({
      type: 'step.finish',
      host,
      step: planned.spec.id,
      action: planned.action.name,
      status: interrupted ? 'interrupted' : 'failed',
      error: message,
      durationMs: Math.round(performance.now() - started),
      ...(planned.item ? { item: planned.item } : {}),
    });
    observer({ type: 'step.finish', host, step: planned.spec.id, title: planned.title, status: interrupted ? 'interrupted' : 'failed', error: message });
    throw new Error(message, { cause: error });
  }
}

/**
 * The planning phase on one host: read-only steps run for real (so the plan is about this
 * queue, this file, this IP), mutating steps are planned with exact commands, and anything that
 * needs a mutation's outputs is deferred. Nothing here changes the host.
 */
export async function planHost(
  playbook: LoadedPlaybook,
  target: HostTarget,
  inputs: Record<string, unknown>,
  registry: ReadonlyMap<string, Action>,
  stepOptions: StepRunOptions,
): Promise<HostPlan> {
  // Nothing changes the host while planning, so identical reads are asked once.
  const options: StepRunOptions = { ...stepOptions, readCache: new ReadCache() };
  const hostPlan: HostPlan = { target, steps: [], outputs: {} };
  const pending = new Set<string>();
  for (const [stepIndex, spec] of playbook.spec.steps.entries()) {
    const action = registry.get(spec.action);
    if (!action) throw new Error(`unknown action ${spec.action}`);
    if (hostPlan.stopped) {
      hostPlan.steps.push({ host: target.name, spec, stepIndex, action, title: spec.name ?? spec.id, state: 'skipped', reason: 'not reached' });
      continue;
    }
    // Decided from the declaration alone, before `when`, `foreach` or any probe: whatever the
    // playbook says, nothing irreversible is even planned without a human.
    const refusal = options.unattended ? waitsForHumanReason(action) : undefined;
    if (refusal !== undefined) {
      hostPlan.steps.push({ host: target.name, spec, stepIndex, action, title: spec.name ?? spec.id, state: 'skipped', reason: refusal, waitsForHuman: true });
      options.recorder.record({ type: 'note', host: target.name, step: spec.id, message: `refused: ${refusal}`, data: { action: action.name, reversible: false } });
      hostPlan.outputs[spec.id] = { status: 'skipped' };
      continue;
    }
    const waitingOn = [...stepDependencies(spec)].filter((d) => pending.has(d));
    if (waitingOn.length > 0) {
      hostPlan.steps.push({
        host: target.name,
        spec,
        stepIndex,
        action,
        title: spec.name ?? spec.id,
        state: 'deferred',
        reason: `needs the outcome of ${waitingOn.map((d) => `steps.${d}`).join(', ')}; resolved when applied`,
      });
      pending.add(spec.id);
      continue;
    }
    let planned: PlannedStep[];
    try {
      planned = resolveStep(hostPlan, spec, stepIndex, action, inputs);
    } catch (error) {
      const failed: PlannedStep = { host: target.name, spec, stepIndex, action, title: spec.name ?? spec.id, state: 'failed', reason: errorMessage(error) };
      hostPlan.steps.push(failed);
      options.recorder.record({ type: 'step.finish', host: target.name, step: spec.id, action: action.name, status: 'failed', error: failed.reason ?? '', durationMs: 0 });
      if ((spec.on_error ?? 'abort') === 'abort') hostPlan.stopped = { status: 'failed', error: `step ${spec.id}: ${failed.reason}` };
      hostPlan.outputs[spec.id] = { status: 'failed' };
      continue;
    }
    for (const step of planned) {
      if (step.state !== 'ready') continue;
      if (!action.mutates) {
        if (action.dryRun === 'plan' || action.gate) {
          step.state = 'later';
          if (action.describe) step.reason = action.describe(step.params ?? {}, target);
          if (!action.gate) pending.add(spec.id);
          continue;
        }
        try {
          step.result = await runReadOnly(hostPlan, step, options);
          step.state = 'ran';
        } catch (error) {
          step.state = 'failed';
          step.reason = errorMessage(error);
          if (options.signal.aborted) {
            hostPlan.stopped = { status: 'failed', error: 'interrupted' };
          } else if ((spec.on_error ?? 'abort') === 'abort') {
            hostPlan.stopped = { status: classifyFailure(error), error: `step ${spec.id}: ${step.reason}` };
          }
        }
        continue;
      }
      const ctx = createActionContext({ target, step: spec.id, mutating: false, ...options, signal: stepSignal(options.signal, spec) });
      try {
        step.plan = await action.plan(ctx, step.params ?? {});
        pending.add(spec.id);
      } catch (error) {
        step.state = 'failed';
        step.reason = errorMessage(error);
        options.recorder.record({ type: 'step.finish', host: target.name, step: spec.id, action: action.name, status: 'failed', error: `planning failed: ${step.reason}`, durationMs: 0, ...(step.item ? { item: step.item } : {}) });
        if ((spec.on_error ?? 'abort') === 'abort') hostPlan.stopped = { status: classifyFailure(error), error: `step ${spec.id}: ${step.reason}` };
      }
    }
    hostPlan.steps.push(...planned);
    if (!pending.has(spec.id)) registerOutputs(hostPlan, spec, planned);
  }
  return hostPlan;
}

/** A broken connection makes the host unreachable rather than failed. */
export function classifyFailure(error: unknown): 'failed' | 'unreachable' {
  let current: unknown = error;
  while (current instanceof Error) {
    if (current.name === 'HostUnreachableError') return 'unreachable';
    current = current.cause;
  }
  return 'failed';
}
