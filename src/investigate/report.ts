/**
 * Offline investigation: the same verdict as the detection action from a copied main log and/or spool
 * directory (no Exim binary, no host), and its rendering for humans. Everything shown came
 * from logs and headers written by spammers, so every string passes safeForTerminal.
 */
import { readdir, readFile } from 'node:fs/promises';
import { FileReadError } from '../core/read-error.js';
import { safeForTerminal } from '../core/terminal-safe.js';
import { parseUserdomains } from '../parsers/cpanel-userdomains.js';
import { fileSource, type FileSourceOptions } from './file-source.js';
import { gatherEvidence, verdictOf, type GatheredVerdict } from './gather.js';
import { DEFAULT_THRESHOLDS, type Thresholds, type Verdict } from './verdict.js';

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
  /**
   * cPanel's account files copied off the server (its /var/cpanel/users) and its /etc/userdomains:
   * an account's EMAIL_OUTBOUND_SPAM_DETECT_THRESHOLD replaces `unique_recipients_per_hour` for
   * its mailboxes, as on a host. Given together.
   */
  cpanelUsers?: string;
  userdomains?: string;
  since?: string;
  min_messages?: number;
  min_subject_repeats?: number;
  unique_recipients_per_hour?: number;
  signal?: AbortSignal;
}

/** The verdict with what could not be read, finished as a host's is (see verdictOf). */
export type Investigation = GatheredVerdict;

export { leftOutProblems } from './gather.js';

/**
 * The copied cPanel account directory and /etc/userdomains, checked before anything is read: a
 * path that cannot be read is the operator's to fix (FileReadError names it and why), not a
 * verdict that silently holds every account to the server's threshold.
 */
async function copiedCpanelUsers(options: InvestigateOptions): Promise<FileSourceOptions['cpanelUsers']> {
  const { cpanelUsers: dir, userdomains: file } = options;
  if (dir === undefined && file === undefined) return undefined;
  if (dir === undefined || file === undefined) throw new Error('the accounts\' own thresholds need both the copy of /var/cpanel/users (--cpanel-users DIR) and the copy of /etc/userdomains (--userdomains FILE), which says which account owns a mailbox\'s domain');
  try {
    await readdir(dir);
  } catch (err) {
    throw new FileReadError("the copy of cPanel's account files (/var/cpanel/users, --cpanel-users)", dir, err);
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new FileReadError('the copy of /etc/userdomains (--userdomains)', file, err);
  }
  return { dir, owners: parseUserdomains(text) };
}

export async function investigate(options: InvestigateOptions): Promise<Investigation> {
  if ((options.mainlog === undefined || options.mainlog.length === 0) && options.spool === undefined) throw new Error('investigate needs a main log (--mainlog FILE) or a spool directory (--spool DIR)');
  const t: Thresholds = {
    min_messages: options.min_messages ?? DEFAULT_THRESHOLDS.min_messages,
    min_subject_repeats: options.min_subject_repeats ?? DEFAULT_THRESHOLDS.min_subject_repeats,
    unique_recipients_per_hour: options.unique_recipients_per_hour ?? DEFAULT_THRESHOLDS.unique_recipients_per_hour,
  };
  const since = options.since ?? '24h';
  const cpanelUsers = await copiedCpanelUsers(options);
  const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : typeof v === 'string' ? [v] : v);
  const source = fileSource({
    mainlogs: list(options.mainlog),
    maillogs: list(options.maillog),
    webmailLogs: options.webmailLog ?? [],
    ...(options.spool !== undefined ? { spool: options.spool } : {}),
    ...(options.domlogs !== undefined ? { domlogs: options.domlogs } : {}),
    ...(options.homeRoots !== undefined ? { homeRoots: options.homeRoots } : {}),
    ...(cpanelUsers !== undefined ? { cpanelUsers } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  const gathered = await gatherEvidence(source, {
    since,
    ...(options.trustedProxies !== undefined ? { trustedProxies: options.trustedProxies } : {}),
    ...(options.proxyRangesFile !== undefined ? { proxyRangesFile: options.proxyRangesFile } : {}),
    ...(options.allowFile !== undefined ? { allowFile: options.allowFile } : {}),
    ...(options.allow !== undefined ? { allow: options.allow } : {}),
  }, t);
  return verdictOf(gathered, t, since);
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
  if (v.review.length > 0) {
    out.push(c('bold', 'Needs a look (not flagged):'));
    for (const r of v.review) out.push(`  ${s(r.id)}: ${s(r.reason)}`);
  }
  out.push(`${c('bold', 'Counts:')} queue ${v.counts.queue}, sender queued ${v.counts.sender_queued}, sender sent ${v.counts.sender_sent}, bounces queued ${v.counts.bounces_queued}, arrivals in window ${v.counts.window_arrivals}`);
  if (v.evidence.length > 0) {
    out.push(c('bold', 'Evidence:'));
    for (const e of v.evidence.slice(0, 15)) out.push(`  ${c('dim', `[${e.source}]`)} ${s(e.detail)}`);
    if (v.evidence.length > 15) out.push(`  … ${v.evidence.length - 15} more; --json lists all`);
  }
  out.push(`${c('dim', 'Window:')} ${s(v.window.since ?? 'all')}${v.window.from !== null ? ` (from ${s(v.window.from)}` : ''}${v.window.to !== null ? ` to ${s(v.window.to)})` : v.window.from !== null ? ')' : ''}; thresholds: ${v.thresholds.min_messages} messages, ${v.thresholds.min_subject_repeats} subject repeats, ${v.thresholds.unique_recipients_per_hour} distinct recipients an hour`);
  for (const p of v.problems ?? []) out.push(`${c('yellow', 'Problem:')} ${s(p)}`);
  return `${out.join('\n')}\n`;
}
