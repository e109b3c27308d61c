/**
 * Reads an Exim main log from disk for the one-pass scanner: streams fixed-size chunks (no
 * whole-file buffering) and skips the part before `since` by binary search on the leading
 * timestamps. One scanning thread: on two cores a second one cost 7-9% more wall and CPU in the
 * command users run (bench/RESULTS.md, issue 13), its merge being dearer than its share; only the
 * reads go ahead on the thread pool, and only when a core is free (readLinesAhead).
 */
import { readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { MainlogScanner, timestampPrefixLength, type MainlogScanResult, type ScanLimits } from '../parsers/mainlog-scan.js';
import { resolveSince } from '../parsers/log-time.js';

export interface MainlogScanOptions extends ScanLimits {
  /** Only lines at or after this: a window (`24h`, counted back from the log's last line) or a time. */
  since?: string | null;
  /** Read size per chunk (default 4 MiB). */
  chunkBytes?: number;
  signal?: AbortSignal;
  /** Read ahead on the thread pool (readLinesAhead); by default when a core is spare. */
  ahead?: boolean;
  /** Called with a fraction 0..1 of bytes scanned. */
  onProgress?: (fraction: number) => void;
}

const PROBE = 16 * 1024;

/** The main log changed size while it was read: rotated or truncated under us. */
export class MainlogChangedError extends Error {
  constructor(read: number, expected: number) {
    super(`the main log ended after ${read} of the ${expected} bytes it had when the scan started (rotated or truncated meanwhile?); run the scan again`);
    this.name = 'MainlogChangedError';
  }
}

/**
 * Read complete lines of a byte range of an open file straight into a kernel's input area
 * (no copy) and hand each batch to `use(end)` (the lines are input[0, end)); `use` returns
 * true to stop early. `start` must be a line start; a line longer than the chunk grows it.
 */
export function readLines(scanner: { input(size: number): Buffer }, fd: number, start: number, end: number, options: MainlogScanOptions, use: (end: number) => boolean): void {
  let size = options.chunkBytes ?? 4 * 1024 * 1024;
  let carry = 0;
  let pos = start;
  while (pos < end) {
    options.signal?.throwIfAborted();
    if (carry === size) size *= 2;
    const buf = scanner.input(size);
    // Synchronous reads: this loop is pure CPU work on page-cached data, and the async read's
    // thread-pool round trip left the scanner idle for a third of the time.
    const bytesRead = readSync(fd, buf, carry, Math.min(size - carry, end - pos), pos);
    if (bytesRead === 0) throw new MainlogChangedError(pos - start, end - start);
    pos += bytesRead;
    const filled = carry + bytesRead;
    // Complete lines only; the tail waits for the next read (or goes at the range end).
    const last = pos >= end ? filled : buf.lastIndexOf(0x0a, filled - 1) + 1;
    if (last > 0 && use(last)) return;
    carry = filled - last;
    if (carry > 0 && last > 0) scanner.input(size).copyWithin(0, last, filled);
    options.onProgress?.((pos - start) / Math.max(1, end - start));
  }
  if (carry > 0) use(carry);
}

/**
 * Whether this machine has a core to spare for a second thread of ours: two or more, and a
 * load average (this process included) below all of them but half of one. Work moved to
 * another thread costs a little more CPU in all (copies, a worker's start); it pays only where
 * it runs beside this thread, not where it queues behind other processes.
 */
export function spareCore(): boolean {
  const cores = availableParallelism();
  return cores >= 2 && loadavg()[0]! < cores - 0.5;
}

/**
 * readLines for the long reads (a whole log, once per pass): with a core to spare
 * (spareCore), the next chunk is read by the thread pool into a spare buffer while the kernel
 * works on this one, then copied into its input area. The copy costs about a quarter of a
 * read; the read it hides is the rest. A kernel's memory may grow (and move) while it works, so
 * reads never target it. Without one, readLines: the copy would be all that is left.
 */
export async function readLinesAhead(scanner: { input(size: number): Buffer }, fh: FileHandle, start: number, end: number, options: MainlogScanOptions, use: (end: number) => boolean): Promise<void> {
  if (!(options.ahead ?? spareCore())) {
    readLines(scanner, fh.fd, start, end, options, use);
    return;
  }
  const chunk = options.chunkBytes ?? 4 * 1024 * 1024;
  const spare = [Buffer.allocUnsafe(Math.min(chunk, Math.max(1, end - start))), Buffer.allocUnsafe(Math.min(chunk, Math.max(1, end - start)))];
  let next = 0;
  let pos = start;
  const readNext = (): Promise<{ bytesRead: number; buffer: Buffer }> | null => {
    if (pos >= end) return null;
    const buf = spare[next]!;
    next ^= 1;
    const want = Math.min(buf.length, end - pos);
    const at = pos;
    pos += want;
    return fh.read(buf, 0, want, at).then(({ bytesRead }) => {
      if (bytesRead < want) throw new MainlogChangedError(at + bytesRead - start, end - start);
      return { bytesRead, buffer: buf };
    });
  };
  let pending = readNext();
  let carry = 0;
  let done = 0;
  while (pending !== null) {
    const { bytesRead, buffer } = await pending;
    options.signal?.throwIfAborted();
    pending = readNext();
    try {
      const filled = carry + bytesRead;
      const input = scanner.input(filled);
      buffer.copy(input, carry, 0, bytesRead);
      done += bytesRead;
      // Complete lines only; the tail waits for the next read (or goes at the range end).
      const last = pending === null ? filled : input.lastIndexOf(0x0a, filled - 1) + 1;
      if (last > 0 && use(last)) {
        // Stopped early: the read in flight is let finish, its bytes unused.
        await pending?.catch(() => undefined);
        return;
      }
      carry = filled - last;
      if (carry > 0 && last > 0) scanner.input(filled).copyWithin(0, last, filled);
      options.onProgress?.(done / Math.max(1, end - start));
    } catch (err) {
      // The read in flight is abandoned: its failure (the file shrank meanwhile) must not go
      // unhandled, which would end the process.
      pending?.catch(() => undefined);
      throw err;
    }
  }
  if (carry > 0) use(carry);
}

interface LineAt {
  lineStart: number;
  ts: string;
}

/** The first line starting at or after `offset` that begins with a timestamp. */
async function firstTimestampedLine(fh: FileHandle, offset: number, end: number): Promise<LineAt | null> {
  let pos = offset === 0 ? 0 : offset - 1;
  let atLineStart = offset === 0;
  const buf = Buffer.allocUnsafe(PROBE);
  let scanned = 0;
  while (pos < end && scanned < 4 * 1024 * 1024) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(PROBE, end - pos), pos);
    if (bytesRead === 0) return null;
    let i = 0;
    if (!atLineStart) {
      const nl = buf.indexOf(0x0a, 0);
      if (nl < 0 || nl >= bytesRead) {
        pos += bytesRead;
        scanned += bytesRead;
        continue;
      }
      i = nl + 1;
      atLineStart = true;
    }
    while (i < bytesRead) {
      const nl = buf.indexOf(0x0a, i);
      const lineEnd = nl < 0 || nl >= bytesRead ? -1 : nl;
      if (lineEnd < 0 && bytesRead === PROBE && i > 0) break; // re-read this line from its start
      const e = lineEnd < 0 ? bytesRead : lineEnd;
      if (timestampPrefixLength(buf, i, e) > 0) return { lineStart: pos + i, ts: buf.toString('latin1', i, i + 19) };
      if (lineEnd < 0) {
        // The rest of a long line without a timestamp: the next read starts mid-line.
        i = bytesRead;
        atLineStart = false;
        break;
      }
      i = lineEnd + 1;
    }
    pos += i;
    scanned += i;
  }
  return null;
}

