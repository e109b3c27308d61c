/**
 * The main log on this machine together with its rotated predecessors. cPanel rotates
 * /var/log/exim_mainlog daily or weekly into `exim_mainlog-20261115.gz` (dateext) or
 * `exim_mainlog.1`, `exim_mainlog.2.gz` (numbered); a `since` window reaching back before
 * the last rotation must read those too, or the evidence before it is silently missing.
 *
 * Only as many predecessors are read as the window needs, newest first: the walk stops at the
 * first one that starts before the window, once past the last one last written inside it.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseWindow, resolveSince } from '../parsers/log-time.js';
import type { MainlogScanResult } from '../parsers/mainlog-scan.js';
import { inferLogZone, lastWriteInLogTime, localOffsetAt, widenedNote, type LogZone, type WriteTime } from './log-zone.js';
import { scanMainlogFile, type MainlogScanOptions } from './mainlog-file.js';
import {
  holdsWindow,
  MainlogSourceError,
  newestTime,
  probeMainlogSource,
  scanProbedSources,
  type MainlogSource,
  type MainlogSourcesResult,
  untoldReason,
} from './mainlog-sources.js';

export interface UnreadableLog {
  file: string;
  error: string;
}

/**
 * The scan result, plus rotated files that exist but could not be read (window incomplete), and
 * notes on how the files to read were chosen (a zone that could not be told).
 */
export type RotatedScanResult = MainlogSourcesResult & { unreadable_files?: UnreadableLog[]; notes?: string[] };

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Names of rotated predecessors of `base` among `names`, newest first: dated ones
 * (`<base>-YYYYMMDD[.gz]`, latest date first), then numbered ones (`<base>.N[.gz]`, 1 first).
 */
export function rotatedNames(base: string, names: string[]): string[] {
  const b = escapeRegExp(base);
  const dated = new RegExp(`^${b}-(\\d{8})(?:\\.gz)?$`);
  const numbered = new RegExp(`^${b}\\.(\\d{1,4})(?:\\.gz)?$`);
  const out: { name: string; scheme: number; key: number }[] = [];
  for (const name of names) {
    const d = dated.exec(name);
    if (d !== null) {
      out.push({ name, scheme: 0, key: -Number(d[1]) });
      continue;
    }
    const n = numbered.exec(name);
    if (n !== null) out.push({ name, scheme: 1, key: Number(n[1]) });
  }
  // A plain and a compressed copy of one rotation (mid-compression): the plain one first.
  out.sort((x, y) => x.scheme - y.scheme || x.key - y.key || x.name.length - y.name.length || (x.name < y.name ? -1 : 1));
  return out.map((x) => x.name);
}

/** Rotated predecessors of the log at `path`, newest first (full paths). */
export async function rotatedPredecessors(path: string): Promise<string[]> {
  return rotatedNames(basename(path), await readdir(dirname(path))).map((name) => join(dirname(path), name));
}

/**
 * A rotation's last write (epoch, with the system's offset then) and its size, and a timestamp
 * it is known to hold (its last for a plain file, read from its tail; its first for a gzip one,
 * from its head); or why it could not be looked at.
 */
export type LastWrite = (WriteTime & { size: number; line?: string }) | { error: string };

/**
 * How many of a host's rotated predecessors (newest first) are read whatever their first lines
 * say: down to the oldest whose last write is at or after the window start, or that could not
 * be looked at. Rotations merged by hand or a clock that jumped leave lines of the window in a
 * file that starts before it; its last write, never before its newest line, says so for the
 * price of a stat (offline files are read to tell: firstHoldingWindow in mainlog-sources.ts,
 * by the same rule). The last write is put in the log's zone (see log-zone.ts); one older than
 * a line of its own file (a `cp -p` copy, a file restored from a backup) bounds nothing, and
 * the file is read.
 */
export function reachByLastWrite(lastWrites: LastWrite[], from: string, zone: LogZone): number {
  let reach = 0;
  lastWrites.forEach((w, i) => {
    if ('error' in w) {
      reach = i + 1;
      return;
    }
    const time = lastWriteInLogTime(w, zone);
    if (holdsWindow(time, from) || (w.line !== undefined && w.line > time)) reach = i + 1;
  });
  return reach;
}

/** Whether reading by last write needed the widening of an unknown zone: the note to add, if any. */
export function zoneNotes(lastWrites: LastWrite[], from: string, zone: LogZone): string[] {
  if (zone.kind !== 'unknown') return [];
  return reachByLastWrite(lastWrites, from, zone) > reachByLastWrite(lastWrites, from, { kind: 'system' }) ? [widenedNote(zone)] : [];
}

/**
 * Rotations read only because their last write may be in the window, that could not be read:
 * left out as offline files that cannot be told are (the time order puts the window in the
 * current log; the verdict says what was not read).
 */
export function untoldRotations(unreadable: UnreadableLog[], lastWrites: Map<string, LastWrite>): MainlogScanResult['left_out'] {
  return unreadable.map((u) => {
    const w = lastWrites.get(u.file);
    const error = u.error.startsWith(`${u.file}: `) ? u.error.slice(u.file.length + 2) : u.error;
    return { file: u.file, bytes: w !== undefined && 'size' in w ? w.size : 0, reason: untoldReason(error) };
  });
}

async function lastWriteOf(file: string, signal?: AbortSignal): Promise<LastWrite> {
  let st;
  try {
    st = await stat(file);
  } catch (err) {
    return { error: (err as Error).message };
  }
  const w = { mtime: Math.floor(st.mtimeMs / 1000), systemOffset: localOffsetAt(st.mtime), size: st.size };
  if (!st.isFile()) return w;
  const line = await knownLine(file, signal).catch((err: unknown) => {
    if ((err as Error).name === 'AbortError') throw err;
    return null;
  });
  return line === null ? w : { ...w, line };
}

