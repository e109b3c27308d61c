/**
 * Offline investigation: the same verdict as the detection action from a copied main log and/or spool
 * directory (no Exim binary, no host), and its rendering for humans. Everything shown came
 * from logs and headers written by spammers, so every string passes safeForTerminal.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { safeForTerminal } from '../core/terminal-safe.js';
import { parseAccessLogLine, pathWithoutQuery } from '../parsers/access-log.js';
import { topOf, type MainlogScanResult, type RankedItem } from '../parsers/mainlog-scan.js';
import { scanMainlogSources } from './mainlog-sources.js';
import { scanSpoolDir } from './spool.js';
import { readActivity } from './activity-read.js';
import { loadAllowList } from './allow-list.js';
import { loadProxyRanges } from './proxies.js';
import { activityLeads, buildVerdict, DEFAULT_THRESHOLDS, scriptLeads, webmailUnread, type FileFact, type Thresholds, type Verdict, type VerdictInputs } from './verdict.js';

export interface InvestigateOptions {
  /**
   * A main log file (cPanel /var/log/exim_mainlog, or a copy), or several (a rotated set,
   * plain or gzip, in any order): read as one log in time order.
   */
  mainlog?: string | string[];
  /** A spool directory (the one holding `input/`). */
  spool?: string;
  /** Apache domlogs directory for script client lookups. */
  domlogs?: string;
  /** Parents of account homes (default /home, /home2, ...). */
  homeRoots?: string[];
  /** Dovecot's log (cPanel /var/log/maillog, Ubuntu /var/log/mail.log): who read each mailbox's mail. */
  maillog?: string | string[];
  /** cPanel's /usr/local/cpanel/logs/session_log or login_log: who logged in to webmail, from where. */
  webmailLog?: string[];
  /** Addresses and CIDRs of the operator's own proxies, looked past like CDN edges. */
  trustedProxies?: string[];
  /** A file of CDN ranges replacing the shipped Cloudflare list. */
  proxyRangesFile?: string;
  /** Allow-list file (see allow-list.ts) and entries. */
  allowFile?: string;
  allow?: string[];
  since?: string;
  /** Threads reading one large plain main log (default: two on two or more cores). */
  threads?: number;
  min_messages?: number;
  min_subject_repeats?: number;
  signal?: AbortSignal;
}

export type Investigation = Verdict & { problems: string[] };

async function listDir(dir: string): Promise<FileFact[]> {
  const out: FileFact[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (!e.isFile()) continue;
    const p = join(dir, e.name);
    const st = await stat(p);
    out.push({ path: p, mtime: Math.floor(st.mtimeMs / 1000), mode: (st.mode & 0o7777).toString(8), size: st.size });
  }
  return out;
}

