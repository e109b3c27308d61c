/**
 * A main log spread over several files (a rotated set: `exim_mainlog-20261114.gz`,
 * `exim_mainlog.1`, `exim_mainlog`), plain or gzip, scanned as one log.
 *
 * The result is exactly that of one pass over the concatenation of the files in time order:
 * the files are ordered by their first timestamp and fed, line by line in large chunks, to ONE
 * scanner, so state that spans a file boundary (a `cwd=` line at the end of one file and the
 * arrival it belongs to at the start of the next) is kept as it would be in a single file.
 * `since` counts back from the newest line over all files, and the window starts at the first
 * timestamped line at or after it, as in scanMainlogFile.
 *
 * Offsets in the result are over the uncompressed concatenation of the files read (`files`).
 */
import { readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { parseWindow, resolveSince } from '../parsers/log-time.js';
import {
  MainlogScanner,
  timestampPrefixLength,
  type MainlogScanResult,
  type ScanLimits,
} from '../parsers/mainlog-scan.js';
import { countInWindowBefore, lastTimestamp, LAST_TIME_LIMIT, offsetForTime, scanMainlogFile } from './mainlog-file.js';
import { gunzipChunks, hasGzipMagic } from './mainlog-gzip.js';

export interface MainlogSourcesOptions extends ScanLimits {
  /** A window (`24h`, counted back from the newest line of all files) or a time. */
  since?: string | null;
  /** Bytes handed to the scanner at a time (default 4 MiB). */
  chunkBytes?: number;
  signal?: AbortSignal;
}

/** The scan of several files: which ones were read, oldest first. */
export type MainlogSourcesResult = MainlogScanResult & { files: string[] };

/** A main log file, looked at but not yet scanned. */
export interface MainlogSource {
  path: string;
  gzip: boolean;
  /** Its first timestamp (null: none in the first few MiB). */
  firstTime: string | null;
  /** Nothing in it once decompressed (a gzip file of an empty log still has bytes). */
  empty?: boolean;
}

/** How far into a file its first timestamp is looked for (as the binary search's probe). */
const HEAD_LIMIT = 4 * 1024 * 1024;
const NL = 0x0a;

/**
 * The first timestamp among the complete lines of buf[0, end) (the last one if `final`).
 * `partial`: it starts a line not complete yet (whether the file goes on to complete it is
 * still to be seen).
 */
function firstTimeIn(buf: Buffer, end: number, final: boolean): { ts: string | null; used: number; partial?: boolean } {
  let s = 0;
  while (s < end) {
    const nl = buf.indexOf(NL, s);
    if (nl < 0 || nl >= end) {
      // A line longer than what is at hand still shows its timestamp at its start.
      if (end - s >= 64 && timestampPrefixLength(buf, s, end) > 0) return { ts: buf.toString('latin1', s, s + 19), used: s, partial: true };
      if (!final) return { ts: null, used: s };
      return { ts: timestampPrefixLength(buf, s, end) > 0 ? buf.toString('latin1', s, s + 19) : null, used: end };
    }
    if (timestampPrefixLength(buf, s, nl) > 0) return { ts: buf.toString('latin1', s, s + 19), used: nl + 1 };
    s = nl + 1;
  }
  return { ts: null, used: end };
}

/** A file of the set could not be read or decompressed; `path` says which. */
export class MainlogSourceError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(message);
    this.name = 'MainlogSourceError';
    this.path = path;
  }
}

/** An error that names the file (node's read errors, EISDIR for one, do not). */
function naming(path: string, err: unknown): Error {
  const e = err as Error;
  if (e.name === 'AbortError' || e instanceof MainlogSourceError) return e;
  return new MainlogSourceError(path, e.message.includes(path) ? e.message : `${path}: ${e.message}`);
}

/** Whether `path` is gzip and its first timestamp. Throws (naming the file) when unreadable. */
export async function probeMainlogSource(path: string, signal?: AbortSignal): Promise<MainlogSource> {
  try {
    return await probe(path, signal);
  } catch (err) {
    throw naming(path, err);
  }
}

