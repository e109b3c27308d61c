/**
 * The main log over SSH with its rotated predecessors: the same result as
 * scanMainlogWithRotation (src/investigate/rotated-logs.ts) run on the host. The counter on the
 * host (the native one uploaded for the run where it runs, else perl: rotated-count.pl.ts)
 * picks the rotations the window needs, decompresses gzip ones there and counts them as one
 * log; only the count tables come back.
 */
import { posix } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { inferLogZone } from '../investigate/log-zone.js';
import { reachByLastWrite, rotatedNames, untoldRotations, zoneNotes, type LastWrite, type RotatedScanResult, type UnreadableLog } from '../investigate/rotated-logs.js';
import { noReferenceReason } from '../investigate/mainlog-file.js';
import { trailingGarbageReason } from '../investigate/mainlog-sources.js';
import { parseWindow, resolveSince } from '../parsers/log-time.js';
import { finishScan } from '../parsers/mainlog-scan.js';
import type { Transport } from '../transport/types.js';
import { countLimits, readCountTables, type CountedWindow } from './count-tables.js';
import { ROTATED_COUNT_PERL } from './rotated-count.pl.js';
import { countOnHost, RemoteScanError, remoteMainlogInfo, scanMainlogRemote, type HostCount, type RemoteMainlogScanOptions } from './scan.js';

interface PerlRun {
  exitCode: number;
  stdout: Buffer;
  stderr: string;
}

