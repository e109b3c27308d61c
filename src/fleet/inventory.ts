/**
 * Host inventories: runbook's own YAML format and Ansible's YAML and INI formats, read into one
 * model. Errors point at file:line:col of the offending node (the `yaml` package's ranges).
 * Ansible inventories also take their group_vars/ and host_vars/ directories, and are read by
 * `ansible-inventory` itself when it is installed (see inventory-load.ts).
 */
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import type { HostLayout, ToolPaths } from '../hosts/types.js';

export interface InventoryBecome {
  user?: string;
}

export interface InventoryHost {
  name: string;
  /** Address to connect to; defaults to the name (resolved through ~/.ssh/config). */
  hostname: string;
  port?: number;
  user?: string;
  identityFile?: string;
  proxyJump?: string[];
  become?: InventoryBecome;
  tools: Partial<ToolPaths>;
  layout: Partial<HostLayout>;
  /** Group vars, then the host's own vars (host wins). */
  vars: Record<string, unknown>;
  /** Every group the host belongs to, directly or through children. */
  groups: string[];
  /** Where the host was declared, for messages. */
  where: string;
}

export interface InventoryGroup {
  name: string;
  /** Hosts directly in this group. */
  hosts: string[];
  children: string[];
  vars: Record<string, unknown>;
}

export interface Inventory {
  file: string;
  format: 'runbook' | 'ansible';
  /** Who read the file: runbook itself, or Ansible's `ansible-inventory --list`. */
  reader: 'builtin' | 'ansible-inventory';
  /** In declaration order. */
  hosts: InventoryHost[];
  groups: Map<string, InventoryGroup>;
}

export class InventoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InventoryError';
  }
}

const TOOL_KEYS: ReadonlyArray<keyof ToolPaths> = ['exim', 'exiqgrep', 'uapi', 'whmapi1', 'csf', 'restartsrvDir', 'ip', 'clamscan', 'clamdscan', 'maldet'];
const LAYOUT_KEYS = ['homeRoots', 'csfDir', 'domlogsDir', 'userdomainsFile', 'emailSendLimitsDir', 'lockDir', 'maillog', 'webmailLogs', 'mainIpFile', 'mailIpsFile', 'cpanelUsersDir'] as const;
const HOST_KEYS = new Set(['ssh_host', 'hostname', 'port', 'user', 'identity_file', 'proxy_jump', 'become', 'tools', 'layout', 'vars']);
const GROUP_KEYS = new Set(['hosts', 'children', 'vars']);

class Source {
  readonly lines = new LineCounter();
  constructor(readonly file: string) {}
  at(node: Node | null | undefined): string {
    const offset = node?.range?.[0];
    if (offset === undefined) return this.file;
    const { line, col } = this.lines.linePos(offset);
    return `${this.file}:${line}:${col}`;
  }
  fail(node: Node | null | undefined, message: string): never {
    throw new InventoryError(`${this.at(node)}: ${message}`);
  }
}

type Entries = Array<{ key: string; keyNode: Node; value: Node | null }>;

function entries(src: Source, node: Node | null | undefined, what: string): Entries {
  if (node === null || node === undefined) return [];
  if (isScalar(node) && (node.value === null || node.value === '')) return [];
  if (!isMap(node)) src.fail(node, `${what} must be a mapping`);
  return node.items.map((pair) => {
    const keyNode = pair.key as Node;
    if (!isScalar(keyNode)) src.fail(keyNode, `${what}: keys must be plain names`);
    return { key: String(keyNode.value), keyNode, value: (pair.value as Node | null) ?? null };
  });
}

function js(node: Node | null): unknown {
  return node === null ? null : node.toJSON();
}

function str(src: Source, node: Node | null, what: string): string {
  const v = js(node);
  if (typeof v !== 'string' && typeof v !== 'number') src.fail(node, `${what} must be a string`);
  return String(v);
}

function port(src: Source, node: Node | null, what: string): number {
  const v = Number(js(node));
  if (!Number.isInteger(v) || v < 1 || v > 65535) src.fail(node, `${what} must be a port number (1-65535)`);
  return v;
}

function record(src: Source, node: Node | null, what: string): Record<string, unknown> {
  const v = js(node);
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) src.fail(node, `${what} must be a mapping`);
  return v as Record<string, unknown>;
}