async function probe(path: string, signal?: AbortSignal): Promise<MainlogSource> {
  const fh = await open(path, 'r');
  let gzip: boolean;
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    gzip = hasGzipMagic(head.subarray(0, bytesRead));
    if (!gzip) return { path, gzip, firstTime: await plainFirstTime(fh) };
  } finally {
    await fh.close();
  }
  // Decompress only as much as it takes to see the first timestamp.
  const lines = new LineBuffer(64 * 1024);
  let seen = 0;
  // The timestamp of a first line still being decompressed: it dates the file once the line
  // ends (or the file does, whole). A gzip cut inside that line is unreadable, as the counters
  // on a host find it (rotated-count.pl.ts, mainlog-count.c), not dated by half a line.
  let pending: string | null = null;
  for await (const chunk of gunzipChunks(path, signal !== undefined ? { signal } : {})) {
    if (pending !== null) {
      if (chunk.includes(NL)) return { path, gzip, firstTime: pending };
      continue;
    }
    lines.append(chunk);
    const r = firstTimeIn(lines.buf, lines.len, false);
    if (r.ts !== null && r.partial === true) {
      pending = r.ts;
      lines.drop(lines.len);
      continue;
    }
    if (r.ts !== null) return { path, gzip, firstTime: r.ts };
    seen += r.used;
    lines.drop(r.used);
    if (seen + lines.len > HEAD_LIMIT) return { path, gzip, firstTime: null };
  }
  if (pending !== null) return { path, gzip, firstTime: pending };
  return { path, gzip, firstTime: firstTimeIn(lines.buf, lines.len, true).ts, ...(seen + lines.len === 0 ? { empty: true } : {}) };
}

async function plainFirstTime(fh: FileHandle): Promise<string | null> {
  const size = (await fh.stat()).size;
  const want = Math.min(size, HEAD_LIMIT);
  const buf = Buffer.allocUnsafe(want);
  const { bytesRead } = await fh.read(buf, 0, want, 0);
  return firstTimeIn(buf, bytesRead, bytesRead === size).ts;
}

/** A growable byte buffer holding the not-yet-fed tail of a stream. */
class LineBuffer {
  buf: Buffer;
  len = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  append(chunk: Buffer): void {
    if (this.len + chunk.length > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + chunk.length));
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    chunk.copy(this.buf, this.len);
    this.len += chunk.length;
  }
  drop(n: number): void {
    if (n >= this.len) {
      this.len = 0;
      return;
    }
    this.buf.copy(this.buf, 0, n, this.len);
    this.len -= n;
  }
}

/**
 * Feeds complete lines to the scanner. Before the window has started it skips lines up to the
 * first timestamped line at or after `from`; from then on everything is fed.
 */
class WindowFeeder {
  readonly scanner: MainlogScanner;
  readonly from: string | null;
  started: boolean;
  /** Offset (in the concatenation) of the next byte handed to `push`. */
  offset = 0;
  /** Where the window started (null: not yet). */
  startOffset: number | null = null;
  /** Lines dated inside the window found before its first line (then read too). */
  outOfOrder = 0;
  readonly #chunk: number;
  readonly #lines: LineBuffer;

  constructor(scanner: MainlogScanner, from: string | null, chunkBytes: number) {
    this.scanner = scanner;
    this.from = from;
    this.started = from === null;
    if (this.started) this.startOffset = 0;
    this.#chunk = chunkBytes;
    this.#lines = new LineBuffer(chunkBytes);
  }

