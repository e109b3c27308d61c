/**
 * group_vars/ and host_vars/ beside an Ansible inventory, found as Ansible finds them:
 * `group_vars/web`, `web.yml`, `web.yaml`, `web.json`, or a directory `group_vars/web/` whose
 * files (same extensions, any depth, in name order) are merged, later files winning.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { parseDocument } from 'yaml';
import { fail } from './inventory.js';

const EXTENSIONS = ['', '.yml', '.yaml', '.json'];

async function kind(path: string): Promise<'file' | 'dir' | undefined> {
  const info = await stat(path).catch(() => undefined);
  return info?.isDirectory() ? 'dir' : info?.isFile() ? 'file' : undefined;
}

async function readVarsFile(path: string): Promise<Record<string, unknown>> {
  const text = await readFile(path, 'utf8');
  // Ansible reads YAML 1.1: `yes` and `on` are booleans there.
  const doc = parseDocument(text, { prettyErrors: false, version: '1.1' });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    fail(`${path}${pos ? `:${pos.line}:${pos.col}` : ''}`, `invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const value = doc.toJSON() as unknown;
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) fail(path, 'a vars file must be a mapping of names to values');
  return value as Record<string, unknown>;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    // Editors' backups and hidden files are not vars, as Ansible skips them.
    if (e.name.startsWith('.') || e.name.endsWith('~')) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(path)));
    else if (e.isFile() && EXTENSIONS.includes(extname(e.name))) out.push(path);
  }
  return out;
}

/** Vars for one name from `<base>/<name>{,.yml,.yaml,.json}` and `<base>/<name>/`, merged. */
async function varsFor(base: string, name: string): Promise<Record<string, unknown> | undefined> {
  let found: Record<string, unknown> | undefined;
  for (const ext of EXTENSIONS) {
    const path = join(base, `${name}${ext}`);
    const k = await kind(path);
    const files = k === 'file' ? [path] : k === 'dir' && ext === '' ? await filesUnder(path) : [];
    for (const f of files) found = { ...found, ...(await readVarsFile(f)) };
  }
  return found;
}

export interface VarsDirs {
  groups: Map<string, Record<string, unknown>>;
  hosts: Map<string, Record<string, unknown>>;
}

/** The group_vars/ and host_vars/ entries next to `inventoryFile` for these groups and hosts. */
export async function readVarsDirs(inventoryFile: string, groups: Iterable<string>, hosts: Iterable<string>): Promise<VarsDirs> {
  const dir = dirname(inventoryFile);
  const out: VarsDirs = { groups: new Map(), hosts: new Map() };
  for (const [base, names, into] of [
    [join(dir, 'group_vars'), groups, out.groups],
    [join(dir, 'host_vars'), hosts, out.hosts],
  ] as const) {
    if ((await kind(base)) !== 'dir') continue;
    for (const name of names) {
      const vars = await varsFor(base, name);
      if (vars) into.set(name, vars);
    }
  }
  return out;
}