/** The `newest` question, perl only: asked only of a log just rotated (nothing to count yet). */
async function run(transport: Transport, args: string[], options: RemoteMainlogScanOptions): Promise<PerlRun> {
  const chunks: Buffer[] = [];
  const r = await transport.exec(['perl', '-', ...args], {
    stdin: ROTATED_COUNT_PERL,
    maxOutputBytes: 64 * 1024,
    onStdout: (c) => chunks.push(c),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  if (r.timedOut) throw new RemoteScanError(`remote scan on ${transport.host} timed out`);
  return { exitCode: r.exitCode ?? -1, stdout: Buffer.concat(chunks), stderr: r.stderr };
}

function ok(transport: Transport, r: PerlRun): PerlRun {
  if (r.exitCode !== 0) throw new RemoteScanError(`remote scan on ${transport.host} failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
  return r;
}

/** A rotation that fails part-way: exit 5 with `failed\tPATH\tERROR` (both counters). */
const FAILED = /^failed\t([^\t\n]*)\t([^\n]*)$/m;

/**
 * The files of a count that the host's reading reads, and the uncompressed bytes before them.
 * The counters read every rotation they were given (some only because their last write may
 * be in the window); the host reads from the last one starting before the window, or the
 * earlier one in which the window opens (scanProbedSources): the ones before that are dropped
 * here, with their bytes from the offsets. `file\tEND\tFIRST\tGARBAGE` lines (stderr) say
 * where each file read ends, until the window opened its first timestamp, and the bytes after
 * its gzip data that are no gzip data (left out, as the host's reading leaves them out).
 */
export function windowFiles(files: string[], stderr: string, start: number, from: string | null): { files: string[]; skipped: number; garbage: { file: string; bytes: number }[] } {
  const ends: { end: number; first: string; garbage: number }[] = [];
  for (const m of stderr.matchAll(/^file\t(\d+)\t([^\t\n]*)\t(\d+)$/gm)) ends.push({ end: Number(m[1]), first: m[2]!, garbage: Number(m[3]) });
  const garbageFrom = (cut: number): { file: string; bytes: number }[] =>
    ends.length !== files.length ? [] : ends.flatMap((e, i) => (i >= cut && e.garbage > 0 ? [{ file: files[i]!, bytes: e.garbage }] : []));
  if (from === null || ends.length !== files.length || ends.length === 0 || start >= ends[ends.length - 1]!.end) return { files, skipped: 0, garbage: garbageFrom(0) };
  // The file the window opens in, or the last one up to it that starts before the window.
  const opens = ends.findIndex((e) => e.end > start);
  let cut = opens;
  for (let i = 0; i <= opens; i++) if (ends[i]!.first !== '' && ends[i]!.first < from) cut = i;
  return { files: files.slice(cut), skipped: cut === 0 ? 0 : ends[cut - 1]!.end, garbage: garbageFrom(cut) };
}

/** Same result as `scanMainlogWithRotation(path, options)` run on the host itself. */
export async function scanMainlogRemoteRotated(transport: Transport, path: string, options: RemoteMainlogScanOptions = {}): Promise<RotatedScanResult> {
  const since = options.since === undefined || options.since === null || options.since === '' ? null : options.since;
  if (since === null) return { ...(await scanMainlogRemote(transport, path, options)), files: [path] };

  // The same first question as the plain remote scan, so the usual case costs no extra round trip.
  const info = await remoteMainlogInfo(transport, path, options);
  const plain = async (): Promise<RotatedScanResult> => ({ ...(await scanMainlogRemote(transport, path, options, info)), files: [path] });
  const { last, first } = info;
  const isWindow = parseWindow(since) !== null;
  let from: string | null = null;
  if (first !== '') {
    const r = resolveSince(since, isWindow ? (last === '' ? null : last) : null);
    if (!r.ok) throw new Error(r.error);
    from = r.from;
  } else if (!isWindow) {
    const r = resolveSince(since, null);
    if (!r.ok) throw new Error(r.error);
    from = r.from;
  }

  const dir = posix.dirname(path);
  let predecessors = rotatedNames(posix.basename(path), info.names).map((n) => posix.join(dir, n));
  const lastWrites = new Map<string, LastWrite>(predecessors.map((p) => [p, info.lastWrites.get(posix.basename(p)) ?? { error: 'not listed' }]));
  // By time order the window lies inside the current log: the rotations are read only when
  // their last write says they may hold lines of it (the rule of rotated-logs.ts).
  const inCurrent = from !== null && first !== '' && first < from;
  const zone = inferLogZone(info.lastWrite, last === '' ? null : last);
  const ordered = predecessors.map((p) => lastWrites.get(p)!);
  const reach = from === null ? 0 : reachByLastWrite(ordered, from, zone);
  const notes = from !== null && inCurrent ? zoneNotes(ordered, from, zone) : [];
  if (inCurrent && reach === 0) return plain();
  // Nor any past them: the counters walk on until a rotation starts before the window, which
  // the current log already does (as the host's reading stops there).
  if (inCurrent) predecessors = predecessors.slice(0, reach);
  if (from === null) {
    // The current log was just rotated and holds no line yet: count back from the newest one.
    const newest = ok(transport, await run(transport, ['newest', ...predecessors], options)).stdout.toString('latin1').trim();
    const tab = newest.lastIndexOf('\t');
    if (tab < 0) return plain();
    const r = resolveSince(since, newest.slice(tab + 1));
    if (!r.ok) throw new Error(r.error);
    from = r.from;
  }

  // Nothing rotated to reach into: the window is the whole current log, which the ordinary
  // remote scan counts (with the native counter where it runs) as the host would, also when
  // it has no timestamp to place the window by.
  if (predecessors.length === 0) return plain();

  const unreadable: UnreadableLog[] = [];
  const noteUnreadable = (file: string, error: string): void => {
    if (!unreadable.some((u) => u.file === file)) unreadable.push({ file, error });
  };
  let counter = options.counter;
  while (true) {
    const args = [from, countLimits(options), String(reach), path, ...predecessors];
    const r: HostCount = await countOnHost(transport, {
      script: ROTATED_COUNT_PERL,
      perlArgs: ['scan', ...args],
      nativeArgs: ['--rotated', ...args],
      answers: (code, stderr) => code === 0 || (code === 5 && FAILED.test(stderr)),
    }, {
      ...options,
      ...(counter !== undefined ? { counter } : {}),
      onCounter: (c) => {
        // Once the native counter could not run here, the next try goes straight to perl.
        if (c.fallback !== undefined) counter = 'perl';
        options.onCounter?.(c);
      },
    });
    const blank = r.stdout.indexOf('\n\n');
    const headerEnd = r.stdout[0] === 0x0a ? 0 : blank < 0 ? -1 : blank + 1;
    const files: string[] = [];
    // The header comes before any file is streamed, so it is there even when one fails.
    for (const line of r.stdout.subarray(0, Math.max(0, headerEnd)).toString('latin1').split('\n')) {
      const [kind, file, error] = line.split('\t');
      if (kind === 'read' && file !== undefined) files.push(file);
      else if (kind === 'unreadable' && file !== undefined) noteUnreadable(file, error ?? '');
    }
    const failed = FAILED.exec(r.stderr);
    if (r.exitCode === 5 && failed !== null && failed[1] !== path) {
      // A rotation that breaks part-way is left out with everything older, as on the host.
      const at = predecessors.indexOf(failed[1]!);
      if (at < 0) throw new RemoteScanError(`remote scan on ${transport.host}: ${failed[2]}`);
      noteUnreadable(failed[1]!, failed[2]!);
      predecessors = predecessors.slice(0, at);
      continue;
    }
    if (r.exitCode !== 0) throw new RemoteScanError(`remote scan on ${transport.host} failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
    const window = /^window\t(\d+)\t(\d+)$/m.exec(r.stderr);
    if (headerEnd < 0 || window === null) throw new RemoteScanError(`remote scan on ${transport.host}: malformed output`);
    let tables: CountedWindow;
    let selected: number;
    try {
      const text = gunzipSync(r.stdout.subarray(headerEnd + 1)).toString('latin1');
      selected = text.length;
      tables = readCountTables(text);
    } catch (err) {
      throw new RemoteScanError(`remote scan on ${transport.host}: malformed output (${(err as Error).message})`);
    }
    // No timestamped line anywhere: like the host, no window start to report.
    if (files.length === 1 && first === '') from = null;
    const kept = windowFiles(files, r.stderr, Number(window[1]), from);
    const start = Number(window[1]) - kept.skipped;
    const end = Number(window[2]) - kept.skipped;
    files.splice(0, files.length - kept.files.length);
    options.onTransfer?.({ bytesReceived: r.stdout.length, bytesSent: r.sent, bytesScanned: end - start, bytesSelected: selected });
    // Rotations read only for their last write that could not be read: left out, as offline.
    const leftOut = [...kept.garbage.map((g) => ({ ...g, reason: trailingGarbageReason(g.bytes) })), ...(inCurrent ? untoldRotations(unreadable, lastWrites) : [])];
    // Only the current log, with no timestamp at its end: no window, as the plain scan says.
    if (files.length === 1 && last === '' && end > 0) leftOut.push({ file: path, bytes: end, reason: noReferenceReason(since) });
    const result = { ...finishScan(tables.partial, { file: path, since, from, startOffset: start, endOffset: end, leftOut }, options), ...(notes.length > 0 ? { notes } : {}) };
    return unreadable.length > 0 && !inCurrent ? { ...result, files, unreadable_files: unreadable } : { ...result, files };
  }
}