  push(chunk: Buffer): void {
    this.#lines.append(chunk);
    this.offset += chunk.length;
    if (this.#lines.len >= this.#chunk) this.flush(false);
  }

  /** Hand over complete lines; at the end of a file (`final`) the last line too. */
  flush(final: boolean): void {
    const { buf, len } = this.#lines;
    if (len === 0) return;
    const end = final ? len : buf.lastIndexOf(NL, len - 1) + 1;
    if (end <= 0) return;
    const base = this.offset - len;
    let s = 0;
    if (!this.started) {
      s = this.#windowStart(buf, end);
      // The skip trusts time order: lines of the window before its start are read as well
      // (the scanner leaves out those dated before it).
      const late = s > 0 ? this.#lateLines(buf, s) : 0;
      if (late > 0) {
        this.outOfOrder += late;
        this.scanner.feed(buf, 0, s);
      }
    }
    if (s < end) {
      if (!this.started) {
        this.started = true;
        this.startOffset = base + s;
      }
      this.scanner.feed(buf, s, end);
    }
    this.#lines.drop(end);
  }

  /** Lines of buf[0, end) dated inside the window. */
  #lateLines(buf: Buffer, end: number): number {
    const input = this.scanner.input(end);
    buf.copy(input, 0, 0, end);
    return this.scanner.countInWindowInput(0, end);
  }

  /** The first line in buf[0, end) that opens the window, or `end`. */
  #windowStart(buf: Buffer, end: number): number {
    const from = this.from!;
    // Timestamps only grow: when the last one here is before `from`, so is everything.
    let e = end;
    while (e > 0) {
      const lineEnd = buf[e - 1] === NL ? e - 1 : e;
      const nl = lineEnd === 0 ? -1 : buf.lastIndexOf(NL, lineEnd - 1);
      const s = nl + 1;
      if (timestampPrefixLength(buf, s, lineEnd) > 0) {
        if (buf.toString('latin1', s, s + 19) < from) return end;
        break;
      }
      e = s;
    }
    if (e === 0) return end;
    let s = 0;
    while (s < end) {
      let nl = buf.indexOf(NL, s);
      if (nl < 0 || nl >= end) nl = end;
      if (timestampPrefixLength(buf, s, nl) > 0 && buf.toString('latin1', s, s + 19) >= from) return s;
      s = nl + 1;
    }
    return end;
  }
}

/** Why the bytes after a gzip file's last member were not read (the counters on a host say the same). */
export function trailingGarbageReason(bytes: number): string {
  return `the ${bytes} bytes after its gzip data are no gzip data (trailing garbage, as from a copy appended to): not read`;
}

/** The newest timestamp of a file (a gzip file is decompressed once to find it). */
export async function newestTime(source: MainlogSource, signal?: AbortSignal): Promise<string | null> {
  try {
    return await readNewestTime(source, signal);
  } catch (err) {
    throw naming(source.path, err);
  }
}

async function readNewestTime(source: MainlogSource, signal?: AbortSignal): Promise<string | null> {
  if (!source.gzip) {
    const fh = await open(source.path, 'r');
    try {
      return await lastTimestamp(fh, (await fh.stat()).size);
    } finally {
      await fh.close();
    }
  }
  let last: string | null = null;
  const lines = new LineBuffer(256 * 1024);
  const scanTail = (end: number): void => {
    let e = end;
    while (e > 0) {
      const lineEnd = lines.buf[e - 1] === NL ? e - 1 : e;
      const nl = lineEnd === 0 ? -1 : lines.buf.lastIndexOf(NL, lineEnd - 1);
      const s = nl + 1;
      if (timestampPrefixLength(lines.buf, s, lineEnd) > 0) {
        last = lines.buf.toString('latin1', s, s + 19);
        return;
      }
      e = s;
    }
  };
  for await (const chunk of gunzipChunks(source.path, signal !== undefined ? { signal } : {})) {
    if (chunk.length === 0) continue;
    lines.append(chunk);
    const end = lines.buf.lastIndexOf(NL, lines.len - 1) + 1;
    if (end > 0) {
      scanTail(end);
      lines.drop(end);
    }
  }
  if (lines.len > 0) scanTail(lines.len);
  return last;
}

