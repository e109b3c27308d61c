/**
 * Feeds the activity collector (activity.ts) from files on this machine: main logs (plain or
 * gzip, the whole files: an owner's use before the incident may predate the window),
 * Dovecot's maillog and cpsrvd's webmail login logs.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { HISTORY, type HistoryRecords, MainlogHistoryFilter } from '../parsers/mainlog-history.js';
import { ActivityCollector, type ActivityFacts, type ArrivalFields } from './activity.js';
import { readLinesAhead } from './mainlog-file.js';
import { gunzipChunks, isGzipFile } from './mainlog-gzip.js';

async function* chunksOf(path: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
  if (await isGzipFile(path)) {
    yield* gunzipChunks(path, signal !== undefined ? { signal } : {});
    return;
  }
  const input = createReadStream(path, { highWaterMark: 4 * 1024 * 1024 });
  try {
    for await (const chunk of input) {
      signal?.throwIfAborted();
      yield chunk as Buffer;
    }
  } finally {
    input.destroy();
  }
}

/**
 * Whether a byte range holds one of many fixed strings, in one pass over it (Rabin-Karp on the
 * length of the shortest): the flagged ids and addresses are a couple of hundred strings, and
 * searching the range once per string made this the slowest part of an investigation.
 */
class NeedleSet {
  readonly #width: number;
  readonly #pow: number;
  readonly #byHash = new Map<number, Buffer[]>();
  /**
   * Which low hash bits any needle has: most windows of a log line miss here, so the map is
   * asked only at the few that may match (a map lookup at every byte was most of the cost).
   */
  readonly #maybe = new Uint8Array(1 << 16);

  constructor(needles: Buffer[]) {
    this.#width = Math.min(...needles.map((n) => n.length));
    let pow = 1;
    for (let i = 1; i < this.#width; i++) pow = Math.imul(pow, 257);
    this.#pow = pow;
    for (const n of needles) {
      const h = this.#hash(n, 0);
      const list = this.#byHash.get(h) ?? [];
      list.push(n);
      this.#byHash.set(h, list);
      this.#maybe[h & 0xffff] = 1;
    }
  }

  #hash(buf: Buffer, at: number): number {
    let h = 0;
    for (let i = at; i < at + this.#width; i++) h = (Math.imul(h, 257) + buf[i]!) | 0;
    return h;
  }

  foundIn(buf: Buffer, start: number, end: number): boolean {
    const w = this.#width;
    if (end - start < w) return false;
    const maybe = this.#maybe;
    const pow = this.#pow;
    let h = this.#hash(buf, start);
    for (let at = start; ; at++) {
      if (maybe[h & 0xffff] === 1) {
        const list = this.#byHash.get(h);
        if (list !== undefined) {
          for (const n of list) if (at + n.length <= end && buf.compare(n, 0, n.length, at, at + n.length) === 0) return true;
        }
      }
      if (at + w >= end) return false;
      h = (Math.imul(h - Math.imul(buf[at]!, pow), 257) + buf[at + w]!) | 0;
    }
  }
}

/**
 * The lines of a file that contain one of `needles` (exact bytes), without splitting the rest
 * (maillogs, webmail logs). With `within`, only lines that also hold that string are looked at
 * (` <= `): fed to `mainlogLine`, that is what readMainlogHistory gives the collector, and
 * the tests hold the two to it.
 */
export async function* linesContaining(path: string, needles: string[], signal?: AbortSignal, onFirstLine?: (line: string) => void, within?: string): AsyncGenerator<string> {
  const patterns = needles.filter((n) => n !== '').map((n) => Buffer.from(n));
  const set = patterns.length === 0 ? null : new NeedleSet(patterns);
  const marker = within === undefined ? null : Buffer.from(within);
  let carry: Buffer = Buffer.alloc(0);
  /** The matching lines of buf[from, end), `from` at a line start and `end` at a line end. */
  const scan = function* (buf: Buffer, from: number, end: number): Generator<string> {
    if (set === null) return;
    if (marker !== null) {
      // Lines holding the marker, each once, then the needle test on those lines only.
      let at = buf.indexOf(marker, from);
      while (at >= 0 && at < end) {
        const start = at === from ? from : Math.max(from, buf.lastIndexOf(0x0a, at - 1) + 1);
        let stop = buf.indexOf(0x0a, at);
        if (stop < 0 || stop > end) stop = end;
        if (set.foundIn(buf, start, stop)) yield buf.toString('utf8', start, stop);
        at = stop >= end ? -1 : buf.indexOf(marker, stop + 1);
      }
      return;
    }
    let start = from;
    while (start < end) {
      let stop = buf.indexOf(0x0a, start);
      if (stop < 0 || stop > end) stop = end;
      if (set.foundIn(buf, start, stop)) yield buf.toString('utf8', start, stop);
      start = stop + 1;
    }
  };
  let first = onFirstLine;
  for await (const chunk of chunksOf(path, signal)) {
    if (first !== undefined) {
      const whole = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      const nl = whole.indexOf(0x0a);
      if (nl >= 0) {
        first(whole.toString('utf8', 0, nl));
        first = undefined;
      }
    }
    // The line cut by the previous chunk is completed on its own; the rest of this chunk is
    // scanned where it lies (joining every chunk to its carry copied the whole log once more).
    const nl = chunk.indexOf(0x0a);
    if (nl < 0) {
      carry = Buffer.concat([carry, chunk]);
      continue;
    }
    const head = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, nl)]) : chunk.subarray(0, nl);
    yield* scan(head, 0, head.length);
    const last = chunk.lastIndexOf(0x0a);
    if (last > nl) yield* scan(chunk, nl + 1, last);
    carry = Buffer.from(chunk.subarray(last + 1));
  }
  if (carry.length > 0) yield* scan(carry, 0, carry.length);
}

