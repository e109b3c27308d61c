/**
 * OpenSSH's client configuration (`~/.ssh/config`) as the transport needs it: HostName, User,
 * Port, IdentityFile, ProxyJump per host. When OpenSSH's client is installed, `ssh -G` resolves
 * each host, so Include, Match and everything else apply exactly as `ssh` would apply them.
 * Without it, runbook's own reader takes Host blocks with `*`, `?` and `!` patterns, first
 * value wins per option, and refuses a file with Include or Match rather than ignore them.
 * Parsing is pure; reading the file and running ssh are separate helpers.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { findExecutable } from '../core/find-executable.js';

export interface SshConfigBlock {
  /** Host patterns of this block; the options before any Host line use ['*']. */
  patterns: string[];
  /** Lower-cased keyword → values in file order. */
  options: Array<{ key: string; value: string; line: number }>;
}

export class SshConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SshConfigError';
  }
}

/** Resolves the name the operator typed into what to connect to, as `ssh` would. */
export type SshHostResolver = (host: string) => Promise<SshConfigHost>;

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

const NEEDS_OPENSSH = "runbook's own ssh_config reader cannot honour it; install OpenSSH's client (apt-get install openssh-client) so hosts are resolved with 'ssh -G', or point RUNBOOK_SSH_CONFIG at a config without it";

export function parseSshConfig(text: string, file = 'ssh_config'): SshConfigBlock[] {
  const blocks: SshConfigBlock[] = [{ patterns: ['*'], options: [] }];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    const value = splitValue(m[2]!);
    if (key === 'host') {
      blocks.push({ patterns: value.split(/\s+/).filter(Boolean), options: [] });
    } else if (key === 'match' || key === 'include') {
      // Ignoring either would connect to the wrong port, as the wrong user, or with the wrong key.
      throw new SshConfigError(`${file}:${i + 1}: ${m[1]} ${value}: ${NEEDS_OPENSSH}`);
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

export function expandTokens(value: string, tokens: Record<string, string>): string {
  return value.replace(/%(.)/g, (all, t: string) => (t === '%' ? '%' : (tokens[t] ?? all)));
}

/** ProxyCommand has no equivalent in the transport: connecting directly instead would be wrong. */
function refuseProxyCommand(value: string | undefined, host: string, where: string): void {
  if (value !== undefined && value.toLowerCase() !== 'none') {
    throw new SshConfigError(`${where}: ProxyCommand for ${host} is not supported by runbook's SSH transport; use ProxyJump (ssh -J) for jump hosts`);
  }
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
    if (!hostPatternsMatch(block.patterns, host)) continue;
    for (const { key, value } of block.options) {
      if (key === 'identityfile') identityFiles.push(value);
      else if (!first.has(key)) first.set(key, value);
    }
  }
  refuseProxyCommand(first.get('proxycommand'), host, 'ssh_config');
  return hostSettings(host, expandTokens(first.get('hostname') ?? host, { h: host }), first, identityFiles, env);
}

/**
 * The connection settings from the first value of each option (as OpenSSH keeps them) and the
 * identity files, with `%` tokens and `~` expanded: one place for the built-in reader and `ssh -G`.
 */
function hostSettings(
  host: string,
  hostname: string,
  first: ReadonlyMap<string, string>,
  identityFiles: readonly string[],
  env: { home?: string; localUser?: string },
): SshConfigHost {
  const home = env.home ?? homedir();
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
    proxyJump: jump === undefined || jump.toLowerCase() === 'none' ? [] : jump.split(',').map((s) => s.trim()).filter(Boolean),
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
    return parseSshConfig(await readFile(path, 'utf8'), path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** The identity files OpenSSH tries when none is configured; `ssh -G` lists them all. */
const OPENSSH_DEFAULT_IDENTITIES = new Set(['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'].map((f) => `~/.ssh/${f}`));

/**
 * `ssh -G` output (lower-case `key value` lines, one identityfile line per file) → the host's
 * settings. ssh leaves %-tokens and ~ in IdentityFile for connect time: they are expanded here.
 * A list that is only OpenSSH's defaults counts as none configured (the transport has its own).
 */
export function parseSshG(output: string, host: string, env: { home?: string; localUser?: string } = {}): SshConfigHost {
  const first = new Map<string, string>();
  const identities: string[] = [];
  for (const line of output.split('\n')) {
    const m = /^([a-z0-9]+) (.*)$/.exec(line.trimEnd());
    if (!m) continue;
    if (m[1] === 'identityfile') identities.push(m[2]!);
    else if (!first.has(m[1]!)) first.set(m[1]!, m[2]!);
  }
  refuseProxyCommand(first.get('proxycommand'), host, 'ssh -G');
  // ssh -G lists its default identities when none is configured: those are the agent's business.
  const configured = identities.every((f) => OPENSSH_DEFAULT_IDENTITIES.has(f)) ? [] : identities;
  return hostSettings(host, first.get('hostname') ?? host, first, configured, env);
}

function runSshG(ssh: string, host: string, file: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    // `--` ends ssh's options: a host name can never be taken for one.
    const argv = ['-G', ...(file !== undefined ? ['-F', file] : []), '--', host];
    const child = execFile(ssh, argv, { timeout: 30_000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const why = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^Pseudo-terminal/.test(l)).join(' | ');
        reject(new SshConfigError(`ssh -G${file !== undefined ? ` -F ${file}` : ''} ${host} failed: ${why || error.message}`));
      } else {
        resolve(stdout);
      }
    });
    child.stdin?.end();
  });
}

