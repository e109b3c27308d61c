/**
 * Ansible's INI inventory format, read the way Ansible's `ini` inventory plugin reads it:
 * `[group]` host lines with `key=value` vars and `host:port`, `[group:vars]`, `[group:children]`,
 * host ranges (`web[01:03]`, `db-[a:c]`, `n[0:10:2]`). Values are typed as Python literals are
 * (`5` a number, `True` a boolean, anything else a string). What this reader cannot take as
 * Ansible would, it refuses at file:line instead of guessing. Pure: text in, declarations out.
 */
import { fail, type Collected, type InventoryGroup } from './inventory.js';

type Group = InventoryGroup & { where: string };

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:[#;].*)?$/;

/** shlex.split(line, comments=True): quotes group words, `#` outside quotes ends the line. */
export function shellWords(line: string, where: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '#') break;
    if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (ch === '"' || ch === "'") {
      const end = line.indexOf(ch, i + 1);
      if (end < 0) fail(where, `unterminated ${ch} quote`);
      // Inside double quotes a backslash escapes a quote or backslash, as in shlex.
      const body = line.slice(i + 1, end);
      word += ch === '"' ? body.replace(/\\(["\\])/g, '$1') : body;
      inWord = true;
      i = end;
    } else if (ch === '\\' && i + 1 < line.length) {
      word += line[i + 1];
      inWord = true;
      i += 1;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Python literal typing of an INI value, as `ast.literal_eval` (falling back to the string) does. */
export function iniValue(raw: string, where: string, key: string): unknown {
  const v = raw.trim();
  if (/^[-+]?(0|[1-9][0-9]*)$/.test(v)) return Number(v);
  if (/^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(v) || /^[-+]?[0-9]+[eE][-+]?[0-9]+$/.test(v)) return Number(v);
  if (v === 'True') return true;
  if (v === 'False') return false;
  if (v === 'None') return null;
  const quoted = /^(['"])(.*)\1$/s.exec(v);
  if (quoted) return quoted[2]!.replace(/\\(['"\\])/g, '$1');
  if (/^[[{(]/.test(v)) {
    fail(where, `${key}: Python lists, dicts and tuples in INI values are not read by runbook's own reader; put the value in group_vars/ or host_vars/ as YAML, or install ansible-core so 'ansible-inventory' reads the file`);
  }
  return v;
}

/** `web[01:03]` → web01 web02 web03; `[a:c]` letters; an optional `:step`. */
export function expandHostPattern(pattern: string, where: string): string[] {
  const m = /^(.*?)\[([^\]]*)\](.*)$/.exec(pattern);
  if (!m) return [pattern];
  const [, head, range, tail] = m as unknown as [string, string, string, string];
  const parts = range.split(':');
  if (parts.length < 2 || parts.length > 3) fail(where, `host range [${range}] must be [start:end] or [start:end:step]`);
  const [start, end, stepText] = parts as [string, string, string | undefined];
  const step = stepText === undefined || stepText === '' ? 1 : Number(stepText);
  if (!Number.isInteger(step) || step < 1) fail(where, `host range [${range}]: step must be a whole number of 1 or more`);
  const out: string[] = [];
  if (/^[0-9]+$/.test(start) && /^[0-9]+$/.test(end)) {
    const from = Number(start);
    const to = Number(end);
    if (from > to) fail(where, `host range [${range}] runs backwards`);
    // A zero-padded start keeps its width (web[01:10] → web01 … web10), as Ansible does.
    const width = start.length > 1 && start.startsWith('0') ? start.length : 0;
    for (let n = from; n <= to; n += step) out.push(`${head}${String(n).padStart(width, '0')}`);
  } else if (/^[a-z]$/.test(start) && /^[a-z]$/.test(end)) {
    const from = start.charCodeAt(0);
    const to = end.charCodeAt(0);
    if (from > to) fail(where, `host range [${range}] runs backwards`);
    for (let c = from; c <= to; c += step) out.push(`${head}${String.fromCharCode(c)}`);
  } else {
    fail(where, `host range [${range}] must be numbers (01:10) or single lower-case letters (a:f)`);
  }
  return out.flatMap((name) => expandHostPattern(`${name}${tail}`, where));
}

/** `host:port` (Ansible's short form for ansible_port); colons inside a range or a bare IPv6 address do not count. */
function splitPort(pattern: string, where: string): { name: string; port?: number } {
  const outsideRanges = pattern.replace(/\[[^\]]*\]/g, (r) => '_'.repeat(r.length));
  const colon = outsideRanges.lastIndexOf(':');
  if (colon < 0 || /^[0-9a-fA-F:]+$/.test(pattern)) return { name: pattern };
  const port = pattern.slice(colon + 1);
  if (!/^[0-9]+$/.test(port) || outsideRanges.slice(0, colon).includes(':')) fail(where, `cannot read host '${pattern}': expected name, name:port or an address`);
  return { name: pattern.slice(0, colon), port: Number(port) };
}

export function parseIniInventory(text: string, file: string): Collected {
  const c: Collected = { hosts: new Map(), groups: new Map(), globalVars: {} };
  const group = (name: string, where: string): Group => {
    let g = c.groups.get(name);
    if (!g) {
      g = { name, hosts: [], children: [], vars: {}, where };
      c.groups.set(name, g);
    }
    return g;
  };
  const declared = new Set<string>(['all', 'ungrouped']);
  const varsSections: Array<{ name: string; where: string }> = [];
  group('all', file);
  group('ungrouped', file);
  let current = 'ungrouped';
  let state: 'hosts' | 'vars' | 'children' = 'hosts';
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    const where = `${file}:${i + 1}`;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      const m = SECTION.exec(line);
      if (!m) fail(where, `cannot read section header ${JSON.stringify(line)}: expected [group], [group:vars] or [group:children]`);
      current = m[1]!;
      const kind = m[2] ?? 'hosts';
      if (kind !== 'hosts' && kind !== 'vars' && kind !== 'children') {
        fail(where, `section [${current}:${kind}]: only :vars and :children follow a group name`);
      }
      state = kind;
      if (state === 'vars') varsSections.push({ name: current, where });
      else {
        declared.add(current);
        group(current, where);
      }
      continue;
    }
    if (state === 'vars') {
      const eq = line.indexOf('=');
      if (eq <= 0) fail(where, `expected key=value in [${current}:vars], got ${JSON.stringify(line)}`);
      const key = line.slice(0, eq).trim();
      group(current, where).vars[key] = iniValue(line.slice(eq + 1), where, key);
    } else if (state === 'children') {
      const words = shellWords(line, where);
      if (words.length !== 1) fail(where, `expected one group name per line in [${current}:children], got ${JSON.stringify(line)}`);
      const child = words[0]!;
      declared.add(child);
      group(child, where);
      const parent = group(current, where);
      if (!parent.children.includes(child)) parent.children.push(child);
    } else {
      const [pattern, ...assignments] = shellWords(line, where);
      if (pattern === undefined) continue;
      const vars: Record<string, unknown> = {};
      for (const a of assignments) {
        const eq = a.indexOf('=');
        if (eq <= 0) fail(where, `expected key=value host variable, got ${JSON.stringify(a)}`);
        const key = a.slice(0, eq);
        vars[key] = iniValue(a.slice(eq + 1), where, key);
      }
      const { name: namePattern, port } = splitPort(pattern, where);
      for (const name of expandHostPattern(namePattern, where)) {
        const host = c.hosts.get(name) ?? { name, where, fields: { tools: {}, layout: {} }, vars: {} };
        Object.assign(host.vars, port !== undefined ? { ansible_port: port } : {}, vars);
        c.hosts.set(name, host);
        const g = group(current, where);
        if (!g.hosts.includes(name)) g.hosts.push(name);
      }
    }
  }
  for (const s of varsSections) {
    if (!declared.has(s.name)) fail(s.where, `[${s.name}:vars] is for a group that has no [${s.name}] section and is nobody's child`);
  }
  // As Ansible does: every group without a parent is a child of `all`; a host in no group but
  // `ungrouped` stays there, any other host leaves it.
  const inSomeGroup = new Set<string>();
  for (const g of c.groups.values()) if (g.name !== 'ungrouped' && g.name !== 'all') for (const h of g.hosts) inSomeGroup.add(h);
  const ungrouped = c.groups.get('ungrouped')!;
  ungrouped.hosts = ungrouped.hosts.filter((h) => !inSomeGroup.has(h));
  const children = new Set<string>();
  for (const g of c.groups.values()) for (const ch of g.children) children.add(ch);
  const all = c.groups.get('all')!;
  all.vars = { ...all.vars };
  for (const name of c.groups.keys()) if (name !== 'all' && !children.has(name) && !all.children.includes(name)) all.children.push(name);
  return c;
}
