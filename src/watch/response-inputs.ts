import { resolve } from 'node:path';
import type { PlaybookSpec } from '../playbook/schema.js';
import type { ResponseConfig, Trigger } from './types.js';

/** A trigger's value that cannot go into a command line or a notification as one inert word. */
export class TriggerInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TriggerInputError';
  }
}

// Control characters (a newline would end the command line a human is asked to paste) and
// the bidi overrides that make text read differently from what it is.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/**
 * The `name=value` inputs one response playbook gets: the trigger's inputs it declares, and
 * `hold_for` when it declares it. Inputs it does not declare are left out (each playbook takes
 * what it acts on). Pure.
 */
export function playbookInputs(spec: PlaybookSpec, trigger: Trigger, holdFor: string): [string, string][] {
  const declared = spec.inputs ?? {};
  const pairs: [string, string][] = [];
  for (const [name, value] of Object.entries(trigger.inputs)) {
    if (!(name in declared)) continue;
    if (UNSAFE.test(value)) throw new TriggerInputError(`input ${name} of trigger ${JSON.stringify(trigger.id)} holds control characters; nothing was run`);
    pairs.push([name, value]);
  }
  if ('hold_for' in declared) pairs.push(['hold_for', holdFor]);
  return pairs;
}

/**
 * The `runbook apply` arguments that plan the same run from a shell: host (and inventory),
 * inputs as `-e name=value`, the audit directory. Paths are absolute so the command works from
 * wherever the human pastes it. Pure.
 */
export function applyArgv(playbookPath: string, config: Pick<ResponseConfig, 'host' | 'inventory' | 'auditDir'>, pairs: [string, string][]): string[] {
  return [
    'apply',
    resolve(playbookPath),
    ...(config.inventory !== undefined ? ['-i', resolve(config.inventory)] : []),
    '--host',
    config.host,
    ...pairs.flatMap(([name, value]) => ['-e', `${name}=${value}`]),
    '--audit-dir',
    resolve(config.auditDir),
  ];
}