/** Smallest line start whose timestamp is >= `from` (binary search; `end` when none). */
export async function offsetForTime(fh: FileHandle, from: string, end: number): Promise<number> {
  let lo = 0;
  let hi = end;
  let best = end;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const r = await firstTimestampedLine(fh, mid, end);
    if (r === null || r.ts >= from) {
      if (r !== null) best = Math.min(best, r.lineStart);
      hi = mid;
    } else {
      lo = r.lineStart + 1;
    }
  }
  return best;
}

/** How far back from the end the last timestamp is looked for. */
export const LAST_TIME_LIMIT = 16 * 1024 * 1024;

/** Why a log was not read when no timestamp was found to count `since` back from. */
export function noReferenceReason(since: string): string {
  return `no line with a timestamp in its last ${LAST_TIME_LIMIT / (1024 * 1024)} MiB to count the window (${since}) back from`;
}

/** The last timestamp in the file (the reference for `since` windows). */
export async function lastTimestamp(fh: FileHandle, end: number): Promise<string | null> {
  let window = 64 * 1024;
  while (true) {
    const start = Math.max(0, end - window);
    const buf = Buffer.allocUnsafe(end - start);
    const { bytesRead } = await fh.read(buf, 0, end - start, start);
    let e = bytesRead;
    while (e > 0) {
      const nl = buf.lastIndexOf(0x0a, e - 1);
      const s = nl + 1;
      if ((s > 0 || start === 0) && timestampPrefixLength(buf, s, e) > 0) return buf.toString('latin1', s, s + 19);
      if (nl < 0) break;
      e = nl;
    }
    if (start === 0 || window >= LAST_TIME_LIMIT) return null;
    window *= 4;
  }
}