/** Bytes handed to the history filter at a time. */
const HISTORY_CHUNK = 4 * 1024 * 1024;
export interface HistoryReadOptions {
  signal?: AbortSignal;
  chunkBytes?: number;
  /** Read ahead on the thread pool (readLinesAhead); by default when a core is spare. */
  ahead?: boolean;
}

/** Feeds a collector the records of history batches (one reused fields object: read before the next). */
function recordFeeder(collector: ActivityCollector): (records: HistoryRecords) => void {
  let current: HistoryRecords | null = null;
  const fields: ArrivalFields = { time: '', offset: () => current!.offset(), sender: '', ip: null, authId: '', recipients: () => current!.recipients(), lowerRecipients: () => current!.lowerRecipients(), recipientsId: () => current!.recipientsId(), subject: () => current!.subject() };
  return (records) => {
    current = records;
    for (let k = 0; k < records.count; k++) {
      records.select(k);
      const flags = records.flags;
      if ((flags & HISTORY.interface) !== 0) collector.interfaceAddress(records.interfaceText());
      if ((flags & HISTORY.arrival) === 0) continue;
      fields.time = records.time();
      fields.sender = records.sender();
      fields.ip = records.ip();
      fields.authId = records.authId();
      collector.arrival(fields);
    }
  };
}

/**
 * Main-log lines handed over one at a time (a host's history filter sent them: each holds
 * ` <= ` and a needle) fed to `collector` through the kernel's history filter, as `mainlogLine`
 * would take them (the tests hold the two to it): only their fields become strings, and values
 * that repeat are made once. The lines wait in the kernel's input until `flush`.
 */
export class MainlogLineFeeder {
  readonly #filter: MainlogHistoryFilter;
  readonly #feed: (records: HistoryRecords) => void;
  #filled = 0;
  /** The kernel's input area as last asked for: feeding can move the kernel's memory, so not kept past a flush. */
  #view: Buffer | undefined;

  constructor(collector: ActivityCollector) {
    this.#filter = new MainlogHistoryFilter(collector.needles);
    // This filter interns recipient lists with ids of its own.
    collector.newListIds();
    this.#feed = recordFeeder(collector);
  }