/** Stream one file into the feeder (the part before the window is skipped when possible). */
async function feedFile(source: MainlogSource, feeder: WindowFeeder, options: MainlogSourcesOptions, leftOut: MainlogScanResult['left_out']): Promise<void> {
  if (source.gzip) {
    const garbage = (bytes: number): void => void leftOut.push({ file: source.path, bytes, reason: trailingGarbageReason(bytes) });
    for await (const chunk of gunzipChunks(source.path, { ...(options.signal !== undefined ? { signal: options.signal } : {}), onTrailingGarbage: garbage })) feeder.push(chunk);
    feeder.flush(true);
    return;
  }
  const fh = await open(source.path, 'r');
  try {
    const size = (await fh.stat()).size;
    let pos = 0;
    if (!feeder.started && feeder.from !== null) {
      // Plain files can be entered by binary search instead of being read up to the window.
      pos = await offsetForTime(fh, feeder.from, size);
      // The search trusts time order; lines of the window before `pos` say it was wrong here.
      const late = pos > 0 ? countInWindowBefore(feeder.scanner, fh.fd, pos, options) : 0;
      if (late > 0) {
        feeder.outOfOrder += late;
        pos = 0;
      }
      feeder.offset += pos;
    }
    const buf = Buffer.allocUnsafe(Math.min(options.chunkBytes ?? 4 * 1024 * 1024, Math.max(1, size - pos)));
    while (pos < size) {
      options.signal?.throwIfAborted();
      const n = readSync(fh.fd, buf, 0, Math.min(buf.length, size - pos), pos);
      if (n === 0) break;
      pos += n;
      feeder.push(buf.subarray(0, n));
    }
    feeder.flush(true);
  } finally {
    await fh.close();
  }
}

async function sizeOf(path: string): Promise<number> {
  const fh = await open(path, 'r');
  try {
    return (await fh.stat()).size;
  } finally {
    await fh.close();
  }
}

/** Order by first timestamp; files without one first (they hold no line of any window). */
export function inTimeOrder(sources: MainlogSource[]): MainlogSource[] {
  return sources
    .map((s, i) => ({ s, i }))
    .sort((a, b) => {
      const x = a.s.firstTime;
      const y = b.s.firstTime;
      if (x === y) return a.i - b.i;
      if (x === null) return -1;
      if (y === null) return 1;
      return x < y ? -1 : 1;
    })
    .map((x) => x.s);
}

/**
 * The rule for a file placed before the window (by its first line offline, by rotation order on
 * a host): it is read when its newest line is at or after the window start. `newest` may be an
 * upper bound of that line (a host's rotations are judged by their last write, which is never
 * before their newest line), so a file is never taken to hold nothing when it may.
 */
export function holdsWindow(newest: string, from: string): boolean {
  return newest >= from;
}

/** Why a file placed before the window is left out when that cannot be told (offline and on hosts). */
export function untoldReason(error: string): string {
  return `it starts before the window and could not be read to tell whether it holds lines of it (${error})`;
}

/**
 * The file the window opens in, once the files placed before it by their first line are
 * checked: the order of a set is trusted only as far as it is seen. Rotations that overlap, or
 * a copy out of order, leave lines of the window in a file that starts earlier; its newest line
 * says so, and the window then opens in that file (the scanner leaves out the lines of the
 * files after it that are dated before the window). A file that cannot be read to tell is
 * `unknown`: not read, and said, never taken to hold nothing.
 */
async function firstHoldingWindow(sources: MainlogSource[], first: number, from: string, signal?: AbortSignal): Promise<{ first: number; unknown: { source: MainlogSource; error: string }[] }> {
  const unknown: { source: MainlogSource; error: string }[] = [];
  let earliest = first;
  for (let i = first - 1; i >= 0; i--) {
    const source = sources[i]!;
    if (source.firstTime === null) continue;
    try {
      const last = await newestTime(source, signal);
      if (last !== null && holdsWindow(last, from)) earliest = i;
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      const message = (err as Error).message;
      unknown.push({ source, error: message.startsWith(`${source.path}: `) ? message.slice(source.path.length + 2) : message });
    }
  }
  return { first: earliest, unknown };
}

