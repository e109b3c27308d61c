/**
 * OpenSSH known_hosts: parsing, matching and appending. Pure functions over text, plus two
 * small file helpers. Keys are compared as raw wire-format blobs, never by "looks alike".
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface KnownHostEntry {
  /** 1-based line in the file, for messages. */
  line: number;
  marker: 'revoked' | 'cert-authority' | null;
  /** Comma-separated plain patterns, or a single hashed entry. */
  hosts: { kind: 'plain'; patterns: string[] } | { kind: 'hashed'; salt: Buffer; hash: Buffer };
  keyType: string;
  /** Wire-format public key blob (what the base64 field decodes to). */
  key: Buffer;
}

/** Parse known_hosts text; malformed lines are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fields = raw.split(/\s+/);
    let marker: KnownHostEntry['marker'] = null;
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue;
    }
    const [hostField, keyType, keyB64] = fields;
    if (hostField === undefined || keyType === undefined || keyB64 === undefined) continue;
    const key = Buffer.from(keyB64, 'base64');
    if (key.length === 0) continue;
    let hosts: KnownHostEntry['hosts'];
    if (hostField.startsWith('|1|')) {
      const [, , salt, hash] = hostField.split('|');
      if (salt === undefined || hash === undefined) continue;
      hosts = { kind: 'hashed', salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
    } else {
      hosts = { kind: 'plain', patterns: hostField.split(',') };
    }
    entries.push({ line: i + 1, marker, hosts, keyType, key });
  }
  return entries;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function plainMatches(patterns: readonly string[], name: string): boolean {
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (globToRegExp(p.slice(1)).test(name)) return false;
    } else if (globToRegExp(p).test(name)) {
      matched = true;
    }
  }
  return matched;
}

export function entryMatchesHost(entry: KnownHostEntry, name: string): boolean {
  if (entry.hosts.kind === 'plain') return plainMatches(entry.hosts.patterns, name);
  const digest = createHmac('sha1', entry.hosts.salt).update(name).digest();
  return digest.equals(entry.hosts.hash);
}

/** OpenSSH-style fingerprint: `SHA256:` + unpadded base64 of sha256(blob). */
export function sha256Fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside a wire-format blob (first length-prefixed string). */
export function keyTypeOfBlob(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const len = key.readUInt32BE(0);
  return key.subarray(4, 4 + len).toString('latin1');
}

export type HostKeyVerdict =
  | { status: 'known'; line: number }
  | { status: 'revoked'; line: number }
  | { status: 'changed'; lines: number[]; knownTypes: string[] }
  | { status: 'unknown' };

/** Judge a presented host key against the entries for `name` (`knownHostsName` form). */
export function checkHostKey(entries: readonly KnownHostEntry[], name: string, key: Buffer): HostKeyVerdict {
  for (const e of entries) {
    if (e.marker === 'revoked' && e.key.equals(key)) return { status: 'revoked', line: e.line };
  }
  const forHost = entries.filter((e) => e.marker === null && entryMatchesHost(e, name));
  const same = forHost.find((e) => e.key.equals(key));
  if (same) return { status: 'known', line: same.line };
  if (forHost.length > 0) {
    return {
      status: 'changed',
      lines: forHost.map((e) => e.line),
      knownTypes: [...new Set(forHost.map((e) => e.keyType))],
    };
  }
  return { status: 'unknown' };
}

/** Key types already trusted for a host, so the handshake can ask for one of them first. */
export function knownKeyTypes(entries: readonly KnownHostEntry[], name: string): string[] {
  return [...new Set(entries.filter((e) => e.marker === null && entryMatchesHost(e, name)).map((e) => e.keyType))];
}

/** A hashed known_hosts line, as `ssh-keyscan -H` writes (the host name is not readable). */
export function formatKnownHostsLine(name: string, key: Buffer, options: { hashed?: boolean } = {}): string {
  let hostField = name;
  if (options.hashed !== false) {
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update(name).digest();
    hostField = `|1|${salt.toString('base64')}|${hash.toString('base64')}`;
  }
  return `${hostField} ${keyTypeOfBlob(key)} ${key.toString('base64')}`;
}

export async function readKnownHostsFile(path: string): Promise<KnownHostEntry[]> {
  try {
    return parseKnownHosts(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

export async function appendKnownHost(path: string, name: string, key: Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  let prefix = '';
  try {
    const current = await readFile(path, 'utf8');
    if (current.length > 0 && !current.endsWith('\n')) prefix = '\n';
  } catch {
    // a new file
  }
  await appendFile(path, `${prefix}${formatKnownHostsLine(name, key)}\n`, { mode: 0o600 });
}