  /** The line buf[start, end), without its newline. */
  add(buf: Buffer, start: number, end: number): void {
    const n = end - start;
    const need = this.#filled + n + 1;
    let input = this.#view;
    // Asked for in doubling sizes, not once per line (each answer is a new view).
    if (input === undefined || input.length < need) input = this.#view = this.#filter.input(Math.max(need, 2 * (input?.length ?? 32_768)));
    buf.copy(input, this.#filled, start, end);
    input[this.#filled + n] = 0x0a;
    this.#filled = need;
  }

  flush(): void {
    if (this.#filled === 0) return;
    const end = this.#filled;
    this.#filled = 0;
    this.#view = undefined;
    this.#feed(this.#filter.feed(0, end));
  }
}

/**
 * Feed `collector` the main log at `path` (plain or gzip, the whole file) as linesContaining
 * with its needles and ` <= ` then `mainlogLine` would, but through the kernel's history
 * filter: it finds those lines and their fields at about the speed of reading the file, and
 * only they become strings. A plain file is read straight into the kernel's memory; a gzip one
 * is decompressed by zlib on this thread, which then costs most of the time. (Filtering on a
 * worker thread while this one collects was measured: it paid no wall time on two busy cores.)
 * It reads the log a second time: a line counts when a needle is anywhere in its bytes (as on
 * hosts), and which are needles is known only after the first pass, so that pass could pick
 * these lines only by keeping every ` <= ` line: 40% of a log (434 MB of the 1 GiB bench log).
 */
export async function readMainlogHistory(path: string, collector: ActivityCollector, options: HistoryReadOptions = {}): Promise<void> {
  const { signal } = options;
  const chunkBytes = options.chunkBytes ?? HISTORY_CHUNK;
  const gzip = await isGzipFile(path);
  const fh = gzip ? null : await open(path, 'r');
  try {
    const filter = new MainlogHistoryFilter(collector.needles);
    // Each filter interns recipient lists with ids of its own.
    collector.newListIds();
    const feedRecords = recordFeeder(collector);
    let firstLine = true;
    /** The lines of input[0, end): the first line's time, then the records. */
    const use = (end: number): boolean => {
      if (firstLine) {
        const input = filter.input(end);
        const nl = input.subarray(0, end).indexOf(0x0a);
        if (nl >= 0) {
          collector.logStartLine(input.toString('utf8', 0, nl));
          firstLine = false;
        }
      }
      feedRecords(filter.feed(0, end));
      // Without a needle nothing can match: the first line is all that is wanted.
      return filter.empty && !firstLine;
    };
    if (fh === null) {
      let filled = 0;
      for await (const chunk of gunzipChunks(path, signal !== undefined ? { signal } : {})) {
        chunk.copy(filter.input(filled + chunk.length), filled);
        filled += chunk.length;
        if (filled < chunkBytes) continue;
        const input = filter.input(filled);
        const last = input.lastIndexOf(0x0a, filled - 1) + 1;
        if (last === 0) continue;
        if (use(last)) return;
        filter.input(filled).copyWithin(0, last, filled);
        filled -= last;
      }
      if (filled > 0) use(filled);
      return;
    }
    const size = (await fh.stat()).size;
    await readLinesAhead(filter, fh, 0, size, { chunkBytes, ...(signal !== undefined ? { signal } : {}), ...(options.ahead !== undefined ? { ahead: options.ahead } : {}) }, use);
  } finally {
    await fh?.close();
  }
}

/** Activity of `authIds` and `senders` from main logs and maillogs; unreadable files are reported. */
export async function readActivity(
  leads: { authIds: string[]; senders: string[]; sharedIps?: string[] },
  files: { mainlogs: string[]; maillogs: string[]; webmailLogs?: string[] },
  signal?: AbortSignal,
): Promise<{ facts: ActivityFacts; problems: string[] }> {
  const collector = new ActivityCollector(leads.authIds, leads.senders, leads.sharedIps);
  const problems: string[] = [];
  for (const f of files.mainlogs) {
    try {
      await readMainlogHistory(f, collector, signal !== undefined ? { signal } : {});
    } catch (err) {
      problems.push(`main log ${f}: ${(err as Error).message} (owner and attacker addresses told apart without it)`);
    }
  }
  for (const f of files.maillogs) {
    try {
      for await (const line of linesContaining(f, ['-login: Login: user=<'], signal)) collector.maillogLine(line);
    } catch (err) {
      problems.push(`maillog ${f}: ${(err as Error).message}`);
    }
  }
  for (const f of files.webmailLogs ?? []) {
    try {
      for await (const line of linesContaining(f, [' NEW ', ' LOGIN webmaild'], signal)) collector.webmailLine(line);
      collector.webmailRead();
    } catch (err) {
      problems.push(`webmail log ${f}: ${(err as Error).message} (addresses that used webmail are not known)`);
    }
  }
  return { facts: collector.finish(), problems };
}