function truthy(v: unknown): boolean {
  return v === true || (typeof v === 'string' && /^(yes|true|1|on)$/i.test(v)) || v === 1;
}

export interface RawHost {
  name: string;
  /** file:line:col of the declaration, for messages. */
  where: string;
  fields: Omit<InventoryHost, 'name' | 'vars' | 'groups' | 'where' | 'hostname'> & { hostname?: string };
  vars: Record<string, unknown>;
}

/** Hosts and groups as a source declares them, before membership and vars are worked out. */
export interface Collected {
  hosts: Map<string, RawHost>;
  groups: Map<string, InventoryGroup & { where: string }>;
  globalVars: Record<string, unknown>;
  /** group_vars/ and host_vars/ beside an Ansible inventory: they beat the file's own vars. */
  fileGroupVars?: Map<string, Record<string, unknown>>;
  fileHostVars?: Map<string, Record<string, unknown>>;
}

export function fail(where: string, message: string): never {
  throw new InventoryError(`${where}: ${message}`);
}

function parseOurHost(src: Source, name: string, node: Node | null, keyNode: Node): RawHost {
  const fields: RawHost['fields'] = { tools: {}, layout: {} };
  let vars: Record<string, unknown> = {};
  for (const { key, keyNode: k, value } of entries(src, node, `host ${name}`)) {
    if (!HOST_KEYS.has(key)) {
      src.fail(k, `host ${name}: unknown key '${key}' (expected one of ${[...HOST_KEYS].join(', ')})`);
    }
    switch (key) {
      case 'ssh_host':
      case 'hostname':
        fields.hostname = str(src, value, `host ${name}: ${key}`);
        break;
      case 'port':
        fields.port = port(src, value, `host ${name}: port`);
        break;
      case 'user':
        fields.user = str(src, value, `host ${name}: user`);
        break;
      case 'identity_file':
        fields.identityFile = str(src, value, `host ${name}: identity_file`);
        break;
      case 'proxy_jump': {
        const v = js(value);
        fields.proxyJump = Array.isArray(v) ? v.map(String) : String(v).split(',').map((s) => s.trim()).filter(Boolean);
        break;
      }
      case 'become': {
        const v = js(value);
        if (v !== null && typeof v === 'object') {
          const b = v as Record<string, unknown>;
          fields.become = typeof b.user === 'string' ? { user: b.user } : {};
        } else if (truthy(v)) {
          fields.become = {};
        }
        break;
      }
      case 'tools':
        for (const { key: tk, keyNode: tkn, value: tv } of entries(src, value, `host ${name}: tools`)) {
          if (!(TOOL_KEYS as readonly string[]).includes(tk)) {
            src.fail(tkn, `host ${name}: unknown tool '${tk}' (expected one of ${TOOL_KEYS.join(', ')})`);
          }
          (fields.tools as Record<string, string>)[tk] = str(src, tv, `host ${name}: tools.${tk}`);
        }
        break;
      case 'layout':
        for (const { key: lk, keyNode: lkn, value: lv } of entries(src, value, `host ${name}: layout`)) {
          if (!(LAYOUT_KEYS as readonly string[]).includes(lk)) {
            src.fail(lkn, `host ${name}: unknown layout key '${lk}' (expected one of ${LAYOUT_KEYS.join(', ')})`);
          }
          const v = js(lv);
          if (lk === 'homeRoots') {
            if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) src.fail(lv, `host ${name}: layout.homeRoots must be a list of paths`);
            fields.layout.homeRoots = v as string[];
          } else if (lk === 'webmailLogs') {
            if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) src.fail(lv, `host ${name}: layout.webmailLogs must be a list of paths`);
            fields.layout.webmailLogs = v as string[];
          } else {
            (fields.layout as Record<string, string>)[lk] = str(src, lv, `host ${name}: layout.${lk}`);
          }
        }
        break;
      case 'vars':
        vars = record(src, value, `host ${name}: vars`);
        break;
    }
  }
  return { name, where: src.at(keyNode), fields, vars };
}

function names(src: Source, node: Node | null, what: string): Array<{ name: string; node: Node }> {
  if (node === null || (isScalar(node) && (node.value === null || node.value === ''))) return [];
  if (isSeq(node)) {
    return node.items.map((item) => {
      const n = item as Node;
      return { name: str(src, n, what), node: n };
    });
  }
  // Ansible style: a mapping of names (values are host vars or nested groups).
  return entries(src, node, what).map((e) => ({ name: e.key, node: e.keyNode }));
}

