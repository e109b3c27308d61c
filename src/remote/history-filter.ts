/**
 * Runs the history filter (history-filter.pl.ts) on a host and hands each kept line to the
 * caller as it arrives, decompressed here: the activity collector is fed from a stream, never
 * from a copy of the output. Says, file by file, what was read whole, what was missing, and
 * what was read only in part (a gzip that breaks, the output limit, a command that failed or
 * was cut), so a caller never mistakes a partial history for a whole one.
 */
import { createGunzip } from 'node:zlib';
import type { Transport } from '../transport/types.js';
import { HISTORY_FILTER_PERL } from './history-filter.pl.js';

export type HistoryKind = 'mainlog' | 'maillog' | 'webmail';

export interface HistoryGroup {
  kind: HistoryKind;
  /** Fixed strings; for maillog and webmail, lower-case (matched against the lower-cased line). */
  needles: string[];
  files: string[];
}

export interface HistorySink {
  /** The first line of a main log (where its history starts). */
  firstLine(line: string): void;
  line(kind: HistoryKind, line: string): void;
  /**
   * Optional: the main logs' kept lines as bytes instead of through `line`, for a reader that
   * finds their fields in the bytes (the kernel's history filter): `add` each line (buf[start,
   * end), without its newline), `flush` after each batch, before anything else is said.
   */
  mainlogBytes?: { add(buf: Buffer, start: number, end: number): void; flush(): void };
}

/**
 * read: to its end. missing: no such file. unreadable: could not be opened. partial: lines up to
 * `bytes` were read, then `detail` stopped it. unread: not reached (`detail` says why).
 */
export interface HistoryFile {
  kind: HistoryKind;
  file: string;
  state: 'read' | 'missing' | 'unreadable' | 'partial' | 'unread';
  bytes?: number;
  detail?: string;
}

export interface HistoryFilterOptions {
  /** Stop after this many bytes of kept lines (uncompressed). Default 512 MiB. */
  limitBytes?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface HistoryFilterResult {
  files: HistoryFile[];
  /** Compressed bytes received and the lines they held. */
  bytesReceived: number;
  bytesSelected: number;
}

const NL = 0x0a;

function mib(n: number): string {
  return `${Math.round(n / 1048576)} MiB`;
}

export async function filterHistoryRemote(transport: Transport, groups: HistoryGroup[], sink: HistorySink, options: HistoryFilterOptions = {}): Promise<HistoryFilterResult> {
  const limit = options.limitBytes ?? 512 * 1024 * 1024;
  const files: HistoryFile[] = groups.flatMap((g) => g.files.map((file) => ({ kind: g.kind, file, state: 'unread' as HistoryFile['state'] })));
  const argv = ['perl', '-', String(limit)];
  for (const g of groups) argv.push(g.kind, String(g.needles.length), ...g.needles, String(g.files.length), ...g.files);

  let current: HistoryFile | undefined;
  let done = false;
  let cut: string | undefined;
  let bytesReceived = 0;
  let bytesSelected = 0;
  let carry: Buffer = Buffer.alloc(0);
  const bytes = sink.mainlogBytes;
  const record = (buf: Buffer, start: number, end: number): void => {
    const tag = buf[start];
    if (tag === 0x4c /* L */) {
      if (current === undefined) return;
      if (bytes !== undefined && current.kind === 'mainlog') bytes.add(buf, start + 1, end);
      else sink.line(current.kind, buf.toString('utf8', start + 1, end));
      return;
    }
    bytes?.flush();
    if (tag === 0x48 /* H */) {
      sink.firstLine(buf.toString('utf8', start + 1, end));
      return;
    }
    const [t, n, a, ...rest] = buf.toString('utf8', start, end).split('\t');
    const f = files[Number(n)];
    if (t === 'D') done = true;
    if (f === undefined) return;
    if (t === 'F') current = f;
    else if (t === 'Z') Object.assign(f, { state: 'read', bytes: Number(a) });
    else if (t === 'E') Object.assign(f, a === 'missing' ? { state: 'missing' } : { state: 'unreadable', detail: rest.join(' ') });
    else if (t === 'X') Object.assign(f, { state: 'partial', bytes: Number(a), detail: rest.join(' ') });
    else if (t === 'C') {
      cut = `the history output reached its limit of ${mib(limit)} of lines`;
      Object.assign(f, { state: 'partial', bytes: Number(a), detail: cut });
    }
  };
  // Larger pieces than zlib's 16 KiB: each costs a callback, a carried line and a kernel batch.
  const gunzip = createGunzip({ chunkSize: 64 * 1024 });
  gunzip.on('data', (chunk: Buffer) => {
    bytesSelected += chunk.length;
    const buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(NL); nl >= 0; nl = buf.indexOf(NL, start)) {
      if (nl > start) record(buf, start, nl);
      start = nl + 1;
    }
    bytes?.flush();
    carry = Buffer.from(buf.subarray(start));
  });
  const decoded = new Promise<string | null>((resolve) => {
    gunzip.on('end', () => resolve(null));
    gunzip.on('error', (err) => resolve(err.message));
  });

  const r = await transport.exec(argv, {
    stdin: HISTORY_FILTER_PERL,
    maxOutputBytes: 64 * 1024,
    onStdout: (c) => {
      bytesReceived += c.length;
      gunzip.write(c);
    },
    timeoutMs: options.timeoutMs ?? 600_000,
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  gunzip.end();
  const broken = await decoded;
  bytes?.flush();

  if (!done) {
    // The command failed or was cut: what it had not finished is not read whole.
    const why = r.timedOut
      ? 'timed out'
      : r.aborted
        ? 'was interrupted'
        : broken !== null && r.exitCode === 0
          ? `sent malformed output (${broken})`
          : `failed (${r.exitCode === null ? `signal ${r.signal ?? '?'}` : `exit ${r.exitCode}`}${r.stderr.trim() !== '' ? `: ${r.stderr.trim().slice(0, 300)}` : ''})`;
    cut = `the history filter ${why}`;
    if (current !== undefined && current.state === 'unread') Object.assign(current, { state: 'partial', detail: cut });
  }
  for (const f of files) if (f.state === 'unread') f.detail = cut ?? 'not reached';
  return { files, bytesReceived, bytesSelected };
}