async function accessClients(domlogs: string, host: string, path: string): Promise<RankedItem[]> {
  if (!/^[A-Za-z0-9.-]+$/.test(host) || host.includes('..')) return [];
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

/**
 * What a main-log scan did not read, as problems: a verdict over input that was not read is
 * incomplete, never a clean "nothing found".
 */
export function leftOutProblems(scan: Pick<MainlogScanResult, 'left_out'>): string[] {
  return scan.left_out.map((part) => `main log ${part.file ?? '(input)'}: ${part.bytes} bytes not read: ${part.reason}`);
}

export async function investigate(options: InvestigateOptions): Promise<Investigation> {
  if ((options.mainlog === undefined || options.mainlog.length === 0) && options.spool === undefined) throw new Error('investigate needs a main log (--mainlog FILE) or a spool directory (--spool DIR)');
  const t: Thresholds = {
    min_messages: options.min_messages ?? DEFAULT_THRESHOLDS.min_messages,
    min_subject_repeats: options.min_subject_repeats ?? DEFAULT_THRESHOLDS.min_subject_repeats,
  };
  const since = options.since ?? '24h';
  const problems: string[] = [];
  const inputs: VerdictInputs = { listings: {}, access_ips: {}, ...(options.homeRoots !== undefined ? { home_roots: options.homeRoots } : {}) };
  // Settings errors are the operator's to fix before anything is read.
  inputs.proxies = await loadProxyRanges({ ...(options.proxyRangesFile !== undefined ? { rangesFile: options.proxyRangesFile } : {}), trusted: options.trustedProxies ?? [] });
  inputs.allow = await loadAllowList(options.allowFile, options.allow ?? []);
  const mainlogs = options.mainlog === undefined ? [] : typeof options.mainlog === 'string' ? [options.mainlog] : options.mainlog;
  if (mainlogs.length > 0) {
    try {
      inputs.mainlog = await scanMainlogSources(mainlogs, {
        since,
        ...(options.threads !== undefined ? { workers: options.threads } : {}),
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
      });
      problems.push(...leftOutProblems(inputs.mainlog));
    } catch (err) {
      // The message names the file that failed.
      problems.push(`main log: ${(err as Error).message}`);
    }
  }
  if (options.spool !== undefined) {
    try {
      inputs.spool = await scanSpoolDir(options.spool, options.signal !== undefined ? { signal: options.signal } : {});
    } catch (err) {
      problems.push(`spool ${options.spool}: ${(err as Error).message}`);
    }
  }
  const maillogs = options.maillog === undefined ? [] : typeof options.maillog === 'string' ? [options.maillog] : options.maillog;
  if (inputs.mainlog !== undefined && inputs.mainlog !== null) {
    const read = await readActivity(activityLeads(inputs, t), { mainlogs, maillogs, webmailLogs: options.webmailLog ?? [] }, options.signal);
    inputs.activity = read.facts;
    problems.push(...read.problems);
  }
  const leads = scriptLeads(inputs, t);
  for (const dir of leads.dirs.slice(0, 5)) {
    try {
      inputs.listings![dir] = await listDir(dir);
    } catch {
      // The log names a directory of another machine (a copied log): nothing to list here.
    }
  }
  if (options.domlogs !== undefined) {
    for (const u of leads.urls.slice(0, 5)) inputs.access_ips![`${u.host}${u.path}`] = await accessClients(options.domlogs, u.host, u.path);
  }
  const verdict = buildVerdict(inputs, t, since);
  if ((options.webmailLog ?? []).length === 0) problems.push(...webmailUnread(verdict));
  return { ...verdict, problems };
}

const ANSI = { bold: '\u001b[1m', red: '\u001b[31m', yellow: '\u001b[33m', green: '\u001b[32m', dim: '\u001b[2m', reset: '\u001b[0m' };

/** A verdict for humans. Only this function adds escapes (when color is on); data never does. */
export function renderInvestigation(v: Verdict & { problems?: string[] }, options: { color: boolean }): string {
  const c = (code: keyof typeof ANSI, text: string): string => (options.color ? `${ANSI[code]}${text}${ANSI.reset}` : text);
  const s = safeForTerminal;
  const out: string[] = [];
  const kindColor = v.kind === 'none' ? 'green' : 'red';
  out.push(`${c('bold', 'Verdict:')} ${c(kindColor, v.kind.toUpperCase())}${v.sender !== '' ? `  ${c('bold', s(v.sender))}` : ''}`);
  out.push(`  ${s(v.summary)}`);
  // Long lists are cut for reading; --json has them whole.
  const some = (items: string[], max: number): string => `${items.slice(0, max).map(s).join(', ')}${items.length > max ? ` (+${items.length - max} more; --json lists all)` : ''}`;
  if (v.sources.length > 0) {
    out.push(c('bold', 'Sources:'));
    for (const src of v.sources) {
      out.push(`  ${src.kind} ${s(src.id)}  ${src.counts.sent} sent, ${src.counts.queued} queued, confidence ${src.confidence}${src.began !== null ? `, began ${s(src.began)}` : ''}`);
      for (const r of src.reasons) out.push(`    ${c('dim', '-')} ${s(r)}`);
      if (src.ips.length > 0) out.push(`    attackers: ${some(src.ips, 10)}`);
    }
  }
  if (v.senders.length > 0) out.push(`${c('bold', 'Senders to purge:')} ${some(v.senders, 20)}`);
  if (v.auth_ids.length > 0) out.push(`${c('bold', 'AUTH ids to purge:')} ${some(v.auth_ids, 20)}`);
  if (v.scripts.length > 0) {
    out.push(c('bold', 'Scripts:'));
    for (const sc of v.scripts) {
      out.push(`  ${s(sc.path)}  ${sc.count} messages${sc.url !== null ? `  (${s(sc.url)})` : ''}`);
      if (sc.ips.length > 0) out.push(`    clients: ${some(sc.ips, 10)}`);
    }
  }
  if (v.directories.length > 0) {
    out.push(c('bold', 'Sending directories (script not identified):'));
    for (const d of v.directories.slice(0, 15)) out.push(`  ${s(d.path)}  ${d.count} messages${d.user !== null ? `  account ${s(d.user)}` : ''}`);
    if (v.directories.length > 15) out.push(`  … ${v.directories.length - 15} more; --json lists all`);
  }
  if (v.ips.length > 0) out.push(`${c('bold', 'Addresses to block:')} ${some(v.ips, 20)}`);
  if (v.not_blocked.length > 0) {
    out.push(c('bold', 'Not blocked:'));
    for (const n of v.not_blocked.slice(0, 15)) out.push(`  ${s(n.ip)}  ${n.class}: ${s(n.reason)}`);
    if (v.not_blocked.length > 15) out.push(`  … ${v.not_blocked.length - 15} more; --json lists all`);
  }
  out.push(`${c('bold', 'Counts:')} queue ${v.counts.queue}, sender queued ${v.counts.sender_queued}, sender sent ${v.counts.sender_sent}, bounces queued ${v.counts.bounces_queued}, arrivals in window ${v.counts.window_arrivals}`);
  if (v.evidence.length > 0) {
    out.push(c('bold', 'Evidence:'));
    for (const e of v.evidence.slice(0, 15)) out.push(`  ${c('dim', `[${e.source}]`)} ${s(e.detail)}`);
    if (v.evidence.length > 15) out.push(`  … ${v.evidence.length - 15} more; --json lists all`);
  }
  out.push(`${c('dim', 'Window:')} ${s(v.window.since ?? 'all')}${v.window.from !== null ? ` (from ${s(v.window.from)}` : ''}${v.window.to !== null ? ` to ${s(v.window.to)})` : v.window.from !== null ? ')' : ''}; thresholds: ${v.thresholds.min_messages} messages, ${v.thresholds.min_subject_repeats} subject repeats`);
  for (const p of v.problems ?? []) out.push(`${c('yellow', 'Problem:')} ${s(p)}`);
  return `${out.join('\n')}\n`;
}
