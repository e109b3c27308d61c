/**
 * The subset of OpenSSH's client configuration (`~/.ssh/config`) runbook honours: Host blocks
 * with `*`, `?` and `!` patterns, first value wins per option, and HostName, User, Port,
 * IdentityFile, ProxyJump. Parsing is pure; reading the file is a separate helper.
 */
import { readFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';

export interface SshConfigBlock {
  /** Host patterns of this block; the options before any Host line use ['*']. */
  patterns: string[];
  /** Lower-cased keyword → values in file order. */
  options: Array<{ key: string; value: string; line: number }>;
  /** `Match` blocks are not evaluated; their options are ignored. */
  ignored: boolean;
}

export interface SshConfigHost {
  hostname: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  /** Jump hosts in order, as written (`user@host:port`), or none. */
  proxyJump: string[];
}

function splitValue(rest: string): string {
  let v = rest.trim();
  if (v.startsWith('=')) v = v.slice(1).trim();
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
  return v;
}

export function parseSshConfig(text: string): SshConfigBlock[] {
  const blocks: SshConfigBlock[] = [{ patterns: ['*'], options: [], ignored: false }];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    const value = splitValue(m[2]!);
    if (key === 'host') {
      blocks.push({ patterns: value.split(/\s+/).filter(Boolean), options: [], ignored: false });
    } else if (key === 'match') {
      blocks.push({ patterns: [], options: [], ignored: true });
    } else {
      blocks.at(-1)!.options.push({ key, value, line: i + 1 });
    }
  }
  return blocks;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** OpenSSH semantics: any negated match excludes the block; otherwise one positive match. */
export function hostPatternsMatch(patterns: readonly string[], host: string): boolean {
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (globToRegExp(p.slice(1)).test(host)) return false;
    } else if (globToRegExp(p).test(host)) {
      matched = true;
    }
  }
  return matched;
}

export function expandTilde(path: string, home = homedir()): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return `${home}${path.slice(1)}`;
  return path;
}

function expandTokens(value: string, tokens: Record<string, string>): string {
  return value.replace(/%(.)/g, (all, t: string) => (t === '%' ? '%' : (tokens[t] ?? all)));
}

/** Resolve the options for `host` (the name the operator typed). */
export function resolveSshConfig(
  blocks: readonly SshConfigBlock[],
  host: string,
  env: { home?: string; localUser?: string } = {},
): SshConfigHost {
  const first = new Map<string, string>();
  const identityFiles: string[] = [];
  for (const block of blocks) {
    if (block.ignored || !hostPatternsMatch(block.patterns, host)) continue;
    for (const { key, value } of block.options) {
      if (key === 'identityfile') identityFiles.push(value);
      else if (!first.has(key)) first.set(key, value);
    }
  }
  const home = env.home ?? homedir();
  const hostname = expandTokens(first.get('hostname') ?? host, { h: host });
  const user = first.get('user');
  const portText = first.get('port');
  const port = portText !== undefined ? Number.parseInt(portText, 10) : undefined;
  const tokens: Record<string, string> = {
    h: hostname,
    n: host,
    d: home,
    u: env.localUser ?? safeLocalUser(),
    r: user ?? env.localUser ?? safeLocalUser(),
    p: String(port ?? 22),
  };
  const jump = first.get('proxyjump');
  return {
    hostname,
    ...(user !== undefined ? { user } : {}),
    ...(port !== undefined && Number.isFinite(port) ? { port } : {}),
    identityFiles: identityFiles.map((f) => expandTilde(expandTokens(f, tokens), home)),
    proxyJump:
      jump === undefined || jump.toLowerCase() === 'none'
        ? []
        : jump.split(',').map((s) => s.trim()).filter(Boolean),
  };
}

function safeLocalUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'root';
  }
}

/** `user@host:port`, `host:port`, `[v6]:port` → parts. */
export function parseUserHostPort(spec: string): { user?: string; host: string; port?: number } {
  let rest = spec;
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at > 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  let host = rest;
  let port: number | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (v6) {
    host = v6[1]!;
    if (v6[2] !== undefined) port = Number(v6[2]);
  } else {
    const m = /^([^:]+):(\d+)$/.exec(rest);
    if (m) {
      host = m[1]!;
      port = Number(m[2]);
    }
  }
  if (host === '') throw new Error(`invalid host specification: ${JSON.stringify(spec)}`);
  return { ...(user !== undefined ? { user } : {}), host, ...(port !== undefined ? { port } : {}) };
}

export async function loadSshConfig(path = expandTilde('~/.ssh/config')): Promise<SshConfigBlock[]> {
  try {
    return parseSshConfig(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
