// A fingerprint of a host root's state (files, contents, modes, owners, symlink targets) for
// "a dry-run changed nothing" assertions. Read-only commands still leave traces that are not
// state: the simulator's call log, and Exim's `cwd=` argument lines (+arguments logs every
// invocation, `exim -bp` included), and maldet's scan reports and event log (every scan writes
// them). Those are left out; everything else counts.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface HostStateEntry {
  /** Path relative to the root. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  /** Octal permission bits, e.g. "0644". */
  mode: string;
  uid: number;
  gid: number;
  /** sha256 of the (filtered) content, files only. */
  sha256?: string;
  /** Symlink target. */
  target?: string;
}

export interface HostStateOptions {
  /** Extra relative paths to leave out (exact path or directory prefix). */
  ignore?: string[];
}

const ALWAYS_IGNORED = ['var/log/sim-calls.log', 'usr/local/maldetect/sess', 'usr/local/maldetect/logs'];
const EXIM_LOG = /^var\/log\/exim_[a-z]+log$/;
const CWD_LINE = /^\S+ \S+ cwd=.* \d+ args: /;

function ignored(rel: string, extra: string[]): boolean {
  for (const p of [...ALWAYS_IGNORED, ...extra]) {
    if (rel === p || rel.startsWith(p.endsWith('/') ? p : `${p}/`)) return true;
  }
  return false;
}

function contentHash(abs: string, rel: string): string {
  let data = readFileSync(abs);
  if (EXIM_LOG.test(rel)) {
    const kept = data
      .toString('utf8')
      .split('\n')
      .filter((line) => !CWD_LINE.test(line))
      .join('\n');
    data = Buffer.from(kept, 'utf8');
  }
  return createHash('sha256').update(data).digest('hex');
}

/** Every entry under root, sorted by path. */
export function hostStateEntries(root: string, options: HostStateOptions = {}): HostStateEntry[] {
  const extra = options.ignore ?? [];
  const out: HostStateEntry[] = [];
  const walk = (dir: string) => {
    const names = readdirSync(dir).sort();
    for (const name of names) {
      const abs = join(dir, name);
      const rel = relative(root, abs);
      if (ignored(rel, extra)) continue;
      const st = lstatSync(abs);
      const base = { path: rel, mode: (st.mode & 0o7777).toString(8).padStart(4, '0'), uid: st.uid, gid: st.gid };
      if (st.isSymbolicLink()) out.push({ ...base, type: 'symlink', target: readlinkSync(abs) });
      else if (st.isDirectory()) {
        out.push({ ...base, type: 'dir' });
        walk(abs);
      } else if (st.isFile()) out.push({ ...base, type: 'file', sha256: contentHash(abs, rel) });
      else out.push({ ...base, type: 'other' });
    }
  };
  walk(root);
  return out;
}

/** One hash for the whole root: equal before and after means nothing changed. */
export function hashHostState(root: string, options: HostStateOptions = {}): string {
  const h = createHash('sha256');
  for (const e of hostStateEntries(root, options)) h.update(JSON.stringify(e) + '\n');
  return h.digest('hex');
}

/** Human-readable differences between two snapshots, for assertion messages. */
export function diffHostState(before: HostStateEntry[], after: HostStateEntry[]): string[] {
  const a = new Map(before.map((e) => [e.path, e]));
  const b = new Map(after.map((e) => [e.path, e]));
  const out: string[] = [];
  for (const [path, e] of a) {
    const f = b.get(path);
    if (!f) out.push(`removed ${path}`);
    else if (JSON.stringify(e) !== JSON.stringify(f)) out.push(`changed ${path}: ${JSON.stringify(e)} -> ${JSON.stringify(f)}`);
  }
  for (const path of b.keys()) if (!a.has(path)) out.push(`added ${path}`);
  return out;
}
