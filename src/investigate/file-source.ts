/**
 * Evidence from files copied off a server (or read in place): a main log or rotated set, a
 * spool directory, domlogs, Dovecot's maillog. The evidence source offline investigation
 * gathers from (see gather.ts).
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { whyUnreadable } from '../core/read-error.js';
import { isDomainName, parseAccessLogLine, pathWithoutQuery } from '../parsers/access-log.js';
import { topOf, type RankedItem } from '../parsers/mainlog-scan.js';
import { mailboxAccounts, recipientOverrides, unreadAccountFile } from './account-thresholds.js';
import { readActivity } from './activity-read.js';
import type { EvidenceSource } from './gather.js';
import { inTimeOrder, probeMainlogSource, type MainlogSource } from './mainlog-sources.js';
import { scanKeepingWhatReads } from './rotated-logs.js';
import { scanSpoolDir } from './spool.js';
import type { FileFact } from './verdict.js';

export interface FileSourceOptions {
  /** Main log files (a rotated set, plain or gzip, in any order): read as one log in time order. */
  mainlogs: string[];
  /** A spool directory (the one holding `input/`). */
  spool?: string;
  /** Apache domlogs directory for script client lookups. */
  domlogs?: string;
  /** Dovecot's logs: who read each mailbox's mail. */
  maillogs: string[];
  /** cPanel's webmail logins (session_log, login_log): the addresses behind mail Exim saw from 127.0.0.1. */
  webmailLogs?: string[];
  homeRoots?: string[];
  /**
   * cPanel's account files copied off the server (/var/cpanel/users) and its /etc/userdomains,
   * parsed (domain → account): the accounts' own distinct recipients per hour thresholds.
   */
  cpanelUsers?: { dir: string; owners: ReadonlyMap<string, string> };
  signal?: AbortSignal;
}

/**
 * The copied cpuser files of the accounts owning `mailboxes`, read into their overrides (the
 * same function as a host's: account-thresholds.ts). An account whose file is not in the copy
 * or cannot be read is a problem naming the file and what to copy: its mailboxes are held to
 * the threshold given, which may be higher than their own.
 */
async function copiedRecipientThresholds(copy: NonNullable<FileSourceOptions['cpanelUsers']>, mailboxes: string[]): Promise<{ thresholds: Record<string, number>; problems: string[]; accounts: Record<string, string> }> {
  const accountOf = mailboxAccounts(mailboxes, copy.owners);
  const texts = new Map<string, string>();
  const problems: string[] = [];
  for (const user of new Set(accountOf.values())) {
    const file = join(copy.dir, user);
    try {
      texts.set(user, await readFile(file, 'utf8'));
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it is not in the copy' : whyUnreadable(err);
      problems.push(unreadAccountFile(accountOf, user, file, why, `copy /var/cpanel/users/${user} off the server into ${copy.dir}`));
    }
  }
  return { thresholds: recipientOverrides(accountOf, texts), problems, accounts: Object.fromEntries(accountOf) };
}

async function listDir(dir: string): Promise<FileFact[] | null> {
  const out: FileFact[] = [];
  try {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (!e.isFile()) continue;
      const p = join(dir, e.name);
      const st = await stat(p);
      out.push({ path: p, mtime: Math.floor(st.mtimeMs / 1000), mode: (st.mode & 0o7777).toString(8), size: st.size });
    }
  } catch {
    // The log names a directory of another machine (a copied log): nothing to list here.
    return null;
  }
  return out;
}

async function accessClients(domlogs: string, host: string, path: string): Promise<RankedItem[]> {
  // The name becomes a file name here: only a domain name does.
  if (!isDomainName(host)) return [];
  const counts = new Map<string, number>();
  for (const file of [join(domlogs, host), join(domlogs, `${host}-ssl_log`)]) {
    try {
      await stat(file);
    } catch {
      continue;
    }
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line.includes(`"POST ${path}`)) continue;
      const e = parseAccessLogLine(line);
      if (e === null || e.method !== 'POST' || pathWithoutQuery(e.path) !== path) continue;
      counts.set(e.ip, (counts.get(e.ip) ?? 0) + 1);
    }
  }
  return topOf(counts, 1000);
}

export function fileSource(options: FileSourceOptions): EvidenceSource {
  const { mainlogs, spool, domlogs, maillogs, signal } = options;
  return {
    where: '',
    ...(options.homeRoots !== undefined ? { homeRoots: options.homeRoots } : {}),
    ...(mainlogs.length > 0
      ? {
          mainlog: async (since: string) => {
            try {
              // As on a host: every file must be found, and one that breaks part-way is left
              // out with the files before it, not the whole log (rotated-logs.ts).
              const probed: MainlogSource[] = [];
              for (const path of mainlogs) probed.push(await probeMainlogSource(path, signal));
              const older = inTimeOrder(probed);
              const current = older.pop()!;
              return await scanKeepingWhatReads(older, current, [], {
                since,
                ...(signal !== undefined ? { signal } : {}),
              });
            } catch (err) {
              // The message names the file that failed.
              throw new Error(`main log: ${(err as Error).message}`);
            }
          },
        }
      : {}),
    ...(spool !== undefined
      ? {
          spool: async () => {
            try {
              return await scanSpoolDir(spool, signal !== undefined ? { signal } : {});
            } catch (err) {
              throw new Error(`spool ${spool}: ${(err as Error).message}`);
            }
          },
        }
      : {}),
    ...(options.cpanelUsers !== undefined ? { recipientThresholds: (mailboxes: string[]) => copiedRecipientThresholds(options.cpanelUsers!, mailboxes) } : {}),
    history: (leads, skip) => readActivity(leads, { mainlogs: mainlogs.filter((f) => !skip.has(f)), maillogs, webmailLogs: options.webmailLogs ?? [] }, signal),
    listDir,
    ...(domlogs !== undefined ? { scriptClients: (host: string, path: string) => accessClients(domlogs, host, path) } : {}),
  };
}