/** Scan a main log file. See MainlogScanResult for what comes back. */
export async function scanMainlogFile(path: string, options: MainlogScanOptions = {}): Promise<MainlogScanResult> {
  const fh = await open(path, 'r');
  try {
    const end = (await fh.stat()).size;
    let start = 0;
    let from: string | null = null;
    let linesOutOfOrder = 0;
    const leftOut: { file: string; bytes: number; reason: string }[] = [];
    const scanner = new MainlogScanner(options);
    if (options.since !== undefined && options.since !== null && options.since !== '') {
      const reference = await lastTimestamp(fh, end);
      if (reference === null) {
        // Nothing to count a window back from: said, not passed off as an empty window.
        start = end;
        if (end > 0) leftOut.push({ file: path, bytes: end, reason: noReferenceReason(options.since) });
      } else {
        const r = resolveSince(options.since, reference);
        if (!r.ok) throw new Error(r.error);
        from = r.from;
        scanner.setWindow(from);
        start = await offsetForTime(fh, from, end);
        // The search trusts time order; a line of the window before `start` says it was wrong
        // here, and then the whole file is read (lines before the window are left out by date).
        if (start > 0) {
          linesOutOfOrder = countInWindowBefore(scanner, fh.fd, start, options);
          if (linesOutOfOrder > 0) start = 0;
        }
      }
    }
    await readLinesAhead(scanner, fh, start, end, options, (last) => {
      scanner.feedInput(0, last);
      return false;
    });
    return scanner.result({ file: path, since: options.since ?? null, from, startOffset: start, endOffset: end, linesOutOfOrder, leftOut }, options);
  } finally {
    await fh.close();
  }
}

/** Lines in [0, end) of the file dated inside the scanner's window (see setWindow). */
export function countInWindowBefore(scanner: MainlogScanner, fd: number, end: number, options: MainlogScanOptions): number {
  let n = 0;
  const { onProgress: _p, ...quiet } = options;
  readLines(scanner, fd, 0, end, quiet, (last) => {
    n += scanner.countInWindowInput(0, last);
    return false;
  });
  return n;
}
