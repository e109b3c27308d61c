/**
 * Reading an inventory file: runbook's YAML, Ansible's YAML or Ansible's INI. Ansible formats
 * go to `ansible-inventory` when it is installed (Ansible is the authority on its own format);
 * otherwise runbook's own readers take them with group_vars/ and host_vars/.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { isMap, parseDocument } from 'yaml';
import { collectYamlInventory, InventoryError, resolveInventory, type Inventory } from './inventory.js';
import { findAnsibleInventory, readWithAnsibleInventory } from './inventory-ansible.js';
import { parseIniInventory } from './inventory-ini.js';
import { readVarsDirs } from './inventory-vars.js';
import { whyUnreadable } from '../core/read-error.js';

export interface LoadInventoryOptions {
  /** Path of ansible-inventory, or null for runbook's own reader. Default: findAnsibleInventory(). */
  ansibleInventory?: string | null;
}

/** YAML for .yml/.yaml/.json; otherwise YAML if it reads as a mapping, else INI (as Ansible tries them). */
export function looksLikeIni(text: string, file: string): boolean {
  const ext = extname(file).toLowerCase();
  if (ext === '.yml' || ext === '.yaml' || ext === '.json') return false;
  if (ext === '.ini') return true;
  const doc = parseDocument(text, { prettyErrors: false });
  return doc.errors.length > 0 || !isMap(doc.contents);
}

/** A YAML inventory in Ansible's shape (`all:` or an inventory plugin's `plugin:`), not runbook's. */
function isAnsibleYaml(text: string): boolean {
  const root = parseDocument(text, { prettyErrors: false }).contents;
  return isMap(root) && (root.has('all') || root.has('plugin'));
}

export async function loadInventory(file: string, options: LoadInventoryOptions = {}): Promise<Inventory> {
  const info = await stat(file).catch((error: Error) => {
    throw new InventoryError(`cannot read inventory ${file}: ${whyUnreadable(error)}`);
  });
  const binary = options.ansibleInventory === undefined ? findAnsibleInventory() : (options.ansibleInventory ?? undefined);
  if (info.isDirectory()) {
    if (!binary) throw new InventoryError(`${file} is a directory: inventory directories are read only through Ansible; install ansible-core so 'ansible-inventory' is on PATH, or pass one inventory file`);
    return resolveInventory(await readWithAnsibleInventory(binary, file), { file, format: 'ansible', reader: 'ansible-inventory' });
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InventoryError(`cannot read inventory ${file}: ${whyUnreadable(error)}`);
  }
  const ini = looksLikeIni(text, file);
  if (!ini && !isAnsibleYaml(text)) return resolveInventory(collectYamlInventory(text, file).collected, { file, format: 'runbook', reader: 'builtin' });
  if (binary) return resolveInventory(await readWithAnsibleInventory(binary, file), { file, format: 'ansible', reader: 'ansible-inventory' });
  const collected = ini ? parseIniInventory(text, file) : collectYamlInventory(text, file).collected;
  const dirs = await readVarsDirs(file, collected.groups.keys(), collected.hosts.keys());
  collected.fileGroupVars = dirs.groups;
  collected.fileHostVars = dirs.hosts;
  return resolveInventory(collected, { file, format: 'ansible', reader: 'builtin' });
}
