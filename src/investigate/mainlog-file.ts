/**
 * Reads an Exim main log from disk for the one-pass scanner: streams fixed-size chunks (no
 * whole-file buffering), skips the part before `since` by binary search on the leading
 * timestamps, and splits large ranges over worker threads at a second boundary so that the
 * result is exactly what one sequential pass would give.
 */
import { existsSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  MainlogScanner,
  timestampPrefixLength,
  type MainlogScanResult,
  type PendingCwd,
  type ScanDump,
  type ScanLimits,
} from '../parsers/mainlog-scan.js';
import { resolveSince } from '../parsers/log-time.js';

export interface MainlogScanOptions extends ScanLimits {
  /** Only lines at or after this: a window (`24h`, counted back from the log's last line) or a time. */
  since?: string | null;
  /**
   * Threads for a large range (default: two when the machine has two or more CPUs, else one).
   * This thread reads the first part and workers the others; results are identical either way.
   */
  workers?: number;
  /** Read size per chunk (default 4 MiB). */
  chunkBytes?: number;
  signal?: AbortSignal;
  /** Called with a fraction 0..1 of bytes scanned (in-thread scanning only). */
  onProgress?: (fraction: number) => void;
  /** Ranges smaller than this are scanned in one piece (default 32 MiB). */
  splitThresholdBytes?: number;
}

/** Ranges below this size are not worth a worker thread. */
const WORKER_THRESHOLD = 32 * 1024 * 1024;
/**
 * About what this thread scans while a worker starts (~50 ms at ~1 GB/s): the first range is
 * made that much longer, at most a tenth of the whole, so that the threads finish together.
 */
const WORKER_HEAD_START = 48 * 1024 * 1024;
const PROBE = 16 * 1024;

/** The main log changed size while it was read: rotated or truncated under us. */
export class MainlogChangedError extends Error {
  constructor(read: number, expected: number) {
    super(`the main log ended after ${read} of the ${expected} bytes it had when the scan started (rotated or truncated meanwhile?); run the scan again`);
    this.name = 'MainlogChangedError';
  }
}

/**
 * Read complete lines of a byte range of an open file straight into the scanner's input area
 * (no copy) and hand each batch to `use(end)` (the lines are input[0, end)); `use` returns
 * true to stop early. `start` must be a line start; a line longer than the chunk grows it.
 */
function readLines(scanner: MainlogScanner, fd: number, start: number, end: number, options: MainlogScanOptions, use: (end: number) => boolean): void {
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

/** Scan one byte range of an open file into `scanner`; `start` must be a line start. */
export function scanRangeInto(scanner: MainlogScanner, fd: number, start: number, end: number, options: MainlogScanOptions = {}): void {
  readLines(scanner, fd, start, end, options, (last) => {
    scanner.feedInput(0, last);
    return false;
  });
}

/**
 * Give `pending` (the cwd= line left waiting at the end of the range before) to the range
 * [start, end) as one pass would: its lines are read only until the line is used or replaced.
 */
function carryPendingCwd(scanner: MainlogScanner, fd: number, pending: PendingCwd, start: number, end: number): 'used' | 'replaced' | 'open' {
  let outcome: 'used' | 'replaced' | 'open' = 'open';
  readLines(scanner, fd, start, end, {}, (last) => {
    outcome = scanner.resolvePendingInput(pending, 0, last);
    return outcome !== 'open';
  });
  return outcome;
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

/** The first line start at or after `target` (`end` when none). */
async function lineStartFrom(fh: FileHandle, target: number, end: number): Promise<number> {
  if (target <= 0) return 0;
  const buf = Buffer.allocUnsafe(PROBE);
  for (let pos = target - 1; pos < end; pos += PROBE) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(PROBE, end - pos), pos);
    if (bytesRead === 0) return end;
    const nl = buf.subarray(0, bytesRead).indexOf(0x0a);
    if (nl >= 0) return pos + nl + 1;
  }
  return end;
}

function workerUrl(): URL | null {
  const url = new URL('./mainlog-worker.js', import.meta.url);
  // Running from TypeScript sources (tests) there is no compiled worker: scan in this thread.
  return existsSync(fileURLToPath(url)) ? url : null;
}

interface WorkerJob {
  done: Promise<ScanDump>;
  /** Ends the worker; resolves once it has exited (it reads our descriptor until then). */
  stop: () => Promise<void>;
}

/** A worker reading [start, end) of the file already open as `fd` (threads share descriptors). */
function startWorker(url: URL, fd: number, start: number, end: number, from: string | null, options: MainlogScanOptions): WorkerJob {
  const { signal: _signal, onProgress: _p, ...plain } = options;
  const worker = new Worker(url, { workerData: { fd, start, end, from, options: plain } });
  const stop = async (): Promise<void> => {
    options.signal?.removeEventListener('abort', onAbort);
    await worker.terminate();
  };
  const onAbort = (): void => void stop();
  const done = new Promise<ScanDump>((resolve, reject) => {
    options.signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (dump: ScanDump) => {
      resolve(dump);
      void stop();
    });
    worker.once('error', (error) => {
      reject(error);
      void stop();
    });
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`main-log scan worker exited with code ${code}`));
    });
  });
  // Settled by whoever awaits it; never an unhandled rejection while this thread is busy.
  done.catch(() => undefined);
  return { done, stop };
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
    // One thread unless asked: on two cores a second one cost 7-9% more wall and CPU in the
    // command users run (bench/RESULTS.md, issue 13 in short), its merge being dearer than its share.
    const workers = Math.max(1, Math.min(options.workers ?? 1, 8));
    const ranges: [number, number][] = [];
    if (workers > 1 && end - start >= (options.splitThresholdBytes ?? WORKER_THRESHOLD)) {
      let s = start;
      for (let k = 1; k < workers; k++) {
        const share = Math.floor(((end - start) * k) / workers);
        const head = Math.min(WORKER_HEAD_START / workers, (end - start) / 10);
        const cut = await lineStartFrom(fh, start + Math.floor(share + head * (workers - k)), end);
        if (cut > s && cut < end) {
          ranges.push([s, cut]);
          s = cut;
        }
      }
      ranges.push([s, end]);
    } else {
      ranges.push([start, end]);
    }
    const url = ranges.length > 1 ? workerUrl() : null;
    if (url === null) {
      scanRangeInto(scanner, fh.fd, start, end, options);
    } else {
      // This thread reads the first range while workers read the others (on this descriptor,
      // so a rotation meanwhile cannot hand them another file). Their tables are then added in
      // range order, and a cwd= line left waiting at the end of a range is carried into the
      // next: exactly the result of one sequential pass.
      const jobs: WorkerJob[] = [];
      try {
        for (const [s, e] of ranges.slice(1)) jobs.push(startWorker(url, fh.fd, s, e, from, options));
        scanRangeInto(scanner, fh.fd, ranges[0]![0], ranges[0]![1], options);
        const dumps: ScanDump[] = [];
        for (const job of jobs) dumps.push(await job.done);
        scanner.absorbRanges(dumps, (i, pending) => carryPendingCwd(scanner, fh.fd, pending, ranges[i + 1]![0], ranges[i + 1]![1]));
      } finally {
        // Before the descriptor they read is closed.
        await Promise.all(jobs.map((job) => job.stop()));
      }
    }
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
