/**
 * An inventory read by Ansible itself: `ansible-inventory -i FILE --list` prints hosts, groups
 * and every host's vars already merged with group_vars/ and host_vars/, so whatever Ansible
 * understands (plugins, ranges, every INI and YAML detail) runbook gets as Ansible sees it.
 */
import { execFile } from 'node:child_process';
import { findExecutable } from '../core/find-executable.js';
import { InventoryError, type Collected, type InventoryGroup } from './inventory.js';

/**
 * The ansible-inventory to use: $RUNBOOK_ANSIBLE_INVENTORY (a path, or `off` for runbook's own
 * reader), else the first on PATH, else none.
 */
export function findAnsibleInventory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return findExecutable('ansible-inventory', env.RUNBOOK_ANSIBLE_INVENTORY, env.PATH);
}

function runAnsibleInventory(binary: string, file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      ['-i', file, '--list'],
      {
        maxBuffer: 256 * 1024 * 1024,
        timeout: 120_000,
        // A file Ansible cannot parse must be an error, not a warning and an empty inventory.
        env: { ...process.env, ANSIBLE_INVENTORY_UNPARSED_FAILED: 'True', ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0' },
      },
      (error, stdout, stderr) => {
        if (error) {
          const detail = stderr.replace(/\x1b\[[0-9;]*m/g, '').trim().split('\n').filter(Boolean).slice(-3).join(' | ');
          reject(new InventoryError(`${file}: ansible-inventory could not read it: ${detail || error.message} (RUNBOOK_ANSIBLE_INVENTORY=off uses runbook's own reader)`));
        } else {
          resolve(stdout);
        }
      },
    );
  });
}

interface ListOutput {
  _meta?: { hostvars?: Record<string, Record<string, unknown>> };
  [group: string]: unknown;
}

/** `ansible-inventory --list` JSON → declarations; each host's vars are final already. */
export function collectFromAnsibleList(json: string, file: string): Collected {
  let out: ListOutput;
  try {
    out = JSON.parse(json) as ListOutput;
  } catch (error) {
    throw new InventoryError(`${file}: ansible-inventory printed something that is not JSON: ${(error as Error).message}`);
  }
  const hostvars = out._meta?.hostvars ?? {};
  const c: Collected = { hosts: new Map(), groups: new Map(), globalVars: {} };
  for (const [name, value] of Object.entries(out)) {
    if (name === '_meta') continue;
    const g = (value ?? {}) as { hosts?: string[]; children?: string[] };
    const group: InventoryGroup & { where: string } = { name, hosts: [...(g.hosts ?? [])], children: [...(g.children ?? [])], vars: {}, where: file };
    c.groups.set(name, group);
  }
  // An empty group may be named as a child without an entry of its own.
  for (const g of [...c.groups.values()]) {
    for (const child of g.children) if (!c.groups.has(child)) c.groups.set(child, { name: child, hosts: [], children: [], vars: {}, where: file });
  }
  // Declaration order as Ansible walks it: all, then its children depth first.
  const seen = new Set<string>();
  const walk = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const g = c.groups.get(name);
    if (!g) return;
    for (const h of g.hosts) {
      if (!c.hosts.has(h)) c.hosts.set(h, { name: h, where: file, fields: { tools: {}, layout: {} }, vars: { ...hostvars[h] } });
    }
    for (const child of g.children) walk(child);
  };
  walk('all');
  for (const name of c.groups.keys()) walk(name);
  return c;
}

export async function readWithAnsibleInventory(binary: string, file: string): Promise<Collected> {
  return collectFromAnsibleList(await runAnsibleInventory(binary, file), file);
}
