import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ActionRegistry } from '../actions/registry.js';
import { checkChain, parseAuditLog } from '../audit/read.js';
import { runPlaybook, type RunOptions, type RunReport } from '../engine/run.js';
import type { LoadedPlaybook } from '../playbook/load.js';
import { buildUndoPlan, undoPlaybook, UndoError, type UndoPlan } from './plan.js';

export interface PreparedUndo {
  plan: UndoPlan;
  playbook: LoadedPlaybook;
  inputs: Record<string, unknown>;
  /** The source log's chain is intact but it has no summary (the run crashed or was cut). */
  incomplete: boolean;
}

/**
 * Reads a run's audit log and prepares its undo. Refuses a log whose hash chain is broken: an
 * edited log could name files and addresses the run never touched.
 */
export function prepareUndo(logPath: string, registry: ActionRegistry): PreparedUndo {
  const text = readFileSync(logPath, 'utf8');
  const log = parseAuditLog(text);
  const chain = checkChain(log);
  if (!chain.linksHold) {
    throw new UndoError(`the audit log ${logPath} does not verify (${chain.problems.join('; ')}); runbook will not undo from a log that may have been altered. Run 'runbook audit verify ${logPath}' for details.`);
  }
  const plan = buildUndoPlan(log.records, registry);
  const { playbook, inputs } = undoPlaybook(plan, { path: logPath, sha256: createHash('sha256').update(text).digest('hex') });
  return { plan, playbook, inputs, incomplete: !chain.complete };
}

export type UndoRunOptions = Omit<RunOptions, 'playbook' | 'inputs' | 'mode'>;

/** Runs a prepared undo through the engine: planned, gated and audited like any run. */
export async function runUndo(prepared: PreparedUndo, options: UndoRunOptions): Promise<RunReport> {
  const wanted = new Set(prepared.plan.hosts);
  return runPlaybook({
    ...options,
    targets: options.targets.filter((t) => wanted.has(t.name)),
    playbook: prepared.playbook,
    inputs: prepared.inputs,
    mode: 'undo',
  });
}