/** A timestamp the file holds, cheaply: the last of a plain file (its tail), the first of a gzip one. */
async function knownLine(file: string, signal?: AbortSignal): Promise<string | null> {
  const source = await probeMainlogSource(file, signal);
  if (source.gzip) return source.firstTime;
  return await newestTime(source, signal);
}

/** The zone the log at `path` is stamped in, told from its last write and its last line. */
async function zoneOf(current: MainlogSource, signal?: AbortSignal): Promise<LogZone> {
  try {
    const st = await stat(current.path);
    const last = current.gzip ? null : await newestTime(current, signal);
    return inferLogZone({ mtime: Math.floor(st.mtimeMs / 1000), systemOffset: localOffsetAt(st.mtime) }, last);
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    return inferLogZone(null, null);
  }
}

/**
 * Scan the main log at `path` for `since`, reading rotated predecessors in the same directory
 * when the window starts before the log's first line, or when their last write is inside it.
 * A predecessor that cannot be read is left out and listed in `unreadable_files` (in `left_out`
 * when only its last write had it read); the current log itself must be readable.
 */
export async function scanMainlogWithRotation(path: string, options: MainlogScanOptions = {}): Promise<RotatedScanResult> {
  const since = options.since === undefined || options.since === null || options.since === '' ? null : options.since;
  if (since === null) return { ...(await scanMainlogFile(path, options)), files: [path] };

  const current = await probeMainlogSource(path, options.signal);
  const isWindow = parseWindow(since) !== null;
  let from: string | null = null;
  if (current.firstTime !== null) {
    const r = resolveSince(since, isWindow ? await newestTime(current, options.signal) : null);
    if (!r.ok) throw new Error(r.error);
    from = r.from;
  } else if (!isWindow) {
    const r = resolveSince(since, null);
    if (!r.ok) throw new Error(r.error);
    from = r.from;
  }

  let predecessors: string[];
  try {
    predecessors = await rotatedPredecessors(path);
  } catch {
    predecessors = [];
  }
  // By time order the window lies inside the current log: the rotations are read only when
  // their last write says they may hold lines of it.
  const inCurrent = from !== null && current.firstTime !== null && current.firstTime < from;
  const lastWrites = new Map<string, LastWrite>();
  if (from !== null) for (const file of predecessors) lastWrites.set(file, await lastWriteOf(file, options.signal));
  const zone = from !== null && predecessors.length > 0 ? await zoneOf(current, options.signal) : inferLogZone(null, null);
  const ordered = predecessors.map((f) => lastWrites.get(f)!);
  const reach = from === null ? 0 : reachByLastWrite(ordered, from, zone);
  const notes = from !== null && inCurrent ? zoneNotes(ordered, from, zone) : [];
  if (inCurrent && reach === 0) {
    // The usual case (entered by binary search, as before).
    return current.gzip ? await scanProbedSources([current], options) : { ...(await scanMainlogFile(path, options)), files: [path] };
  }
  const chosen: MainlogSource[] = [];
  const unreadable: UnreadableLog[] = [];
  for (const [i, file] of predecessors.entries()) {
    if (i >= reach && (inCurrent || (from !== null && chosen.length > 0 && chosen[chosen.length - 1]!.firstTime! < from))) break;
    let source: MainlogSource;
    try {
      source = await probeMainlogSource(file, options.signal);
      // The current log was just rotated and is still empty: the window counts back from here.
      if (from === null && source.firstTime !== null) {
        const r = resolveSince(since, await newestTime(source, options.signal));
        if (!r.ok) throw new Error(r.error);
        from = r.from;
      }
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      unreadable.push({ file, error: (err as Error).message });
      continue;
    }
    if (source.firstTime !== null) chosen.push(source);
  }

  // No rotation holds a line: the current log alone, as a host's remote scan reads it (also
  // when it has no timestamp to place the window by).
  const r: RotatedScanResult = chosen.length === 0 && !current.gzip
    ? { ...(await scanMainlogFile(path, options)), files: [path], ...(unreadable.length > 0 ? { unreadable_files: unreadable } : {}) }
    : await scanKeepingWhatReads([...chosen].reverse(), current, unreadable, options);
  // Named after the log asked for, even when it was just rotated and held no line yet.
  const named = { ...r, file: path, files: r.files.includes(path) ? r.files : [...r.files, path], ...(notes.length > 0 ? { notes } : {}) };
  if (!inCurrent || named.unreadable_files === undefined) return named;
  const { unreadable_files: untold, ...rest } = named;
  return { ...rest, left_out: [...rest.left_out, ...untoldRotations(untold, lastWrites)] };
}

/**
 * Scan `older` (oldest first) and `current` as one log. A file of `older` that fails part-way
 * (a corrupt gzip member) is dropped with everything older and listed in `unreadable_files`
 * after those already in `unreadable`: the window before it is incomplete, the rest is still
 * read. `current` must read. Files given offline and a host's rotations are kept the same way.
 */
export async function scanKeepingWhatReads(older: MainlogSource[], current: MainlogSource, unreadable: UnreadableLog[], options: MainlogScanOptions = {}): Promise<RotatedScanResult> {
  let sources = older;
  while (true) {
    try {
      const r = await scanProbedSources([...sources, current], options);
      return unreadable.length > 0 ? { ...r, unreadable_files: unreadable } : r;
    } catch (err) {
      const failed = err instanceof MainlogSourceError ? sources.findIndex((s) => s.path === err.path) : -1;
      if (failed < 0) throw err;
      unreadable.push({ file: sources[failed]!.path, error: (err as Error).message });
      sources = sources.slice(failed + 1);
    }
  }
}