function collectOurs(src: Source, root: Node | null): Collected {
  const c: Collected = { hosts: new Map(), groups: new Map(), globalVars: {} };
  for (const { key, keyNode, value } of entries(src, root, 'inventory')) {
    if (key === 'hosts') {
      for (const h of entries(src, value, 'hosts')) {
        if (c.hosts.has(h.key)) src.fail(h.keyNode, `host ${h.key} is declared twice`);
        c.hosts.set(h.key, parseOurHost(src, h.key, h.value, h.keyNode));
      }
    } else if (key === 'groups') {
      for (const g of entries(src, value, 'groups')) {
        const group: InventoryGroup & { where: string } = { name: g.key, hosts: [], children: [], vars: {}, where: src.at(g.keyNode) };
        for (const { key: gk, keyNode: gkn, value: gv } of entries(src, g.value, `group ${g.key}`)) {
          if (!GROUP_KEYS.has(gk)) src.fail(gkn, `group ${g.key}: unknown key '${gk}' (expected hosts, children or vars)`);
          if (gk === 'hosts') {
            for (const h of names(src, gv, `group ${g.key}: hosts`)) {
              if (!c.hosts.has(h.name) && !hostDeclaredLater(root, h.name)) {
                src.fail(h.node, `group ${g.key}: unknown host '${h.name}' (declare it under hosts:)`);
              }
              group.hosts.push(h.name);
            }
          } else if (gk === 'children') {
            group.children = names(src, gv, `group ${g.key}: children`).map((n) => n.name);
          } else {
            group.vars = record(src, gv, `group ${g.key}: vars`);
          }
        }
        c.groups.set(g.key, group);
      }
    } else if (key === 'vars') {
      c.globalVars = record(src, value, 'vars');
    } else {
      src.fail(keyNode, `unknown top-level key '${key}' (expected hosts, groups, vars; or an Ansible inventory starting with all:)`);
    }
  }
  return c;
}

function hostDeclaredLater(root: Node | null, name: string): boolean {
  if (!isMap(root)) return false;
  const hosts = root.get('hosts', true) as Node | undefined;
  return isMap(hosts) && hosts.has(name);
}

function collectAnsible(src: Source, root: Node | null): Collected {
  const c: Collected = { hosts: new Map(), groups: new Map(), globalVars: {} };
  const walk = (name: string, keyNode: Node, node: Node | null): void => {
    let group = c.groups.get(name);
    if (!group) {
      group = { name, hosts: [], children: [], vars: {}, where: src.at(keyNode) };
      c.groups.set(name, group);
    }
    for (const { key, keyNode: k, value } of entries(src, node, `group ${name}`)) {
      if (key === 'hosts') {
        for (const h of entries(src, value, `group ${name}: hosts`)) {
          const vars = record(src, h.value, `host ${h.key}`);
          const existing = c.hosts.get(h.key);
          if (existing) Object.assign(existing.vars, vars);
          else c.hosts.set(h.key, { name: h.key, where: src.at(h.keyNode), fields: { tools: {}, layout: {} }, vars });
          if (!group.hosts.includes(h.key)) group.hosts.push(h.key);
        }
      } else if (key === 'children') {
        for (const child of entries(src, value, `group ${name}: children`)) {
          if (!group.children.includes(child.key)) group.children.push(child.key);
          walk(child.key, child.keyNode, child.value);
        }
      } else if (key === 'vars') {
        Object.assign(group.vars, record(src, value, `group ${name}: vars`));
      } else {
        src.fail(k, `group ${name}: unknown key '${key}' (expected hosts, children or vars)`);
      }
    }
  };
  for (const { key, keyNode, value } of entries(src, root, 'inventory')) walk(key, keyNode, value);
  return c;
}

/** The first of several spellings Ansible accepts for one connection variable. */
function firstOf(vars: Record<string, unknown>, ...keys: string[]): unknown {
  for (const k of keys) if (vars[k] !== undefined && vars[k] !== null) return vars[k];
  return undefined;
}

