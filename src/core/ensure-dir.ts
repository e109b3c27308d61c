/**
 * Creates a directory and its missing parents one level at a time.
 *
 * Node's `mkdir(..., { recursive: true })` never returns under /proc: procfs answers ENOENT to
 * mkdir although the parent exists, so the recursive walk climbs to the parent, finds it,
 * comes back down and tries again, forever, in one synchronous call. Walking the parents here
 * turns that (and a file in the way, or a read-only parent) into an error that names the path.
 */
import { accessSync, constants, mkdirSync, statfsSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Kernel pseudo-filesystems (statfs f_type, linux/magic.h): no file written there is kept, and
 * creating directories in them fails or never returns.
 */
const PSEUDO_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0xcafe4a11, 'bpf'],
  [0x6e736673, 'nsfs'],
]);

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The pseudo-filesystem `path` lives on, or null for a normal one (or when statfs cannot say). */
export function pseudoFilesystemOf(path: string): string | null {
  try {
    return PSEUDO_FILESYSTEMS.get(Number(statfsSync(path).type)) ?? null;
  } catch {
    return null;
  }
}

/** Nearest existing ancestor of `dir` (or `dir` itself) and the missing levels below it, top first. */
function nearestExisting(dir: string): { existing: string; stats: Stats; missing: string[] } {
  const missing: string[] = [];
  let current = dir;
  for (;;) {
    try {
      return { existing: current, stats: statSync(current), missing };
    } catch (error) {
      const code = errnoOf(error);
      // ENOTDIR: a file sits somewhere above; keep climbing to name it below.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new Error(`cannot create the directory ${dir}: cannot inspect ${current}: ${reasonOf(error)}`);
      const parent = dirname(current);
      if (parent === current) throw new Error(`cannot create the directory ${dir}: no part of the path exists`);
      missing.unshift(current);
      current = parent;
    }
  }
}

/**
 * Checks that `dir` is a writable directory or could be created (its nearest existing ancestor
 * is a writable directory on a real filesystem), without creating anything. Returns the missing
 * levels, top first. Throws like ensureDirectory.
 */
export function checkDirectory(dir: string): string[] {
  const target = resolve(dir);
  const { existing, stats, missing } = nearestExisting(target);
  if (!stats.isDirectory()) throw new Error(`cannot create the directory ${target}: ${existing} exists and is not a directory`);
  const pseudo = pseudoFilesystemOf(existing);
  if (pseudo !== null) throw new Error(`cannot use the directory ${target}: ${existing} is on ${pseudo}, a kernel pseudo-filesystem that keeps no files`);
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (error) {
    const reason = errnoOf(error) ?? reasonOf(error);
    throw new Error(missing.length === 0 ? `cannot write in the directory ${target} (${reason})` : `cannot create the directory ${target}: ${existing} is not writable (${reason})`);
  }
  return missing;
}

/**
 * Makes sure `dir` is a directory, creating missing levels with `mode`. Throws an Error that
 * names the directory and the reason; never hangs on /proc, /sys and the like.
 */
export function ensureDirectory(dir: string, mode = 0o700): void {
  for (const level of checkDirectory(dir)) {
    try {
      mkdirSync(level, { mode });
    } catch (error) {
      // Another process may have created it meanwhile: fine if it is a directory now.
      if (errnoOf(error) === 'EEXIST' && statSync(level, { throwIfNoEntry: false })?.isDirectory() === true) continue;
      throw new Error(`cannot create the directory ${level}: ${reasonOf(error)}`);
    }
  }
}
