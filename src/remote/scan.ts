/**
 * Detection over SSH without copying logs: a counter runs on the target (which has perl but no
 * Node), counts there, and sends back the scanner's count tables or, for the spool, the few
 * headers the summary reads. The main log is counted by the native counter uploaded for the run
 * (native-count.ts) where it can run, else by perl (mainlog-count.pl.ts); a window reaching into
 * rotated files the same way (rotated-scan.ts, rotated-count.pl.ts). The result is made by the same finishScan
 * as a local scan, and is proven identical to it.
 */
import { gunzipSync } from 'node:zlib';
import { resolveSince } from '../parsers/log-time.js';
import { finishScan, type MainlogScanResult, type ScanLimits } from '../parsers/mainlog-scan.js';
import type { SpoolScanOptions, SpoolScanResult } from '../investigate/spool.js';
import type { Transport } from '../transport/types.js';
import { noReferenceReason } from '../investigate/mainlog-file.js';
import type { WriteTime } from '../investigate/log-zone.js';
import type { LastWrite } from '../investigate/rotated-logs.js';
import { countLimits, readCountTables, type CountedWindow } from './count-tables.js';
import { MAINLOG_COUNT_PERL } from './mainlog-count.pl.js';
import { MAINLOG_INFO_PERL } from './mainlog-info.pl.js';
import { nativeCounter, runNativeCounter, type NativeCounterUse } from './native-count.js';
import { SPOOL_FILTER_PERL } from './spool-filter.pl.js';
import { readSpoolFilterOutput, type SpoolFilterStats } from './spool-records.js';

export interface RemoteTransfer {
  /** Bytes of command output received (compressed), over all calls. */
  bytesReceived: number;
  /** Bytes of script sent on stdin. */
  bytesSent: number;
  /** Size of the log window scanned on the host. */
  bytesScanned: number;
  /** Uncompressed size of what the host selected: count tables for the main log, lines for a rotated set. */
  bytesSelected: number;
}

export interface RemoteMainlogScanOptions extends ScanLimits {
  since?: string | null;
  timeoutMs?: number;
  signal?: AbortSignal;
  onTransfer?: (transfer: RemoteTransfer) => void;
  /**
   * What counts the main log on the host: 'auto' (default) the native counter uploaded for the
   * run (native-count.ts) where it is built and can run there, else perl; 'perl' only perl;
   * 'native' the native counter or an error.
   */
  counter?: 'auto' | 'perl' | 'native';
  /** Told which counter counted, and what was uploaded, for the audit log. */
  onCounter?: (report: CounterReport) => void;
}

export interface CounterReport {
  counter: 'native' | 'perl';
  /** The native counter's upload, when one was tried. */
  native?: NativeCounterUse;
  /** Why perl counted after the native counter was tried. */
  fallback?: string;
}

export class RemoteScanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RemoteScanError';
  }
}