/** Turn Ansible connection variables into host fields. */
function ansibleFields(vars: Record<string, unknown>): RawHost['fields'] {
  const fields: RawHost['fields'] = { tools: {}, layout: {} };
  const host = firstOf(vars, 'ansible_host', 'ansible_ssh_host');
  const port = firstOf(vars, 'ansible_port', 'ansible_ssh_port');
  const user = firstOf(vars, 'ansible_user', 'ansible_ssh_user');
  const key = firstOf(vars, 'ansible_ssh_private_key_file', 'ansible_private_key_file');
  if (host !== undefined) fields.hostname = String(host);
  // `ansible_connection: local` runs on this machine, as Ansible does.
  if (vars.ansible_connection === 'local') fields.hostname = 'local';
  if (port !== undefined) fields.port = Number(port);
  if (user !== undefined) fields.user = String(user);
  if (key !== undefined) fields.identityFile = String(key);
  if (truthy(vars.ansible_become)) {
    fields.become = vars.ansible_become_user !== undefined ? { user: String(vars.ansible_become_user) } : {};
  }
  for (const k of TOOL_KEYS) {
    const v = vars[`runbook_tool_${k}`];
    if (typeof v === 'string') (fields.tools as Record<string, string>)[k] = v;
  }
  return fields;
}

/** Groups ordered parents first, so children's vars override their parents'. */
function groupDepths(groups: Collected['groups']): Map<string, number> {
  const depth = new Map<string, number>();
  const visit = (name: string, d: number, path: string[]): void => {
    if (path.includes(name)) {
      fail(groups.get(name)?.where ?? '', `group ${name} contains itself (${[...path, name].join(' → ')})`);
    }
    const g = groups.get(name);
    if (!g) fail(groups.get(path.at(-1)!)?.where ?? '', `group ${path.at(-1)}: unknown child group '${name}'`);
    if ((depth.get(name) ?? -1) < d) depth.set(name, d);
    for (const child of g.children) visit(child, d + 1, [...path, name]);
  };
  for (const name of groups.keys()) visit(name, 0, []);
  return depth;
}

/**
 * From declared hosts and groups to the inventory: transitive membership, and vars in Ansible's
 * order of precedence: the file's group vars (parents first), group_vars/all, group_vars/<group>
 * (parents first), the file's host vars, host_vars/<host>.
 */
export function resolveInventory(
  c: Collected,
  meta: { file: string; format: Inventory['format']; reader: Inventory['reader'] },
): Inventory {
  const isAnsible = meta.format === 'ansible';
  const depth = groupDepths(c.groups);
  const membersOf = new Map<string, Set<string>>();
  const members = (name: string): Set<string> => {
    let set = membersOf.get(name);
    if (set) return set;
    set = new Set(c.groups.get(name)?.hosts ?? []);
    membersOf.set(name, set);
    for (const child of c.groups.get(name)?.children ?? []) for (const h of members(child)) set.add(h);
    return set;
  };
  // Ansible breaks ties between groups of one depth by ansible_group_priority, then by name.
  const priority = (g: string): number => Number(c.fileGroupVars?.get(g)?.ansible_group_priority ?? c.groups.get(g)?.vars.ansible_group_priority ?? 1);
  const tieBreak = (a: string, b: string): number => (isAnsible ? priority(a) - priority(b) || (a < b ? -1 : a > b ? 1 : 0) : 0);
  const orderedGroups = [...c.groups.keys()].sort((a, b) => (depth.get(a) ?? 0) - (depth.get(b) ?? 0) || tieBreak(a, b));

  const hosts: InventoryHost[] = [];
  for (const raw of c.hosts.values()) {
    const groups = orderedGroups.filter((g) => members(g).has(raw.name));
    const vars: Record<string, unknown> = { ...c.globalVars };
    for (const g of groups) Object.assign(vars, c.groups.get(g)!.vars);
    Object.assign(vars, c.fileGroupVars?.get('all'));
    for (const g of groups) if (g !== 'all') Object.assign(vars, c.fileGroupVars?.get(g));
    Object.assign(vars, raw.vars);
    Object.assign(vars, c.fileHostVars?.get(raw.name));
    const fields = isAnsible ? ansibleFields(vars) : raw.fields;
    if (fields.port !== undefined && !(Number.isInteger(fields.port) && fields.port >= 1 && fields.port <= 65535)) {
      fail(raw.where, `host ${raw.name}: port must be a port number (1-65535)`);
    }
    hosts.push({
      name: raw.name,
      hostname: fields.hostname ?? raw.name,
      ...(fields.port !== undefined ? { port: fields.port } : {}),
      ...(fields.user !== undefined ? { user: fields.user } : {}),
      ...(fields.identityFile !== undefined ? { identityFile: fields.identityFile } : {}),
      ...(fields.proxyJump !== undefined ? { proxyJump: fields.proxyJump } : {}),
      ...(fields.become !== undefined ? { become: fields.become } : {}),
      tools: fields.tools,
      layout: fields.layout,
      vars,
      groups,
      where: raw.where,
    });
  }
  const groups = new Map<string, InventoryGroup>();
  for (const [name, g] of c.groups) groups.set(name, { name, hosts: g.hosts, children: g.children, vars: g.vars });
  return { file: meta.file, format: meta.format, reader: meta.reader, hosts, groups };
}

