import { confirmAction } from './control/confirm.js';
import { containmentActions } from './containment.js';
import { eximDetectionActions } from './exim/detection.js';
import { rblCheck } from './rbl/rbl-check.js';
import { malwareScan } from './files/malware-scan.js';
import { hardenActions } from './harden/index.js';
import type { Action } from './types.js';

export type ActionRegistry = ReadonlyMap<string, Action>;

/** Every action a playbook may name, by dotted name. */
export function builtinActions(): ActionRegistry {
  const all: Action[] = [confirmAction as unknown as Action, ...eximDetectionActions, ...containmentActions, rblCheck as unknown as Action, malwareScan as unknown as Action, ...hardenActions];
  const registry = new Map<string, Action>();
  for (const action of all) {
    if (registry.has(action.name)) throw new Error(`action ${action.name} is registered twice`);
    registry.set(action.name, action);
  }
  return registry;
}

let builtins: ActionRegistry | undefined;

/** A built-in action by name, for readers of its declarations (reports, plan views). */
export function declaredAction(name: string): Action | undefined {
  builtins ??= builtinActions();
  return builtins.get(name);
}

/**
 * Every counter the built-in actions declare, key → words, in registry order: what the run
 * summary and the fleet table may count.
 */
export function declaredCounters(): ReadonlyMap<string, string> {
  const counters = new Map<string, string>();
  builtins ??= builtinActions();
  for (const action of builtins.values()) {
    if (action.mutates) for (const [key, label] of Object.entries(action.counters ?? {})) counters.set(key, label);
  }
  return counters;
}

/** Actions with an example `runbook run`, in registry order: name and `--with` arguments. */
export function runExamples(): { name: string; args: string }[] {
  builtins ??= builtinActions();
  return [...builtins.values()].flatMap((a) => (a.example !== undefined ? [{ name: a.name, args: a.example }] : []));
}

/** The closest known name, for "did you mean" hints. */
export function suggestAction(registry: ActionRegistry, name: string): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of registry.keys()) {
    const distance = editDistance(name, candidate);
    if (distance <= Math.max(2, Math.floor(candidate.length / 4)) && (!best || distance < best.distance)) {
      best = { name: candidate, distance };
    }
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = row[j] as number;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] as number;
}
