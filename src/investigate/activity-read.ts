/**
 * Feeds the activity collector (activity.ts) from files on this machine: main logs (plain or
 * gzip, the whole files: an owner's use before the incident may predate the window),
 * Dovecot's maillog and cpsrvd's webmail login logs.
 */
import { createReadStream } from 'node:fs';
import { ActivityCollector, type ActivityFacts } from './activity.js';
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
 * The lines of a file that contain one of `needles` (exact bytes), without splitting the rest:
 * a main log is gigabytes and the flagged ids are a handful of its lines' worth.
 */
export async function* linesContaining(path: string, needles: string[], signal?: AbortSignal, onFirstLine?: (line: string) => void): AsyncGenerator<string> {
  const patterns = needles.filter((n) => n !== '').map((n) => Buffer.from(n));
  let carry: Buffer = Buffer.alloc(0);
  const scan = function* (buf: Buffer, end: number): Generator<string> {
    const starts = new Set<number>();
    for (const p of patterns) {
      for (let at = buf.indexOf(p, 0); at >= 0 && at < end; at = buf.indexOf(p, at + p.length)) {
        const start = at === 0 ? 0 : buf.lastIndexOf(0x0a, at - 1) + 1;
        starts.add(start);
      }
    }
    for (const start of [...starts].sort((x, y) => x - y)) {
      let stop = buf.indexOf(0x0a, start);
      if (stop < 0 || stop > end) stop = end;
      yield buf.toString('utf8', start, stop);
    }
  };
  let first = onFirstLine;
  for await (const chunk of chunksOf(path, signal)) {
    const buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    if (first !== undefined) {
      const nl = buf.indexOf(0x0a);
      if (nl >= 0) {
        first(buf.toString('utf8', 0, nl));
        first = undefined;
      }
    }
    const last = buf.lastIndexOf(0x0a);
    if (last < 0) {
      carry = buf;
      continue;
    }
    yield* scan(buf, last);
    carry = Buffer.from(buf.subarray(last + 1));
  }
  if (carry.length > 0) yield* scan(carry, carry.length);
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
      for await (const line of linesContaining(f, collector.needles, signal, (l) => collector.logStartLine(l))) collector.mainlogLine(line);
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