/** A YAML inventory as declared (runbook's format, or Ansible's starting with `all:`). */
export function collectYamlInventory(text: string, file: string): { collected: Collected; format: Inventory['format'] } {
  const src = new Source(file);
  const doc = parseDocument(text, { lineCounter: src.lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    throw new InventoryError(`${file}${pos ? `:${pos.line}:${pos.col}` : ''}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const root = doc.contents as Node | null;
  if (isMap(root) && root.has('plugin')) {
    src.fail(root.get('plugin', true) as Node, "inventory plugins (plugin:) are read only through Ansible: install ansible-core so 'ansible-inventory' is on PATH");
  }
  const isAnsible = isMap(root) && root.has('all');
  return { collected: isAnsible ? collectAnsible(src, root) : collectOurs(src, root), format: isAnsible ? 'ansible' : 'runbook' };
}

/** A YAML inventory's text, read by runbook itself (no group_vars/host_vars: they need a directory). */
export function parseInventory(text: string, file = 'inventory.yml'): Inventory {
  const { collected, format } = collectYamlInventory(text, file);
  return resolveInventory(collected, { file, format, reader: 'builtin' });
}


function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** Host names in the inventory that a single pattern (host, group or glob of either) names. */
function matchPattern(inventory: Inventory, pattern: string): Set<string> {
  const out = new Set<string>();
  const re = globToRegExp(pattern);
  for (const h of inventory.hosts) {
    if (re.test(h.name) || h.groups.some((g) => re.test(g))) out.add(h.name);
  }
  return out;
}

/** A --limit pattern that selects nothing, with the names it could have used. */
function noMatch(inventory: Inventory, pattern: string): InventoryError {
  const sample = (names: string[]) => (names.length > 8 ? `${names.slice(0, 8).join(', ')}, …` : names.join(', ')) || 'none';
  return new InventoryError(
    `--limit: '${pattern}' matches no host or group in ${inventory.file}; it has hosts ${sample(inventory.hosts.map((h) => h.name))} and groups ${sample([...inventory.groups.keys()])} (globs like 'web*' match either; fix the pattern or the inventory)`,
  );
}

/**
 * Ansible-style --limit: names, groups and globs separated by `,` or `:`; `!x` excludes,
 * `&x` intersects. A pattern that matches nothing is an error: a mistyped exclusion must
 * never silently leave a host selected.
 */
export function selectHosts(inventory: Inventory, limit: string | undefined): InventoryHost[] {
  if (limit === undefined || limit.trim() === '' || limit.trim() === 'all') return [...inventory.hosts];
  const parts = limit.split(/[,:]/).map((s) => s.trim()).filter(Boolean);
  const includes = parts.filter((p) => !p.startsWith('!') && !p.startsWith('&'));
  let selected = new Set<string>(includes.length === 0 ? inventory.hosts.map((h) => h.name) : []);
  for (const p of includes) {
    const m = matchPattern(inventory, p);
    if (m.size === 0) throw noMatch(inventory, p);
    for (const h of m) selected.add(h);
  }
  for (const p of parts.filter((x) => x.startsWith('&'))) {
    const m = matchPattern(inventory, p.slice(1));
    if (m.size === 0) throw noMatch(inventory, p);
    selected = new Set([...selected].filter((h) => m.has(h)));
  }
  for (const p of parts.filter((x) => x.startsWith('!'))) {
    const m = matchPattern(inventory, p.slice(1));
    if (m.size === 0) throw noMatch(inventory, p);
    for (const h of m) selected.delete(h);
  }
  return inventory.hosts.filter((h) => selected.has(h.name));
}
