/**
 * Detection over SSH without copying logs: a perl script runs on the target (which has perl
 * but no Node), does the selective part of the work there, and sends back only what the scanner
 * needs. The result is produced by the same scanner code as a local scan, so it is identical.
 */
import { gunzipSync } from 'node:zlib';
import { resolveSince } from '../parsers/log-time.js';
import { MainlogScanner, type MainlogScanResult, type ScanLimits } from '../parsers/mainlog-scan.js';
import type { SpoolScanOptions, SpoolScanResult } from '../investigate/spool.js';
import type { Transport } from '../transport/types.js';
import { noReferenceReason } from '../investigate/mainlog-file.js';
import { MAINLOG_FILTER_PERL, MAINLOG_INFO_PERL } from './mainlog-filter.pl.js';
import { SPOOL_FILTER_PERL } from './spool-filter.pl.js';
import { readSpoolFilterOutput, type SpoolFilterStats } from './spool-records.js';

export interface RemoteTransfer {
  /** Bytes of command output received (compressed), over all calls. */
  bytesReceived: number;
  /** Bytes of script sent on stdin. */
  bytesSent: number;
  /** Size of the log window scanned on the host. */
  bytesScanned: number;
  /** Uncompressed size of the selected lines. */
  bytesSelected: number;
}

export interface RemoteMainlogScanOptions extends ScanLimits {
  since?: string | null;
  timeoutMs?: number;
  signal?: AbortSignal;
  onTransfer?: (transfer: RemoteTransfer) => void;
}

export class RemoteScanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RemoteScanError';
  }
}

async function perl(
  transport: Transport,
  script: string,
  args: string[],
  options: RemoteMainlogScanOptions,
): Promise<{ stdout: Buffer; stderr: string; sent: number }> {
  const chunks: Buffer[] = [];
  const r = await transport.exec(['perl', '-', ...args], {
    stdin: script,
    maxOutputBytes: 64 * 1024,
    onStdout: (c) => chunks.push(c),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  if (r.exitCode !== 0) {
    throw new RemoteScanError(
      `remote scan on ${transport.host} failed (${r.timedOut ? 'timed out' : `exit ${r.exitCode}`}): ${r.stderr.trim()}`,
    );
  }
  return { stdout: Buffer.concat(chunks), stderr: r.stderr, sent: Buffer.byteLength(script) };
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
  /** Bytes received and sent for the question. */
  received: number;
  sent: number;
}

export async function remoteMainlogInfo(transport: Transport, path: string, options: RemoteMainlogScanOptions = {}): Promise<RemoteMainlogInfo> {
  const info = await perl(transport, MAINLOG_INFO_PERL, [path], options);
  const [sizeText, last = '', first = '', ...names] = info.stdout.toString('latin1').split('\n');
  const end = Number(sizeText);
  if (!Number.isSafeInteger(end)) throw new RemoteScanError(`remote scan on ${transport.host}: unexpected answer ${JSON.stringify(sizeText)}`);
  return { end, last, first, names: names.filter((n) => n !== ''), received: info.stdout.length, sent: info.sent };
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

  const filtered = await perl(transport, MAINLOG_FILTER_PERL, [path, String(end), fromArg], options);
  transfer.bytesReceived += filtered.stdout.length;
  transfer.bytesSent += filtered.sent;
  const nl = filtered.stdout.indexOf(0x0a);
  const start = Number(filtered.stdout.subarray(0, nl).toString('latin1'));
  if (nl < 0 || !Number.isSafeInteger(start)) throw new RemoteScanError(`remote scan on ${transport.host}: malformed output`);
  const lines = gunzipSync(filtered.stdout.subarray(nl + 1));
  transfer.bytesScanned = Math.max(0, end - start);
  transfer.bytesSelected = lines.length;

  const count = (name: string): number => Number(new RegExp(`^${name}\t(\\d+)$`, 'm').exec(filtered.stderr)?.[1] ?? 0);
  const scanner = new MainlogScanner(options);
  if (from !== null) scanner.setWindow(from);
  if (lines.length > 0) scanner.feed(lines, 0, lines.length);
  options.onTransfer?.(transfer);
  const leftOut = fromArg === '-' && end > 0 ? [{ file: path, bytes: end, reason: noReferenceReason(options.since!) }] : [];
  return scanner.result({
    file: path, since: options.since ?? null, from, startOffset: start, endOffset: end,
    linesOutOfOrder: count('late'), linesBeforeWindow: count('before'), leftOut,
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