/** Scan files already probed (see probeMainlogSource), as one log in time order. */
export async function scanProbedSources(given: MainlogSource[], options: MainlogSourcesOptions = {}): Promise<MainlogSourcesResult> {
  if (given.length === 0) throw new Error('no main log file to scan');
  const sources = inTimeOrder(given);
  const newest = sources[sources.length - 1]!;
  const since = options.since === undefined || options.since === null || options.since === '' ? null : options.since;
  let from: string | null = null;
  // Without any timestamp there is nothing to count back from. A newest file without one in
  // its head (a first line longer than the probe) may still end in timestamped lines.
  let noWindow = false;
  if (since !== null) {
    // The reference is needed for a window, or to learn whether a log without a timestamp in
    // its head has any at all; an absolute time otherwise saves reading the newest file twice.
    const needsReference = parseWindow(since) !== null || newest.firstTime === null;
    const reference = needsReference ? await newestTime(newest, options.signal) : null;
    if (reference === null && needsReference) {
      noWindow = true;
    } else {
      const r = resolveSince(since, reference);
      if (!r.ok) throw new Error(r.error);
      from = r.from;
    }
  }

  // Files wholly before the window are not read: the window opens in the last file that
  // starts before `from` (a file starting exactly at `from` may be preceded by lines of the
  // same second).
  let first = 0;
  if (from !== null) {
    for (let i = 0; i < sources.length; i++) {
      const t = sources[i]!.firstTime;
      if (t !== null && t < from) first = i;
    }
    while (first < sources.length - 1 && sources[first]!.firstTime === null) first++;
  }
  const checked = from !== null && !noWindow ? await firstHoldingWindow(sources, first, from, options.signal) : { first, unknown: [] };
  first = checked.first;
  const read = noWindow ? [newest] : sources.slice(first).filter((s) => !checked.unknown.some((u) => u.source === s));
  const leftOut: { file: string; bytes: number; reason: string }[] = [];
  const leaveOut = async (source: MainlogSource, reason: string): Promise<void> => {
    const bytes = await sizeOf(source.path);
    if (bytes > 0 && source.empty !== true) leftOut.push({ file: source.path, bytes, reason });
  };
  if (noWindow) {
    const reason = `no line with a timestamp found (first 4 MiB, and last ${LAST_TIME_LIMIT / (1024 * 1024)} MiB of the newest file) to count the window (${since}) back from`;
    for (const source of sources) await leaveOut(source, reason);
  } else {
    // A file without a timestamp in its first 4 MiB cannot be placed in time: not read, and said.
    for (const source of sources.slice(0, first)) if (source.firstTime === null) await leaveOut(source, 'no line with a timestamp in its first 4 MiB, so it cannot be placed in time');
    for (const u of checked.unknown) await leaveOut(u.source, untoldReason(u.error));
  }

  // One plain file (the usual case: the current log holds the window) goes to the file
  // scanner, which enters it by binary search.
  if (read.length === 1 && !read[0]!.gzip && !noWindow) {
    const r = await scanMainlogFile(read[0]!.path, options);
    return { ...r, left_out: [...leftOut, ...r.left_out], files: [read[0]!.path] };
  }

  const scanner = new MainlogScanner(options);
  if (from !== null) scanner.setWindow(from);
  const feeder = new WindowFeeder(scanner, noWindow ? '\uffff' : from, options.chunkBytes ?? 4 * 1024 * 1024);
  if (noWindow) {
    // A window needs a timestamp to count back from; without one nothing falls inside.
    const fh = await open(newest.path, 'r');
    try {
      feeder.offset = newest.gzip ? 0 : (await fh.stat()).size;
    } finally {
      await fh.close();
    }
  } else {
    for (const source of read) {
      try {
        await feedFile(source, feeder, options, leftOut);
      } catch (err) {
        throw naming(source.path, err);
      }
    }
  }
  const end = feeder.offset;
  return {
    ...scanner.result({ file: newest.path, since, from, startOffset: feeder.startOffset ?? end, endOffset: end, linesOutOfOrder: feeder.outOfOrder, leftOut }, options),
    files: read.map((s) => s.path),
  };
}

/**
 * Scan several main log files (plain or gzip, in any order) as one log. Throws, naming the
 * file, when one cannot be read or decompressed.
 */
export async function scanMainlogSources(paths: string[], options: MainlogSourcesOptions = {}): Promise<MainlogSourcesResult> {
  const sources: MainlogSource[] = [];
  for (const path of paths) sources.push(await probeMainlogSource(path, options.signal));
  return scanProbedSources(sources, options);
}