/** Runs `script` by perl on the host; an exit status `answers` does not accept (default: 0 only), or a timeout, is an error. */
async function perl(
  transport: Transport,
  script: string,
  args: string[],
  options: RemoteMainlogScanOptions,
  answers: (exitCode: number, stderr: string) => boolean = (c) => c === 0,
): Promise<HostCount> {
  const chunks: Buffer[] = [];
  const r = await transport.exec(['perl', '-', ...args], {
    stdin: script,
    maxOutputBytes: 64 * 1024,
    onStdout: (c) => chunks.push(c),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  const exitCode = r.exitCode ?? -1;
  if (r.timedOut || !answers(exitCode, r.stderr)) {
    throw new RemoteScanError(`remote scan on ${transport.host} failed (${r.timedOut ? 'timed out' : `exit ${r.exitCode}`}): ${r.stderr.trim()}`);
  }
  return { exitCode, stdout: Buffer.concat(chunks), stderr: r.stderr, sent: Buffer.byteLength(script) };
}

/** What a count on the host answered. */
export interface HostCount {
  exitCode: number;
  stdout: Buffer;
  stderr: string;
  /** Bytes sent: the script or the upload. */
  sent: number;
}

/** How to count one thing on the host: by perl (script and arguments) or by the native counter. */
export interface HostCountJob {
  script: string;
  perlArgs: string[];
  nativeArgs: string[];
  /** Exit statuses that are the count's own answer (0 by default). */
  answers?: (exitCode: number, stderr: string) => boolean;
}

/**
 * A count on the host (the count tables, gzip, as mainlog-count.pl.ts writes them) by the
 * native counter where it runs, else by perl: the same output either way (proven by
 * test/remote/native-count.test.ts and test/remote/native-rotated.test.ts), read by one reader.
 */
export async function countOnHost(transport: Transport, job: HostCountJob, options: RemoteMainlogScanOptions): Promise<HostCount> {
  const choice = options.counter ?? 'auto';
  const native = choice === 'perl' ? null : nativeCounter();
  if (choice === 'native' && native === null) throw new RemoteScanError('the native main-log counter is not built (npm run build with wasm2c and gcc)');
  if (native === null) {
    options.onCounter?.({ counter: 'perl' });
    return perl(transport, job.script, job.perlArgs, options, job.answers);
  }
  const run = await runNativeCounter(transport, native, job.nativeArgs, options);
  const exitCode = run.result.exitCode ?? -1;
  if (run.unavailable === null && !run.result.timedOut && !run.result.aborted && (job.answers ?? ((c) => c === 0))(exitCode, run.result.stderr)) {
    options.onCounter?.({ counter: 'native', native: run.use });
    return { exitCode, stdout: run.stdout, stderr: run.result.stderr, sent: native.upload.length };
  }
  // Perl would take longer still, and an interrupted run is not to be repeated.
  if (run.result.timedOut || run.result.aborted) {
    throw new RemoteScanError(`remote scan on ${transport.host} ${run.result.timedOut ? 'timed out' : 'was interrupted'}`);
  }
  const stderr = run.result.stderr.split('\n').filter((l) => l !== '' && !/^(written|native|removed|noexec|unavailable)\t/.test(l));
  const why = run.unavailable ?? `the native counter failed (exit ${run.result.exitCode}${stderr.length > 0 ? `: ${stderr.at(-1)!.slice(0, 200)}` : ''})`;
  if (choice === 'native') throw new RemoteScanError(`remote scan on ${transport.host}: ${why}`);
  options.onCounter?.({ counter: 'perl', native: run.use, fallback: why });
  const counted = await perl(transport, job.script, job.perlArgs, options, job.answers);
  return { ...counted, sent: counted.sent + native.upload.length };
}

/** What MAINLOG_INFO_PERL reports about the main log on the host. */
export interface RemoteMainlogInfo {
  /** Size when asked: the scan reads up to here. */
  end: number;
  /** Last and first timestamps ('' when none). */
  last: string;
  first: string;
  /** Names in the log's directory starting with its name (rotation candidates). */
  names: string[];
  /** Their last writes, with the system's offset then and a timestamp each holds (see reachByLastWrite). */
  lastWrites: Map<string, LastWrite>;
  /** The log's own last write: the zone Exim stamps in is told from it and `last` (log-zone.ts). */
  lastWrite: WriteTime | null;
  /** Bytes received and sent for the question. */
  received: number;
  sent: number;
}

export async function remoteMainlogInfo(transport: Transport, path: string, options: RemoteMainlogScanOptions = {}): Promise<RemoteMainlogInfo> {
  const info = await perl(transport, MAINLOG_INFO_PERL, [path], options);
  const [sizeText, last = '', first = '', own = '', ...entries] = info.stdout.toString('latin1').split('\n');
  const end = Number(sizeText);
  if (!Number.isSafeInteger(end)) throw new RemoteScanError(`remote scan on ${transport.host}: unexpected answer ${JSON.stringify(sizeText)}`);
  const [ownTime = '', ownOffset = ''] = own.split('\t');
  const lastWrite = ownTime === '' ? null : { mtime: Number(ownTime), systemOffset: Number(ownOffset) };
  const names: string[] = [];
  const lastWrites = new Map<string, LastWrite>();
  for (const entry of entries) {
    const [name = '', time = '', size = '', error = '', offset = '', line = ''] = entry.split('\t');
    if (name === '') continue;
    names.push(name);
    lastWrites.set(name, time === '' ? { error: error === '' ? 'cannot be looked at' : error } : { mtime: Number(time), systemOffset: Number(offset), size: Number(size), ...(line !== '' ? { line } : {}) });
  }
  return { end, last, first, lastWrite, names, lastWrites, received: info.stdout.length, sent: info.sent };
}

/**
 * Same result as `scanMainlogFile(path, options)` run on the host itself. `known` saves the
 * first round trip when the caller has already asked remoteMainlogInfo.
 */
export async function scanMainlogRemote(
  transport: Transport,
  path: string,
  options: RemoteMainlogScanOptions = {},
  known?: RemoteMainlogInfo,
): Promise<MainlogScanResult> {
  const transfer: RemoteTransfer = { bytesReceived: 0, bytesSent: 0, bytesScanned: 0, bytesSelected: 0 };
  const info = known ?? (await remoteMainlogInfo(transport, path, options));
  transfer.bytesReceived += info.received;
  transfer.bytesSent += info.sent;
  const { end, last } = info;

  let from: string | null = null;
  let fromArg = '';
  if (options.since !== undefined && options.since !== null && options.since !== '') {
    if (!last) {
      fromArg = '-';
    } else {
      const r = resolveSince(options.since, last);
      if (!r.ok) throw new Error(r.error);
      from = r.from;
      fromArg = r.from;
    }
  }

  const args = [path, String(end), fromArg, countLimits(options)];
  const counted = await countOnHost(transport, { script: MAINLOG_COUNT_PERL, perlArgs: args, nativeArgs: args }, options);
  transfer.bytesReceived += counted.stdout.length;
  transfer.bytesSent += counted.sent;
  let tables: CountedWindow;
  try {
    const text = gunzipSync(counted.stdout).toString('latin1');
    transfer.bytesSelected = text.length;
    tables = readCountTables(text);
  } catch (err) {
    throw new RemoteScanError(`remote scan on ${transport.host}: malformed output (${(err as Error).message})`);
  }
  transfer.bytesScanned = Math.max(0, end - tables.start);
  options.onTransfer?.(transfer);
  const leftOut = fromArg === '-' && end > 0 ? [{ file: path, bytes: end, reason: noReferenceReason(options.since!) }] : [];
  return finishScan(tables.partial, {
    file: path, since: options.since ?? null, from, startOffset: tables.start, endOffset: end, linesOutOfOrder: tables.late, leftOut,
  }, options);
}

export interface RemoteSpoolScanOptions extends SpoolScanOptions {
  timeoutMs?: number;
  /** bytesScanned: -H bytes read on the host; bytesSelected: their compact copies, uncompressed. */
  onTransfer?: (transfer: RemoteTransfer & { files: number; verbatim: number }) => void;
}

/**
 * Same result as `scanSpoolDir(spoolDir, options)` run on the host itself. Perl lists and
 * reads the -H files there (one pass, so `concurrency` does not apply) and sends back only
 * the envelope and the few headers the summary reads; see spool-filter.pl.ts.
 */
export async function scanSpoolRemote(
  transport: Transport,
  spoolDir: string,
  options: RemoteSpoolScanOptions = {},
): Promise<SpoolScanResult> {
  const max = options.maxMessages ?? 200_000;
  const maxHeaderBytes = options.maxHeaderBytes ?? 64 * 1024;
  const out = await perl(transport, SPOOL_FILTER_PERL, [spoolDir, String(max), String(maxHeaderBytes)], {
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  let read: { result: SpoolScanResult; stats: SpoolFilterStats };
  try {
    read = readSpoolFilterOutput(out.stdout, spoolDir, { maxMessages: max, ...(options.limit !== undefined ? { limit: options.limit } : {}) });
  } catch (err) {
    throw new RemoteScanError(`remote spool scan on ${transport.host}: ${(err as Error).message}`);
  }
  options.onTransfer?.({
    bytesReceived: out.stdout.length,
    bytesSent: out.sent,
    bytesScanned: read.stats.bytesRead,
    bytesSelected: read.stats.bytesSelected,
    files: read.stats.files,
    verbatim: read.stats.verbatim,
  });
  return read.result;
}
