import type { ActionRegistry } from '../actions/registry.js';
import { pairSteps } from '../audit/read.js';
import type { AuditRecord, HeaderRecord } from '../audit/records.js';
import type { LoadedPlaybook } from '../playbook/load.js';
import type { StepSpec } from '../playbook/schema.js';

/**
 * The undo of a run, built from its audit log: the `undo` records of every step that finished
 * `changed`, per host, newest first; plus what cannot be undone. Pure: no host is touched.
 */

export interface UndoEntry {
  host: string;
  /** The step of the original run this reverses. */
  step: string;
  item?: unknown;
  action: string;
  params: Record<string, unknown>;
  description: string;
}

export interface UndoLeftover {
  host: string;
  step: string;
  /** Why runbook will not do it: irreversible, unknown action, crashed mid-step, ... */
  reason: string;
}

export interface UndoPlan {
  source: { runId: string | undefined; playbook: string | undefined; mode: HeaderRecord['mode'] | undefined };
  /** In the order they will run: the reverse of the order the changes were made. */
  entries: UndoEntry[];
  /** Changes the run itself said cannot be reversed (purged messages, a reset password). */
  irreversible: UndoLeftover[];
  /** Changes runbook cannot reverse automatically: check these by hand. */
  manual: UndoLeftover[];
  hosts: string[];
}

export class UndoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UndoError';
  }
}

const IDENTIFIER = /^[a-z][a-z0-9_]*$/;
const PARAM_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function buildUndoPlan(records: readonly AuditRecord[], registry?: ActionRegistry): UndoPlan {
  const header = records.find((r): r is HeaderRecord => r.type === 'run.header');
  if (header === undefined) throw new UndoError('the log has no run.header record: it is not a runbook audit log');
  if (header.mode === 'dry-run') throw new UndoError('this log is of a dry-run, which changed nothing: there is nothing to undo');

  const applied: UndoEntry[] = [];
  const irreversible: UndoLeftover[] = [];
  const manual: UndoLeftover[] = [];
  const steps = pairSteps(records);
  for (const { start, finish: record } of steps.finished) {
    if (record.status !== 'changed') continue;
    for (const text of record.irreversible ?? []) irreversible.push({ host: record.host, step: record.step, reason: text });
    for (const undo of record.undo ?? []) {
      const entry: UndoEntry = {
        host: record.host,
        step: record.step,
        ...(record.item !== undefined ? { item: record.item.value } : {}),
        action: undo.action,
        params: undo.params,
        description: undo.description,
      };
      const badKey = Object.keys(undo.params).find((k) => !PARAM_KEY.test(k));
      const reverse = registry?.get(undo.action);
      if (registry !== undefined && reverse === undefined) {
        manual.push({ host: record.host, step: record.step, reason: `${undo.description}: the action ${undo.action} is not available in this runbook version` });
      } else if (reverse !== undefined && !reverse.mutates) {
        manual.push({ host: record.host, step: record.step, reason: `${undo.description}: ${undo.action} does not change a host, so it cannot reverse anything` });
      } else if (badKey !== undefined) {
        manual.push({ host: record.host, step: record.step, reason: `${undo.description}: parameter ${JSON.stringify(badKey)} is not a valid name` });
      } else {
        applied.push(entry);
      }
    }
    const mutated = start?.mutates ?? true;
    if (mutated && (record.undo ?? []).length === 0 && (record.irreversible ?? []).length === 0) {
      const declared = registry?.get(record.action);
      const done = record.summary ? ` (${record.summary})` : '';
      const reason =
        declared?.mutates === true && !declared.reversible
          ? `${record.action} is not reversible${done}; there is nothing runbook can put back, check by hand whether anything needs to be`
          : `${record.action} changed the host and recorded no undo${done}; nothing to reverse automatically`;
      manual.push({ host: record.host, step: record.step, reason });
    }
  }
  // Mutating steps that started and never finished: the run stopped in the middle of them.
  for (const start of steps.unfinished) {
    if (start.mutates) manual.push({ host: start.host, step: start.step, reason: `${start.action} started but never finished (the run was interrupted); check the host by hand` });
  }
  const entries = applied.reverse();
  return {
    source: { runId: header.runId, playbook: header.playbook.name, mode: header.mode },
    entries,
    irreversible,
    manual,
    hosts: Array.from(new Set(entries.map((e) => e.host))),
  };
}

/**
 * The undo plan as a playbook the engine runs like any other (plan, gate, execute, audit).
 * Values from the log never become template text: each step reads its host and parameters
 * from `inputs.undo_N`, so a path containing `${{` stays a path.
 */
export function undoPlaybook(plan: UndoPlan, source: { path: string; sha256: string }): { playbook: LoadedPlaybook; inputs: Record<string, unknown> } {
  const inputs: Record<string, unknown> = {};
  const steps: StepSpec[] = plan.entries.map((entry, index) => {
    const id = `undo_${index + 1}`;
    inputs[id] = { host: entry.host, params: entry.params };
    const from = IDENTIFIER.test(entry.step) ? entry.step : 'a step';
    const withParams: Record<string, unknown> = {};
    for (const key of Object.keys(entry.params)) withParams[key] = `\${{ inputs.${id}.params.${key} }}`;
    return {
      id,
      name: `${entry.action} (undoes ${from})`,
      action: entry.action,
      when: `host.name == inputs.${id}.host`,
      with: withParams,
      on_error: 'continue',
    };
  });
  const base = (plan.source.playbook ?? 'run').toLowerCase().replace(/[^a-z0-9_-]/g, '-').replace(/^[^a-z0-9]+/, '');
  return {
    playbook: {
      path: source.path,
      sha256: source.sha256,
      spec: { name: `undo-${base || 'run'}`, description: `Undo the reversible changes of run ${plan.source.runId ?? ''}`, steps: steps.length > 0 ? steps : [] },
    },
    inputs,
  };
}
