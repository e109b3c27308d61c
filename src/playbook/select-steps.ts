/**
 * Running part of a playbook, as Ansible operators do: `--tags`, `--skip-tags` and
 * `--start-at-step`. The selection happens before planning, so the plan, its hash and the gates
 * are those of exactly the steps that will run. Selection never silently drops a step another
 * kept step reads (`steps.<id>`), and a tag or step id that names nothing is an error.
 */
import type { LoadedPlaybook } from './load.js';
import type { StepSpec } from './schema.js';

export interface StepSelection {
  tags?: string[];
  skipTags?: string[];
  startAt?: string;
}

export class StepSelectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StepSelectionError';
  }
}

/** `--tags a,b --tags c` → [a, b, c]. */
export function splitTags(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((t) => t.trim()).filter(Boolean);
}

function readsSteps(step: StepSpec): string[] {
  const text = JSON.stringify([step.with ?? {}, step.when ?? '', step.foreach ?? '', step.confirm ?? '']);
  return [...text.matchAll(/\bsteps\.([a-z][a-z0-9_]*)/g)].map((m) => m[1]!).filter((id) => id !== step.id);
}

export function selectSteps(playbook: LoadedPlaybook, selection: StepSelection): LoadedPlaybook {
  const tags = selection.tags ?? [];
  const skip = selection.skipTags ?? [];
  if (tags.length === 0 && skip.length === 0 && selection.startAt === undefined) return playbook;
  const steps = playbook.spec.steps;
  const known = new Set(['all', 'always', ...steps.flatMap((s) => s.tags ?? [])]);
  for (const [flag, list] of [['--tags', tags], ['--skip-tags', skip]] as const) {
    for (const t of list) {
      if (!known.has(t)) throw new StepSelectionError(`${flag} ${t}: no step of ${playbook.path} has that tag (tags used: ${[...known].filter((k) => k !== 'all' && k !== 'always').join(', ') || 'none'})`);
    }
  }
  let from = 0;
  if (selection.startAt !== undefined) {
    from = steps.findIndex((s) => s.id === selection.startAt);
    if (from < 0) throw new StepSelectionError(`--start-at-step ${selection.startAt}: no such step in ${playbook.path} (steps: ${steps.map((s) => s.id).join(', ')})`);
  }
  const wanted = (step: StepSpec): boolean => {
    const own = step.tags ?? [];
    if (own.some((t) => skip.includes(t))) return false;
    if (tags.length === 0 || tags.includes('all')) return true;
    return own.includes('always') || own.some((t) => tags.includes(t));
  };
  const kept = steps.filter((s, i) => i >= from && wanted(s));
  if (kept.length === 0) throw new StepSelectionError(`no step of ${playbook.path} is left to run with this --tags/--skip-tags/--start-at-step`);
  const keptIds = new Set(kept.map((s) => s.id));
  for (const step of kept) {
    const missing = readsSteps(step).filter((id) => steps.some((s) => s.id === id) && !keptIds.has(id));
    if (missing.length > 0) {
      throw new StepSelectionError(`step ${step.id} reads steps.${missing[0]}, which this selection leaves out: select step ${missing[0]} too (tag it, or start earlier)`);
    }
  }
  return { ...playbook, spec: { ...playbook.spec, steps: kept } };
}