/**
 * The config `ssh -G` should read when none is named. ssh finds ~/.ssh/config through the
 * password database, runbook through $HOME; when they differ (a sandboxed HOME, a test), the
 * $HOME one is named explicitly so both read the same file. Otherwise ssh's own default applies
 * (~/.ssh/config, then /etc/ssh/ssh_config).
 */
function configForHome(): string | undefined {
  let passwdHome: string | undefined;
  try {
    passwdHome = userInfo().homedir;
  } catch {
    passwdHome = undefined;
  }
  const home = homedir();
  if (passwdHome === home) return undefined;
  const file = join(home, '.ssh', 'config');
  return existsSync(file) ? file : '/dev/null';
}

export interface SshHostResolverOptions {
  /** Config file (ssh's -F); default: what ssh reads by default, or $RUNBOOK_SSH_CONFIG. */
  file?: string;
  /** OpenSSH's ssh, or null for runbook's own reader. Default: $RUNBOOK_SSH (a path or `off`), else ssh on PATH. */
  ssh?: string | null;
}

/** How hosts get resolved: `ssh -G` when OpenSSH's client is there, runbook's own reader otherwise. */
export function sshHostResolver(options: SshHostResolverOptions = {}): SshHostResolver {
  const file = options.file ?? (process.env.RUNBOOK_SSH_CONFIG || undefined);
  const ssh = options.ssh === undefined ? findExecutable('ssh', process.env.RUNBOOK_SSH) : (options.ssh ?? undefined);
  const cache = new Map<string, Promise<SshConfigHost>>();
  let blocks: Promise<SshConfigBlock[]> | undefined;
  return (host) => {
    let resolved = cache.get(host);
    if (!resolved) {
      if (ssh !== undefined) {
        resolved = runSshG(ssh, host, file ?? configForHome()).then((out) => parseSshG(out, host));
      } else {
        blocks ??= loadSshConfig(file ?? expandTilde('~/.ssh/config'));
        resolved = blocks.then((b) => resolveSshConfig(b, host));
      }
      cache.set(host, resolved);
    }
    return resolved;
  };
}

/** The transport's `sshConfig` option as a resolver: parsed blocks, false for none, or a resolver. */
export function asHostResolver(config: SshConfigBlock[] | false | SshHostResolver | undefined): SshHostResolver {
  if (typeof config === 'function') return config;
  if (config === undefined) return sshHostResolver();
  const blocks = config === false ? [] : config;
  return async (host) => resolveSshConfig(blocks, host);
}
