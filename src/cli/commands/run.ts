/**
 * `runbook run ACTION --host H --with name=value`: one action, ad hoc, as `ansible HOST -m
 * MODULE -a ARGS` does. It becomes a one-step playbook and goes through exactly what `apply`
 * does (plan, dry-run, gates, --yes/--approve, locks, audit log): an ad hoc change is no less
 * a change.
 */
import { parse as parseYaml, stringify } from 'yaml';
import { parsePlaybook } from '../../playbook/load.js';
import { reportError, UsageError } from '../errors.js';
import { applyCommand, type ApplyFlags, type PlaybookSource } from './apply.js';

export interface RunFlags extends ApplyFlags {
  with: string[];
}

function typedValue(raw: string): unknown {
  let parsed: unknown;
  try {
    parsed = parseYaml(raw);
  } catch {
    return raw;
  }
  if (typeof parsed === 'number' || typeof parsed === 'boolean') return parsed;
  if (parsed === null) return raw === 'null' ? null : raw;
  if (typeof parsed === 'object' && /^\s*[[{]/.test(raw)) return parsed;
  return raw;
}

/**
 * `--with name=value`: numbers, booleans, null and [flow lists] or {flow maps} as YAML reads
 * them, anything else as the string it is (`comment=spam: x` stays a string).
 */
export function withParams(values: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new UsageError(`--with ${v}: expected NAME=VALUE`);
    const name = v.slice(0, eq);
    const raw = v.slice(eq + 1);
    if (name in out) throw new UsageError(`--with ${name} is given twice`);
    out[name] = typedValue(raw);
  }
  return out;
}

/** The one-step playbook, checked by the same loader as a playbook file. */
export function adHocPlaybook(action: string, params: Record<string, unknown>): PlaybookSource {
  return async (registry) => {
    if (!registry.has(action)) throw new UsageError(`unknown action '${action}': 'runbook actions' lists them`);
    const id = action.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^[^a-z]+/, '') || 'step';
    const spec = { name: `run-${action.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`, steps: [{ id, action, ...(Object.keys(params).length ? { with: params } : {}) }] };
    return parsePlaybook(`runbook run ${action}`, stringify(spec), registry);
  };
}

/** `runbook run ACTION`: the one-step playbook through everything `apply` does. */
export async function runCommand(action: string, flags: RunFlags, argv: string[]): Promise<number> {
  let source: PlaybookSource;
  try {
    source = adHocPlaybook(action, withParams(flags.with));
  } catch (error) {
    return reportError(error, flags.json === true);
  }
  return applyCommand(`runbook run ${action}`, flags, argv, source);
}
