/**
 * Feeds the activity collector (activity.ts) from files on this machine: main logs (plain or
 * gzip, the whole files: an owner's use before the incident may predate the window) and
 * Dovecot's maillog.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { ActivityCollector, type ActivityFacts } from './activity.js';
import { gunzipChunks, isGzipFile } from './mainlog-gzip.js';

async function* linesOf(path: string, signal?: AbortSignal): AsyncGenerator<string> {
  const input = (await isGzipFile(path)) ? Readable.from(gunzipChunks(path, signal !== undefined ? { signal } : {})) : createReadStream(path);
  const rl = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of rl) {
      signal?.throwIfAborted();
      yield line;
    }
  } finally {
    rl.close();
    input.destroy();
  }
}

/** Activity of `authIds` and `senders` from main logs and maillogs; unreadable files are reported. */
export async function readActivity(
  leads: { authIds: string[]; senders: string[] },
  files: { mainlogs: string[]; maillogs: string[] },
  signal?: AbortSignal,
): Promise<{ facts: ActivityFacts; problems: string[] }> {
  const collector = new ActivityCollector(leads.authIds, leads.senders);
  const problems: string[] = [];
  for (const f of files.mainlogs) {
    try {
      for await (const line of linesOf(f, signal)) collector.mainlogLine(line);
    } catch (err) {
      problems.push(`main log ${f}: ${(err as Error).message} (owner and attacker addresses told apart without it)`);
    }
  }
  for (const f of files.maillogs) {
    try {
      for await (const line of linesOf(f, signal)) collector.maillogLine(line);
    } catch (err) {
      problems.push(`maillog ${f}: ${(err as Error).message}`);
    }
  }
  return { facts: collector.finish(), problems };
}
