/**
 * The flags Ansible operators reach for, on the commands that run playbooks: `-e/--extra-vars`,
 * `--list-hosts`, `-v/-vv`, `-q`, `--tags`, `--skip-tags`, `--start-at-step`. Each maps onto
 * what runbook already has (inputs, host selection, step selection, diagnostics) so a run
 * started with them goes through the same plan, gates and audit log as any other.
 */
import type { LoadedPlaybook } from '../playbook/load.js';
import { readVarsFile } from '../playbook/inputs.js';
import { selectSteps, splitTags, StepSelectionError } from '../playbook/select-steps.js';
import { safeLine } from '../core/text.js';
import { UsageError } from './errors.js';
import { listTargets, type HostListing, type HostSelectionFlags } from './targets.js';

export interface AnsibleStyleFlags {
  extraVars: string[];
  listHosts?: boolean;
  verbose: number;
  quiet?: boolean;
  tags: string[];
  skipTags: string[];
  startAtStep?: string;
}

export function checkVerbosity(flags: Pick<AnsibleStyleFlags, 'verbose' | 'quiet'>): void {
  if (flags.quiet && flags.verbose > 0) throw new UsageError('-q and -v do not go together: pick less or more detail');
}

/**
 * `-e name=value` joins the --var pairs; `-e @file` reads a file of inputs (as --vars-file),
 * later files winning. Values from files keep their YAML types.
 */
export async function extraVars(values: readonly string[]): Promise<{ pairs: string[]; fromFiles: Record<string, unknown> }> {
  const pairs: string[] = [];
  let fromFiles: Record<string, unknown> = {};
  for (const v of values) {
    if (v.startsWith('@')) fromFiles = { ...fromFiles, ...(await readVarsFile(v.slice(1))) };
    else if (v.trimStart().startsWith('{')) throw new UsageError(`-e ${safeLine(v)}: JSON on the command line is not read; put it in a file and pass -e @FILE`);
    else pairs.push(v);
  }
  return { pairs, fromFiles };
}

/** The playbook with only the steps --tags/--skip-tags/--start-at-step select. */
export function selectedSteps(playbook: LoadedPlaybook, flags: Partial<AnsibleStyleFlags>): LoadedPlaybook {
  try {
    return selectSteps(playbook, {
      tags: splitTags(flags.tags),
      skipTags: splitTags(flags.skipTags),
      ...(flags.startAtStep !== undefined ? { startAt: flags.startAtStep } : {}),
    });
  } catch (error) {
    if (error instanceof StepSelectionError) throw new UsageError(error.message);
    throw error;
  }
}

export function renderHostListing(hosts: HostListing[]): string {
  const lines = [`hosts (${hosts.length}):`];
  for (const h of hosts) {
    const parts = [safeLine(h.name)];
    if (h.kind !== 'ssh') parts.push(h.kind === 'demo' ? '(built-in demo host)' : '(this machine)');
    else {
      parts.push(safeLine(h.route!.at(-1)!));
      if (h.route!.length > 1) parts.push(`via ${h.route!.slice(0, -1).map(safeLine).join(' → ')}`);
      parts.push(`keys ${h.identityFiles!.map(safeLine).join(', ')}`);
      if (h.become) parts.push(`become ${safeLine(h.become)}`);
    }
    lines.push(`  ${parts.join('  ')}`);
  }
  return lines.join('\n');
}

/** --list-hosts: print, connect to nothing, exit 0. */
export async function printHostListing(flags: HostSelectionFlags, options: { json: boolean; only?: string[] }): Promise<number> {
  const hosts = await listTargets({
    host: flags.host,
    ...(flags.inventory ? { inventory: flags.inventory } : {}),
    ...(flags.limit ? { limit: flags.limit } : {}),
    ...(flags.knownHosts ? { knownHosts: flags.knownHosts } : {}),
    ...(options.only ? { only: options.only } : {}),
  });
  process.stdout.write(options.json ? `${JSON.stringify({ ok: true, hosts }, null, 2)}\n` : `${renderHostListing(hosts)}\n`);
  return 0;
}
