/**
 * Turns scan results into one verdict: which mailboxes, cPanel accounts and PHP scripts are
 * sending spam, and for each the addresses behind it, each classified (attacker, owner, this
 * server, proxy, private, allow-listed). Only attackers are offered for blocking; everything
 * the playbook blocks, purges, resets or disables comes from here. Pure: the action and the
 * offline `investigate` gather the inputs, this decides. Output keys are simple words for
 * playbook expressions (`steps.detect.sources`, `steps.detect.ips`, `steps.detect.senders`).
 */
import { looksRandomName } from '../parsers/find-printf.js';
import { isPublicIp } from '../parsers/ip.js';
import { decodeEncodedWords } from '../parsers/rfc2047.js';
import type { CwdFinding, MainlogScanResult, Outcomes, RankedItem } from '../parsers/mainlog-scan.js';
import { collapseToPrefixes, groupPrefix, normalIp } from './addresses.js';
import { allowedDirectory, allowedSender } from './allow-list.js';
import type { ActivityFacts, SourceActivity } from './activity.js';
import { hourOf } from './activity.js';
import { hourStart, isRepeatedHour } from './hour-keys.js';
import { atUsualVolume, BURST_FLOOR, burstingSince, burstOf, HOUR_MS } from './burst.js';
import { clientOfChain, proxyRanges, type ProxyRanges } from './proxies.js';
import { checkedThenSent, fixedAddressClass } from './address-class.js';
import type { SpoolScanResult } from './spool.js';

export interface Thresholds {
  /** Messages in the window (or in the queue) that make a sender suspect. Default 100. */
  min_messages: number;
  /** A subject sent this many times is reported as evidence. Default 100. */
  min_subject_repeats: number;
  /**
   * Distinct recipients in one hour that flag a mailbox, as cPanel's own outbound spam check
   * (Tweak Setting email_outbound_spam_detect_threshold). Default 500, cPanel's.
   */
  unique_recipients_per_hour: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { min_messages: 100, min_subject_repeats: 100, unique_recipients_per_hour: 500 };

export interface QueueFacts {
  count: number;
  /** Senders ranked by queued messages; bounces under `<>`. */
  senders: RankedItem[];
}

/** A file under a suspect directory, from `find -printf` (the suspect-files read). */
export interface FileFact {
  path: string;
  mtime: number;
  mode: string;
  size: number;
}

/** Known bulk senders and newsletters: never purged, blocked or disabled. */
export interface AllowList {
  senders: string[];
  domains: string[];
  directories: string[];
  ips: string[];
}

export interface VerdictInputs {
  queue?: QueueFacts | null;
  mainlog?: MainlogScanResult | null;
  spool?: SpoolScanResult | null;
  /** Listings of suspect directories (cwd of heavy submitters), by directory. */
  listings?: Record<string, FileFact[]>;
  /** Access-log client addresses per script (`host/path`). */
  access_ips?: Record<string, RankedItem[]>;
  /** Parents of account homes (host layout); default /home, /home2, ... */
  home_roots?: string[];
  /** Times and addresses of the flagged ids (second pass, see activity.ts). */
  activity?: ActivityFacts | null;
  /** The host's own addresses (interfaces), besides the log's `I=[…]`. */
  server_ips?: string[];
  proxies?: ProxyRanges;
  allow?: AllowList;
  /**
   * Mailbox (lower-cased) → distinct recipients per hour that flag it, where its cPanel account
   * overrides the server's (EMAIL_OUTBOUND_SPAM_DETECT_THRESHOLD in its cpuser file).
   */
  recipient_thresholds?: Record<string, number>;
  /** Mailbox (lower-cased) → the cPanel account owning its domain, where /etc/userdomains was read. */
  mailbox_accounts?: Record<string, string>;
}

/** The account owning a path under one of the home roots, or null (system paths, /root). */
export function accountOf(path: string, homeRoots: string[] | undefined): string | null {
  return accountHome(path, homeRoots)?.user ?? null;
}

function accountHome(path: string, homeRoots: string[] | undefined): { user: string; home: string } | null {
  if (homeRoots === undefined) {
    const m = /^(\/home\d*)\/([^/]+)(?:\/|$)/.exec(path);
    return m === null ? null : { user: m[2]!, home: `${m[1]!}/${m[2]!}` };
  }
  for (const root of homeRoots) {
    const r = root.replace(/\/+$/, '');
    if (path.startsWith(`${r}/`)) {
      const user = path.slice(r.length + 1).split('/')[0]!;
      if (user !== '' && user !== '..' && user !== '.') return { user, home: `${r}/${user}` };
    }
  }
  return null;
}

export interface ScriptVerdict {
  /** Filesystem path of the script (what containment disables). */
  path: string;
  /** `host/path` from X-PHP-Script when known. */
  url: string | null;
  /** Messages attributed to it (main log window or queue, whichever is larger). */
  count: number;
  /** Attacker addresses that requested it (proxies, the server and private addresses left out). */
  ips: string[];
}

export interface Evidence {
  source: 'queue' | 'mainlog' | 'spool' | 'access_log' | 'files' | 'maillog';
  detail: string;
  count: number;
}

export type AddressClass = 'attacker' | 'owner' | 'server' | 'proxy' | 'private' | 'allowed';

export interface NotBlocked {
  ip: string;
  class: Exclude<AddressClass, 'attacker'>;
  reason: string;
}

/** One compromised source with its own addresses and evidence. */
export interface Source {
  kind: 'mailbox' | 'account' | 'script';
  /** Mailbox: the address; account: the cPanel user; script: the absolute path. */
  id: string;
  /** Attacker addresses (or their prefixes) behind this source: what is blocked for it. */
  ips: string[];
  confidence: 'high' | 'medium' | 'low';
  reasons: string[];
  counts: {
    /** Messages in the main-log window. */
    sent: number;
    queued: number;
    /** Distinct client addresses seen, and how many of them are attackers. */
    addresses: number;
    attackers: number;
    /** Highest messages in one hour, and the usual hourly volume before the incident. */
    peak_per_hour: number;
    usual_per_hour: number;
    /** Distinct recipients and recipients per message over the log read (mailboxes and accounts). */
    unique_recipients?: number;
    recipients_per_message?: number;
    /**
     * Most distinct recipients in one hour of the log read, and that hour (ISO, its start):
     * cPanel's own outbound spam measure (thresholds.unique_recipients_per_hour).
     */
    peak_unique_recipients_per_hour?: number;
    peak_unique_recipients_hour?: string;
    /** Messages it sent through webmail (Exim saw 127.0.0.1): their senders are in cpsrvd's logs. */
    webmail?: number;
    /**
     * Recipients of its arrivals in the window, those that failed for good (`**`) and those
     * deferred (`==`, once each), joined by message id (mailboxes and accounts, by AUTH id).
     */
    recipients?: number;
    failures?: number;
    deferrals?: number;
  };
  /** When this source's incident began (log time, ISO), or null when no burst was seen. */
  began: string | null;
  /** The envelope sender of its mail (scripts), for the summary. */
  sender?: string | null;
}

export interface Verdict {
  kind: 'mailbox' | 'script' | 'none';
  /** The top source's address: the AUTH id (mailbox) or the envelope sender of the script's mail. */
  sender: string;
  /** Envelope senders whose queued mail the playbook purges, worst first. Never `<>`, system or allow-listed senders. */
  senders: string[];
  /** AUTH ids whose queued mail the playbook purges (also forged envelope senders of a session). */
  auth_ids: string[];
  /** Every compromised source, worst first. */
  sources: Source[];
  /** Files the playbook disables. */
  scripts: ScriptVerdict[];
  /** Directories that submit heavily but where no single script could be named. */
  directories: { path: string; count: number; user: string | null }[];
  /** Exactly what the playbook blocks: attacker addresses and prefixes, worst first. */
  ips: string[];
  /** Why each of `ips` is there, for the operator and the CSF comment. */
  ip_reasons: Record<string, string>;
  /** Addresses seen behind a source and not blocked, with why. */
  not_blocked: NotBlocked[];
  /**
   * Mailboxes not flagged that need a look, with why: what the verdict could not see (a flood
   * through webmail without cpsrvd's logs) and where it is. Nothing acts on them.
   */
  review: { id: string; reason: string }[];
  /** When the incident began (the earliest source's start, ISO log time), or null. */
  began: string | null;
  counts: {
    queue: number;
    sender_queued: number;
    sender_sent: number;
    bounces_queued: number;
    window_arrivals: number;
  };
  evidence: Evidence[];
  /** As given, and the main-log window minimum they came to for this window (see windowMinimum). */
  thresholds: Thresholds & { window_min_messages?: number };
  window: { since: string | null; from: string | null; to: string | null };
  summary: string;
}

function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? p : p.slice(i + 1);
}

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

/** cPanel's own service logins (`__cpanel__service__auth__icontact__…`): never a target. */
export function isServiceLogin(id: string): boolean {
  return id.startsWith('__cpanel__service__');
}

const SYSTEM_LOCALS = new Set(['root', 'cpanel', 'mailer-daemon', 'postmaster', 'mailman', 'cpanelsolr', 'mailnull']);

/** Senders whose mail is the system's own (root and cron, cPanel's notices, bounces): never purged. */
function isSystemSender(sender: string): boolean {
  const at = sender.lastIndexOf('@');
  return SYSTEM_LOCALS.has((at < 0 ? sender : sender.slice(0, at)).toLowerCase());
}

/**
 * `user@host` of a local user: the sender of that user's cron mail and of a script without
 * `-f`. It is purged only as the sender of a flagged script or directory, never for volume alone.
 */
function isLocalUserSender(sender: string, localUsers: Set<string>): boolean {
  const at = sender.lastIndexOf('@');
  return localUsers.has((at < 0 ? sender : sender.slice(0, at)).toLowerCase());
}


/**
 * Messages in the main-log window that make a source a candidate: `min_messages` per 24 hours,
 * scaled down for a shorter window (never below a burst's hourly floor) and never up, so a
 * week's window still catches a small incident; whether it is unusual is decided against the
 * source's own history. Queue counts are not a window and keep `min_messages`.
 */
export function windowMinimum(mainlog: MainlogScanResult | null | undefined, t: Thresholds): number {
  const from = mainlog?.window.from ?? mainlog?.window.first_time ?? null;
  const to = mainlog?.window.last_time ?? null;
  if (from === null || to === null) return t.min_messages;
  const hours = (logMs(to) - logMs(from)) / HOUR_MS;
  if (!Number.isFinite(hours) || hours >= 24) return t.min_messages;
  return Math.min(t.min_messages, Math.max(BURST_FLOOR, Math.ceil((t.min_messages * Math.max(hours, 1)) / 24)));
}

/** Directories and script URLs worth a closer look (listing, access log), before the verdict. */
export function scriptLeads(inputs: VerdictInputs, t: Thresholds = DEFAULT_THRESHOLDS): { dirs: string[]; urls: { host: string; path: string }[] } {
  const min = windowMinimum(inputs.mainlog, t);
  const dirs = (inputs.mainlog?.cwd ?? []).filter((c) => dirSuspect(c, min, inputs.activity, t) && accountOf(c.path, inputs.home_roots) !== null).map((c) => c.path);
  const urls = (inputs.spool?.scripts ?? []).filter((s) => s.count >= Math.min(t.min_messages, 10)).map((s) => ({ host: s.host, path: s.path }));
  for (const d of dirs) {
    for (const s of inputs.spool?.scripts ?? []) if (d.endsWith(dirname(s.path)) && !urls.some((u) => u.host === s.host && u.path === s.path)) urls.push({ host: s.host, path: s.path });
  }
  return { dirs, urls };
}

/** AUTH ids and envelope senders whose times and addresses the verdict needs (activity.ts). */
export function activityLeads(inputs: VerdictInputs, t: Thresholds = DEFAULT_THRESHOLDS): { authIds: string[]; senders: string[]; sharedIps: string[] } {
  const min = windowMinimum(inputs.mainlog, t);
  const auth = new Set<string>();
  const senders = new Set<string>();
  const queued = new Map((inputs.queue?.senders ?? inputs.spool?.senders ?? []).map((q) => [q.key.toLowerCase(), q.count]));
  for (const a of inputs.mainlog?.auth_senders ?? []) {
    if (a.id === '' || isServiceLogin(a.id)) continue;
    // Under the minimum too: their recipients may make them a mass mailing (wideReach).
    const floodAt = inputs.recipient_thresholds?.[a.id.toLowerCase()] ?? t.unique_recipients_per_hour;
    if (a.count >= lowVolumeMinimum(min) || (queued.get(a.id.toLowerCase()) ?? 0) >= t.min_messages || failsMostly(outcomeOf(a)) || mayFlood(a, floodAt)) auth.add(a.id);
  }
  // A mailbox whose mail mostly fails, however little it sent: if it logged in as itself, its
  // sessions say who sent it.
  for (const f of inputs.mainlog?.failing_senders ?? []) if (f.sender.includes('@') && !isServiceLogin(f.sender) && failsMostly(outcomeOf(f))) auth.add(f.sender);
  // A login whose mail mostly fails, whatever its envelope senders (forged ones fail a few each).
  for (const f of inputs.mainlog?.failing_auth ?? []) if (f.id !== '' && !isServiceLogin(f.id) && failsMostly(outcomeOf(f))) auth.add(f.id);
  for (const a of inputs.spool?.auth_ids ?? []) if (a.id !== '' && !isServiceLogin(a.id) && a.count >= t.min_messages) auth.add(a.id);
  for (const q of inputs.queue?.senders ?? inputs.spool?.senders ?? []) if (q.key !== '<>' && q.key !== '' && q.count >= t.min_messages) senders.add(q.key);
  for (const s of inputs.mainlog?.senders ?? []) if (s.sender !== '' && (s.count >= min || mayFlood(s, t.unique_recipients_per_hour))) senders.add(s.sender);
  // A heavy directory may send as several senders (with and without -f), each under the minimum.
  for (const c of inputs.mainlog?.cwd ?? []) if ((c.count >= min || failsMostly(outcomeOf(c))) && accountOf(c.path, inputs.home_roots) !== null) for (const x of c.senders) if (x.key !== '' && x.key !== '<>') senders.add(x.key);
  // A directory under the minimum: its senders' history tells a new mailer (quietDirectory).
  for (const c of inputs.mainlog?.cwd ?? []) if (c.count >= lowVolumeMinimum(min) && c.count < min && accountOf(c.path, inputs.home_roots) !== null) for (const x of c.senders) if (x.key !== '' && x.key !== '<>' && !isSystemSender(x.key)) senders.add(x.key);
  return { authIds: [...auth], senders: [...senders], sharedIps: sharedAddresses(inputs) };
}

/**
 * Public addresses that logged in as mailboxes of two or more domains (customers): the
 * second pass reads what they sent, to find one campaign run through many stolen passwords.
 */
function sharedAddresses(inputs: VerdictInputs): string[] {
  const server = new Set((inputs.server_ips ?? []).map((i) => normalIp(i) ?? i));
  const domains = new Map<string, Set<string>>();
  for (const a of inputs.mainlog?.auth_senders ?? []) {
    const at = a.id.lastIndexOf('@');
    if (at < 0 || isServiceLogin(a.id)) continue;
    for (const i of a.ips) {
      const ip = normalIp(i.key);
      if (ip === null || !isPublicIp(ip) || server.has(ip)) continue;
      const set = domains.get(i.key) ?? new Set<string>();
      set.add(a.id.slice(at + 1).toLowerCase());
      domains.set(i.key, set);
    }
  }
  return [...domains].filter(([, d]) => d.size >= 2).map(([ip]) => ip).slice(0, 200);
}

/**
 * Failed recipients (`**`) from which a sender's failure rate is a signal of its own: below it,
 * an ordinary person's few mistyped or stale addresses.
 */
const MIN_FAILURES = 20;
/**
 * Share of recipients that failed for good marking mail to a harvested list: a newsletter's
 * list bounces a few percent (10 at most for a stale one), spam to bought or scraped addresses
 * mostly fails. Deferrals are not counted in it: greylisting defers honest mail too.
 */
const FAILING_SHARE = 0.5;
/** A failure or deferral share worth saying in the reasons of a source flagged otherwise. */
const NOTABLE_SHARE = 0.1;

const outcomeOf = (o: Partial<Outcomes> | undefined): Outcomes => ({ recipients: o?.recipients ?? 0, deferrals: o?.deferrals ?? 0, failures: o?.failures ?? 0 });

/** Most of its mail went to addresses that do not exist: a harvested list, whatever the volume. */
function failsMostly(o: Outcomes): boolean {
  return o.failures >= MIN_FAILURES && o.recipients > 0 && o.failures / o.recipients >= FAILING_SHARE;
}

const percent = (n: number, of: number): number => Math.round((n / of) * 100);

/** Its failure and deferral rates, when they say something. */
function outcomeReason(o: Outcomes): string | null {
  if (o.recipients === 0 || (o.failures < NOTABLE_SHARE * o.recipients && o.deferrals < NOTABLE_SHARE * o.recipients)) return null;
  const text = `${o.failures} of its ${o.recipients} recipients failed (${percent(o.failures, o.recipients)}%) and ${o.deferrals} were deferred (${percent(o.deferrals, o.recipients)}%)`;
  return failsMostly(o) ? `${text}: mail to addresses that do not exist, as to a harvested list` : text;
}

/**
 * Recipients enough in the window for one of its hours to reach the distinct recipients per
 * hour threshold: its history is read to count them by the hour (the first pass counts totals).
 */
function mayFlood(o: { recipients?: number }, threshold: number): boolean {
  return (o.recipients ?? 0) >= threshold;
}

/** The hour with the most distinct recipients (the earliest of equals), or null. */
export function peakHourlyRecipients(act: SourceActivity | undefined, fromHour: string | null = null): { hour: string; count: number } | null {
  let peak: { hour: string; count: number } | null = null;
  for (const [hour, count] of act?.hourlyRecipients ?? []) if ((fromHour === null || hour >= fromHour) && (peak === null || count > peak.count || (count === peak.count && hour < peak.hour))) peak = { hour, count };
  return peak;
}

/** A directory whose senders reached the distinct recipients per hour threshold, whatever its volume. */
function dirFloods(c: { senders: RankedItem[] }, activity: ActivityFacts | null | undefined, t: Thresholds): boolean {
  return (peakHourlyRecipients(mergedActivity(c.senders.map((x) => activity?.senders.get(x.key.toLowerCase()))))?.count ?? 0) >= t.unique_recipients_per_hour;
}

/**
 * A submitting directory worth naming: the window's volume, cPanel's distinct recipients per
 * hour, or its own mail mostly failing (a sender's rule, on the directory's outcomes joined by
 * message id: a script mailing a harvested list under the volume threshold).
 */
function dirSuspect(c: CwdFinding, windowMin: number, activity: ActivityFacts | null | undefined, t: Thresholds): boolean {
  return c.count >= windowMin || dirFloods(c, activity, t) || dirFailsMostly(c, activity);
}

/**
 * A directory's own mail mostly failing, to a harvested list: its senders reached as many
 * distinct people as it needs failures. One dead address failing again and again (cron output
 * mailed to an account's old contact address) is no list. Unknown without their history.
 */
function dirFailsMostly(c: CwdFinding, activity: ActivityFacts | null | undefined): boolean {
  if (!failsMostly(outcomeOf(c))) return false;
  const known = c.senders.map((x) => activity?.senders.get(x.key.toLowerCase())).filter((a): a is SourceActivity => a !== undefined);
  return known.length === 0 || Math.max(...known.map((a) => a.uniqueRecipients.size)) >= MIN_FAILURES;
}

/** When a directory first submitted mail in the window (`YYYY-MM-DD HH:MM:SS` as logged), or null when not counted. */
function firstSeen(c: CwdFinding): string | null {
  const d = String(c.first_seen ?? 0);
  if (!/^[0-9]{14}$/.test(d)) return null;
  return `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)} ${d.slice(8, 10)}:${d.slice(10, 12)}:${d.slice(12, 14)}`;
}

/** A log time (`YYYY-MM-DD HH:MM:SS[.ddd]`, space or T) in milliseconds of its wall clock; NaN when it is none. */
const logMs = (time: string): number => Date.parse(`${time.replace(' ', 'T')}Z`);

/** A notable share of the recipients refused for good: a list bought or scraped (deferrals are greylisting's too). */
const refusedForGood = (o: Outcomes): boolean => o.recipients > 0 && o.failures >= NOTABLE_SHARE * o.recipients;

/** The hour key `YYYY-MM-DD HH` as ISO, its start (the wall clock's, for either pass of a repeated hour). */
const hourIso = (hour: string): string => `${hourStart(hour).replace(' ', 'T')}:00:00`;

/** An hour key for a reason: its start, and which pass when the clocks went back through it. */
const hourLabel = (hour: string): string => `${hourIso(hour)}${isRepeatedHour(hour) ? ', its second pass after the clocks went back' : ''}`;

/** The hour key of the hour before. */
function hourBefore(hour: string): string {
  return hourOf(new Date(logMs(hourIso(hour)) - HOUR_MS).toISOString().replace('T', ' '));
}

/** Sending addresses of one mailbox, none of them its owner's, that make steady volume a botnet's. */
const MANY_STRANGERS = 10;

/** Messages in the window under which even a wide mailing is not looked at. */
function lowVolumeMinimum(windowMin: number): number {
  return Math.min(windowMin, Math.max(2 * BURST_FLOOR, Math.ceil(windowMin / 4)));
}

/**
 * Few messages to many people each: as many distinct recipients as ten times the window
 * minimum of messages, at ten or more a message. A person writes to a handful at a time.
 */
function wideReach(act: SourceActivity | undefined, windowMin: number): boolean {
  return act !== undefined && act.total > 0 && act.uniqueRecipients.size >= 10 * windowMin && act.recipients / act.total >= 10;
}

/** One activity for several senders (a directory sending with and without -f). */
function mergedActivity(acts: (SourceActivity | undefined)[]): SourceActivity | undefined {
  const known = acts.filter((a): a is SourceActivity => a !== undefined);
  if (known.length <= 1) return known[0];
  const m: SourceActivity = { total: 0, first: null, hours: new Map(), ips: new Map(), recipients: 0, uniqueRecipients: new Set(), hourlyRecipients: new Map() };
  for (const a of known) {
    // The larger of the senders' counts of an hour: they may share recipients, and a count is never more than the truth.
    for (const [h, n] of a.hourlyRecipients ?? []) m.hourlyRecipients!.set(h, Math.max(m.hourlyRecipients!.get(h) ?? 0, n));
    m.total += a.total;
    m.recipients += a.recipients;
    if (a.first !== null && (m.first === null || a.first < m.first)) m.first = a.first;
    for (const [h, n] of a.hours) m.hours.set(h, (m.hours.get(h) ?? 0) + n);
    for (const [ip, u] of a.ips) if (!m.ips.has(ip)) m.ips.set(ip, u);
  }
  return m;
}

/**
 * A slow drip: over a window of days, a mailbox sends at three times or more its rate of the
 * day(s) before the window (half a day of log before it at least). Returns the window's start, from
 * when its users are compared (who used it before is its owner), or null.
 */
function rateJumpSince(act: SourceActivity | undefined, logStart: string | null, windowFrom: string | null, logEnd: string | null, windowMin: number): string | null {
  if (act === undefined || logStart === null || windowFrom === null || logEnd === null) return null;
  const hoursBefore = (logMs(windowFrom) - logMs(logStart)) / HOUR_MS;
  const hoursIn = (logMs(logEnd) - logMs(windowFrom)) / HOUR_MS;
  if (!(hoursBefore >= 12) || !(hoursIn >= 24)) return null;
  const fromHour = hourOf(windowFrom);
  let before = 0;
  for (const [h, n] of act.hours) if (h < fromHour) before += n;
  const within = act.total - before;
  if (within < windowMin) return null;
  return within / hoursIn >= 3 * Math.max(before / hoursBefore, 1 / 24) ? windowFrom : null;
}

const iso = (logTime: string | null): string | null => (logTime === null ? null : logTime.replace(' ', 'T'));

interface Classifier {
  /** A mailbox of `domain` (not flagged) whose mail is read from `ip`: the customer's own address. */
  customer(ip: string, domain: string): string | null;
  classify(ip: string, owner?: { level: number; began: string | null; act: SourceActivity | undefined; readers: Map<string, { count: number; first: string; protocols: Set<string> }> | undefined; mailbox: string; flagged: Set<string> }): { cls: AddressClass; reason: string };
}

function classifier(inputs: VerdictInputs): Classifier {
  const server = new Set<string>();
  for (const ip of [...(inputs.server_ips ?? []), ...(inputs.activity?.interfaces ?? [])]) {
    const n = normalIp(ip);
    if (n !== null) server.add(n);
  }
  const proxies = inputs.proxies ?? proxyRanges();
  const allowIps = new Set((inputs.allow?.ips ?? []).map((i) => normalIp(i) ?? i));
  const readFrom = inputs.activity?.mailboxesReadFrom;
  const colleagueReadingFrom = (ip: string, mailbox: string, flagged: Set<string>): string | null => {
    const at = mailbox.lastIndexOf('@');
    if (at < 0 || readFrom === undefined) return null;
    const domain = mailbox.slice(at).toLowerCase();
    for (const m of readFrom.get(ip) ?? []) if (m.endsWith(domain) && m !== mailbox.toLowerCase() && !flagged.has(m)) return m;
    return null;
  };
  const sharedBy = (ip: string, mailbox: string, flagged: Set<string>): string[] => {
    const domain = mailbox.slice(mailbox.lastIndexOf('@')).toLowerCase();
    const out: string[] = [];
    const domains = new Set<string>();
    for (const m of readFrom?.get(ip) ?? []) {
      const d = m.slice(m.lastIndexOf('@'));
      if (d !== domain && !flagged.has(m)) {
        out.push(m);
        domains.add(d);
      }
    }
    return domains.size >= 2 ? out : [];
  };
  const serverReason = (ip: string): string =>
    `this server's own address (${inputs.server_ips?.includes(ip) === true ? 'an interface of the host' : 'I= interface in the main log or Dovecot lip='})`;
  return {
    customer: (ip, domain) => colleagueReadingFrom(ip, `@${domain}`, new Set()),
    classify(ip, owner) {
      const fixed = fixedAddressClass(ip, { server, proxies, allow: allowIps, serverReason });
      if (fixed !== null) return fixed;
      // The customer's own place (its office): other people of the same domain, not flagged,
      // read their mail from it. A burst from there is the customer's bulk mail (a newsletter)
      // or an infected office computer, not a stolen password used from elsewhere.
      const colleague = owner !== undefined ? colleagueReadingFrom(ip, owner.mailbox, owner.flagged) : null;
      if (colleague !== null) return { cls: 'owner', reason: `the customer's own address: ${colleague} (same domain) reads mail from it` };
      // An address that itself sent at burst rate since the incident began is an attacker
      // whatever its history: credentials are often tried (and mail read) before a run. Not
      // when it read the mailbox's mail again and again before the incident began (more than
      // a password check's login or two): that is the owner's own busy day.
      const before = owner?.readers?.get(ip);
      const longReader = before !== undefined && owner?.began !== null && owner?.began !== undefined && before.first < owner.began && !checkedThenSent(before.count, true);
      if (owner !== undefined && (longReader || !burstingSince(owner.act?.ips.get(ip), owner.began, owner.level))) {
        const read = owner.readers?.get(ip);
        // One or two logins, then only the incident's mail (a burst's worth, none before it):
        // the attacker checking the stolen password over IMAP, not the owner reading mail.
        const sent = owner.act?.ips.get(ip);
        const passwordCheck = read !== undefined && sent !== undefined && owner.began !== null && sent.first >= owner.began && checkedThenSent(read.count, sent.count >= BURST_FLOOR);
        if (read !== undefined && !passwordCheck) return { cls: 'owner', reason: `read ${owner.mailbox}'s mail over ${[...read.protocols].sort().join('/').toUpperCase()} (${read.count} login${read.count === 1 ? '' : 's'} from ${iso(read.first)})` };
        const u = owner.act?.ips.get(ip);
        if (u !== undefined && owner.began !== null && u.first < owner.began) return { cls: 'owner', reason: `used ${owner.mailbox} from ${iso(u.first)}, before the incident began at ${iso(owner.began)}` };
        // IPv6 hosts change their address inside their /64 (privacy extensions): an address of
        // the owner's /64 that the owner read mail from or used before the incident is the owner's.
        const net = ip.includes(':') ? groupPrefix(ip) : null;
        // The /64 as a whole sending at burst rate since the incident began is the attacker's.
        const netHours = new Map<string, number>();
        if (net !== null && owner.began !== null) {
          const from = hourOf(owner.began);
          for (const [other, o] of owner.act?.ips ?? []) if (groupPrefix(other) === net) for (const [h, n] of o.hours ?? []) if (h >= from) netHours.set(h, (netHours.get(h) ?? 0) + n);
        }
        if (net !== null && ![...netHours.values()].some((n) => n >= owner.level)) {
          // Reading logins from the /64, each address a login or two: more than a password check.
          // Only reading from before the incident counts (attackers read the mailbox too, from
          // their own /64); without a known start, reading by addresses that sent little.
          const reads = [...(owner.readers ?? [])].filter(([other, r]) => {
            if (groupPrefix(other) !== net) return false;
            if (owner.began !== null) return r.first < owner.began;
            return (owner.act?.ips.get(other)?.count ?? 0) < BURST_FLOOR / 2;
          });
          const logins = reads.reduce((n, [, r]) => n + r.count, 0);
          if (logins > 2) return { cls: 'owner', reason: `in ${net}, from which ${owner.mailbox}'s mail is read (${logins} logins from ${reads.length} address${reads.length === 1 ? '' : 'es'}; IPv6 hosts rotate inside their /64)` };
          for (const [other, o] of owner.act?.ips ?? []) if (other !== ip && groupPrefix(other) === net && owner.began !== null && o.first < owner.began) return { cls: 'owner', reason: `in ${net} like ${other}, which used ${owner.mailbox} before the incident began (IPv6 hosts rotate inside their /64)` };
        }
        // People of other customers, not flagged, read their mail from it: a carrier's CGNAT
        // egress or a shared office, used by many. Blocking it cuts them all off.
        const others = sharedBy(ip, owner.mailbox, owner.flagged);
        if (others.length >= 2) return { cls: 'owner', reason: `shared address: ${others.length} mailboxes of other customers (${others.slice(0, 3).join(', ')}${others.length > 3 ? ', ...' : ''}) read mail from it (carrier NAT or shared office), and it sent no burst` };
      }
      return { cls: 'attacker', reason: '' };
    },
  };
}

/**
 * The script file for a heavy directory: a file that exists in that directory (its listing),
 * named by X-PHP-Script (or X-PHP-Originating-Script) of mail sharing the directory's envelope
 * senders, or the directory's lone recent PHP file. Never a file of another account or one that
 * is not there: then the script is not identified. Offline (the directory could not be listed:
 * a copied log) the X-PHP-Script inside the directory is named unchecked, and says so.
 */
function resolveScript(dir: string, dirSenders: RankedItem[], inputs: VerdictInputs, recentSince: number | null): { path: string; url: string | null; how: string; unchecked: boolean } | null {
  const listed = inputs.listings?.[dir];
  if (listed === undefined) {
    const named = xPhpScriptIn(dir, dirSenders, inputs, null);
    return named === null ? null : { ...named, how: `${named.how}; existence not checked (offline)`, unchecked: true };
  }
  const found = xPhpScriptIn(dir, dirSenders, inputs, new Set(listed.map((f) => f.path)));
  if (found !== null) return { ...found, unchecked: false };
  // The directory's one suspect PHP file: changed in the week before the log ends, a random
  // or hidden name (as the suspect-files action rates them).
  const suspect = listed.filter((f) => {
    if (!/\.(php\d?|phtml|phar)$/i.test(f.path) || dirname(f.path) !== dir) return false;
    const name = basename(f.path);
    return (recentSince !== null && f.mtime >= recentSince) || looksRandomName(name) || name.startsWith('.');
  });
  if (suspect.length === 1) return { path: suspect[0]!.path, url: null, how: 'the only suspect PHP file in the directory (recently changed, random or hidden name)', unchecked: false };
  return null;
}

/**
 * The script named by X-PHP-Script (or, when files are listed, X-PHP-Originating-Script) of mail
 * sharing the directory's senders, inside that directory; `exists` null: not checked.
 */
function xPhpScriptIn(dir: string, dirSenders: RankedItem[], inputs: VerdictInputs, exists: Set<string> | null): { path: string; url: string; how: string } | null {
  const home = accountHome(dir, inputs.home_roots);
  const senders = new Set(dirSenders.map((s) => s.key.toLowerCase()));
  const sharesSenders = (s: { senders: RankedItem[] }): boolean => senders.size === 0 || s.senders.some((x) => senders.has(x.key.toLowerCase()));
  const candidates: { path: string; url: string; count: number; how: string }[] = [];
  for (const s of inputs.spool?.scripts ?? []) {
    if (!sharesSenders(s)) continue;
    const urlDir = dirname(s.path);
    // A site's root-level script matches only a document root directly under the home.
    const dirMatches = urlDir === '/' ? home !== null && dirname(dir) === home.home : dir.endsWith(urlDir);
    const path = `${dir}/${basename(s.path)}`;
    if (dirMatches && (exists === null || exists.has(path))) candidates.push({ path, url: s.script, count: s.count, how: `X-PHP-Script ${s.script}` });
    for (const o of s.originating) {
      const name = o.key.slice(o.key.indexOf(':') + 1);
      if (exists?.has(`${dir}/${name}`) === true) candidates.push({ path: `${dir}/${name}`, url: s.script, count: o.count, how: `X-PHP-Originating-Script ${name}` });
    }
  }
  candidates.sort((a, b) => b.count - a.count || (a.path < b.path ? -1 : 1));
  return candidates[0] ?? null;
}

export function buildVerdict(inputs: VerdictInputs, t: Thresholds = DEFAULT_THRESHOLDS, since: string | null = null): Verdict {
  const ml = inputs.mainlog ?? null;
  const spool = inputs.spool ?? null;
  const activity = inputs.activity ?? null;
  const queueSenders = inputs.queue?.senders ?? spool?.senders ?? [];
  const queued = (sender: string): number => queueSenders.find((s) => s.key.toLowerCase() === sender.toLowerCase())?.count ?? 0;
  const queueCount = inputs.queue?.count ?? spool?.messages ?? 0;
  const bouncesQueued = queueSenders.find((s) => s.key === '<>')?.count ?? spool?.bounces ?? 0;
  const evidence: Evidence[] = [];
  const cls = classifier(inputs);
  // Where the history read starts: the main logs' first line, else the scanned window's.
  const logStart = activity?.firstTime ?? ml?.window.first_time ?? null;
  const logEnd = ml?.window.last_time ?? null;
  const windowMin = windowMinimum(ml, t);
  const recentSince = logEnd !== null ? logMs(logEnd) / 1000 - 7 * 86400 : null;
  const localUsers = new Set((ml?.local_users ?? []).map((u) => u.user.toLowerCase()));
  const notBlocked = new Map<string, NotBlocked>();
  const keepNotBlocked = (ip: string, c: AddressClass, reason: string, who: string): void => {
    if (c === 'attacker') return;
    const prev = notBlocked.get(ip);
    if (prev === undefined) notBlocked.set(ip, { ip, class: c, reason: `${reason} (seen with ${who})` });
  };

  // Mailboxes and cPanel accounts: AUTH ids over the threshold in the window, or with that much queued.
  const spoolAuth = new Map((spool?.auth_ids ?? []).map((a) => [a.id, a]));
  // A mailbox's distinct recipients per hour threshold: its cPanel account's own when it has one.
  const floodLimit = (id: string): number => inputs.recipient_thresholds?.[id.toLowerCase()] ?? t.unique_recipients_per_hour;
  const sources: (Source & { attackerIps: string[]; weight: number })[] = [];
  const seenAuth = new Set<string>();
  /** `byFlood`: a candidate only for its distinct recipients in one hour (see `flood` below). */
  /**
   * `byFlood`: a candidate only for its distinct recipients in one hour (see `flood` below);
   * `byBurst`: only for a burst under the window's minimum (see `lowBurst` below).
   */
  const authCandidates: { id: string; sent: number; queued: number; ips: RankedItem[]; authenticators: string[]; outcomes?: Outcomes; byFlood?: boolean; byBurst?: boolean }[] = [];
  for (const a of ml?.auth_senders ?? []) {
    seenAuth.add(a.id);
    // Authenticated without an id (`A=plain`): nothing to reset or purge by; its addresses are evidence.
    if (a.id === '' && a.count >= windowMin) {
      evidence.push({ source: 'mainlog', detail: `${a.count} messages authenticated without an id, from ${a.ips.slice(0, 5).map((i) => i.key).join(', ') || 'unknown addresses'}`, count: a.count });
    }
    if (a.id === '' || isServiceLogin(a.id)) continue;
    const q = Math.max(queued(a.id), spoolAuth.get(a.id)?.count ?? 0);
    const wide = a.count >= lowVolumeMinimum(windowMin) && wideReach(activity?.auth.get(a.id), windowMin);
    const outcomes = outcomeOf(a);
    const other = a.count >= windowMin || q >= t.min_messages || wide || failsMostly(outcomes);
    const flood = (peakHourlyRecipients(activity?.auth.get(a.id))?.count ?? 0) >= floodLimit(a.id);
    // Under the window's minimum, a burst against its own history with a known start: who sent
    // it (below) decides, as for a heavier mailbox.
    const lowAct = activity?.auth.get(a.id);
    const lowBurst = !other && !flood && a.count >= lowVolumeMinimum(windowMin) && lowAct !== undefined && (burstOf(lowAct, logStart)?.began ?? null) !== null;
    if (other || flood || lowBurst) authCandidates.push({ id: a.id, sent: a.count, queued: q, ips: [...a.ips, ...(spoolAuth.get(a.id)?.ips ?? [])], authenticators: a.authenticators.map((x) => x.key), outcomes, byFlood: !other && flood, byBurst: lowBurst });
  }
  // Mailboxes among the senders whose mail fails most, too few messages to rank among the AUTH
  // ids: one that logged in as itself (its sessions were read) is a candidate like the others.
  for (const f of ml?.failing_senders ?? []) {
    const outcomes = outcomeOf(f);
    if (seenAuth.has(f.sender) || !failsMostly(outcomes) || isServiceLogin(f.sender)) continue;
    const act = activity?.auth.get(f.sender);
    if (act === undefined || act.total === 0) continue;
    seenAuth.add(f.sender);
    authCandidates.push({ id: f.sender, sent: f.count, queued: queued(f.sender), ips: [], authenticators: [], outcomes });
  }
  // Logins among those whose mail fails most that did not rank by volume: the same rule as a
  // sender's, its sessions (read as a lead) tell the owner's addresses from the attacker's.
  for (const f of ml?.failing_auth ?? []) {
    const outcomes = outcomeOf(f);
    if (seenAuth.has(f.id) || f.id === '' || isServiceLogin(f.id) || !failsMostly(outcomes)) continue;
    seenAuth.add(f.id);
    authCandidates.push({ id: f.id, sent: f.count, queued: queued(f.id), ips: [], authenticators: [], outcomes });
  }
  for (const a of spool?.auth_ids ?? []) {
    if (seenAuth.has(a.id) || a.id === '' || isServiceLogin(a.id) || a.count < t.min_messages) continue;
    authCandidates.push({ id: a.id, sent: 0, queued: a.count, ips: a.ips, authenticators: [] });
  }
  // One subject sent as mailboxes of several customers from the same addresses: one campaign run
  // through many stolen passwords, each mailbox sending only a little. Every one is a source.
  const campaignOf = new Map<string, { subject: string; ids: Set<string>; ips: Set<string> }>();
  const campaignIps = new Map<string, { ip: string; ids: Set<string>; count: number; busy: boolean }[]>();
  const readFromAny = inputs.activity?.mailboxesReadFrom;
  for (const [ip, bySubject] of activity?.shared ?? []) {
    if (cls.classify(ip).cls !== 'attacker') continue;
    // A campaign's address sends (nearly) nothing else; a shared webmail or office address
    // carries many people's subjects, common ones ("Invoice") among them.
    const total = [...bySubject.values()].reduce((n, e) => n + e.count, 0);
    // Nobody reads mail from it: no person's phone, home or office (a carrier's NAT) behind it.
    const unread = (readFromAny?.get(ip)?.size ?? 0) === 0;
    for (const [subject, e] of bySubject) {
      // Customers: the accounts owning the mailboxes where known (one customer's brand domains
      // are one customer, its CRM sending as both), else their domains.
      const customers = new Set([...e.ids].map((id) => inputs.mailbox_accounts?.[id.toLowerCase()] ?? `@${id.slice(id.lastIndexOf('@') + 1).toLowerCase()}`));
      const busy = e.count >= BURST_FLOOR;
      if (customers.size < 2 || e.count < 0.8 * total || (!busy && !unread)) continue;
      campaignIps.set(subject, [...(campaignIps.get(subject) ?? []), { ip, ids: e.ids, count: e.count, busy }]);
    }
  }
  // A campaign run from a pool of addresses, each sending only a few: the pool's addresses that
  // nobody reads mail from add up to a burst's worth. Every address of the pool is the
  // campaign's, and every mailbox it sent as.
  for (const [subject, list] of campaignIps) {
    const pooled = list.length >= 2 && list.reduce((n, x) => n + x.count, 0) >= BURST_FLOOR;
    if (!pooled && !list.some((x) => x.busy)) continue;
    const c = { subject, ids: new Set<string>(), ips: new Set<string>() };
    for (const x of list) {
      if (!pooled && !x.busy) continue;
      c.ips.add(x.ip);
      for (const id of x.ids) c.ids.add(id);
    }
    for (const id of c.ids) if (!campaignOf.has(id)) campaignOf.set(id, c);
  }
  for (const id of campaignOf.keys()) {
    if (authCandidates.some((c) => c.id === id) || isServiceLogin(id) || !id.includes('@')) continue;
    const a = ml?.auth_senders.find((x) => x.id === id);
    authCandidates.push({ id, sent: a?.count ?? activity?.auth.get(id)?.total ?? 0, queued: queued(id), ips: a?.ips ?? [], authenticators: a?.authenticators.map((x) => x.key) ?? [], outcomes: a === undefined ? undefined : outcomeOf(a) });
  }
  const flagged = new Set(authCandidates.map((c) => c.id.toLowerCase()));
  /**
   * Mail a mailbox sent through webmail reaches Exim from 127.0.0.1; who logged in is in
   * cpsrvd's logs (activity.webmail). An address that logged in to its webmail within the two
   * hours before its incident began or after, and never read its mail or used it before, is the
   * attacker's; one that logged in earlier, or that the other rules call the owner's, is not.
   */
  const webmailAddresses = (id: string, seen: string[], began: string | null, ctx: { act: SourceActivity | undefined; readers: Map<string, { count: number; first: string; protocols: Set<string> }> | undefined; flagged: Set<string>; level: number }): { ip: string; cls: AddressClass; reason: string }[] => {
    const uses = activity?.webmail?.get(id.toLowerCase());
    if (uses === undefined || !seen.some((ip) => ip === '127.0.0.1' || ip === '::1')) return [];
    const out: { ip: string; cls: AddressClass; reason: string }[] = [];
    // Only when webmail itself carried a burst's worth since the incident began is a fresh
    // webmail login the attacker's (an owner may open webmail just before a botnet's run).
    const viaWebmail = ['127.0.0.1', '::1'].some((lo) => burstingSince(ctx.act?.ips.get(lo), began, ctx.level));
    const warmup = began === null ? null : new Date(logMs(began) - 2 * HOUR_MS).toISOString().slice(0, 19).replace('T', ' ');
    for (const [ip, u] of uses) {
      if (seen.includes(ip)) continue;
      const logins = `logged in to ${id}'s webmail (${u.count} login${u.count === 1 ? '' : 's'} from ${iso(u.first)})`;
      const r = cls.classify(ip, { level: ctx.level, began, act: ctx.act, readers: ctx.readers, mailbox: id, flagged: ctx.flagged });
      if (r.cls !== 'attacker') out.push({ ip, cls: r.cls, reason: `${logins}; ${r.reason}` });
      else if (warmup === null) out.push({ ip, cls: 'owner', reason: `${logins}; nothing dates the incident, so it is not told from the owner` });
      else if (!viaWebmail) out.push({ ip, cls: 'owner', reason: `${logins}; the incident's mail did not come through webmail` });
      else if (u.first < warmup) out.push({ ip, cls: 'owner', reason: `${logins}, before the incident began at ${iso(began)}` });
      else out.push({ ip, cls: 'attacker', reason: '' });
    }
    return out;
  };
  /**
   * A peak of distinct recipients that went out through webmail: most of that hour's messages
   * reached Exim from this server (127.0.0.1 or its own address), so no address Exim saw sent
   * it. With cpsrvd's webmail logs read, `senders` are the addresses that logged in to the
   * mailbox's webmail that hour or the one before: the attacker's when new to it (no earlier
   * webmail login in the logs read, not the owner's by the other rules), else the owner's.
   * Without them (or without a login near that hour) nobody is known to have sent it: a site's
   * SMTP plugin logs in from this server too, and its monthly newsletter is as far above its
   * history as a stolen webmail session's flood. A peak it reached in the week or more of history
   * before its day is `usual`; any other is `review`: left to the operator, never silent, with
   * how far above its history it is.
   */
  const webmailFlood = (id: string, peak: { hour: string; count: number }, act: SourceActivity | undefined, readers: Map<string, { count: number; first: string; protocols: Set<string> }> | undefined, limit: number): { senders?: { ip: string; cls: AddressClass; reason: string }[]; review?: string; usual?: string } | null => {
    const inHour = act?.hours.get(peak.hour) ?? 0;
    let viaServer = 0;
    for (const [ip, u] of act?.ips ?? []) if (cls.classify(ip).cls === 'server') viaServer += u.hours?.get(peak.hour) ?? 0;
    if (inHour === 0 || viaServer * 2 < inHour) return null;
    const from = hourBefore(peak.hour);
    const what = `${peak.count} distinct recipients in one hour (${hourIso(peak.hour)}) through webmail (Exim saw this server)`;
    const logins = activity?.webmail?.get(id.toLowerCase());
    const senders: { ip: string; cls: AddressClass; reason: string }[] = [];
    for (const [ip, u] of logins ?? []) {
      if (![...(u.hours ?? new Map<string, number>()).keys()].some((h) => h >= from && h <= peak.hour)) continue;
      const loggedIn = `logged in to ${id}'s webmail (${u.count} login${u.count === 1 ? '' : 's'} from ${iso(u.first)})`;
      const r = cls.classify(ip, { level: Infinity, began: `${peak.hour}:00:00`, act, readers, mailbox: id, flagged });
      if (r.cls !== 'attacker') senders.push({ ip, cls: r.cls, reason: `${loggedIn}; ${r.reason}` });
      else if (hourOf(u.first) < from) senders.push({ ip, cls: 'owner', reason: `${loggedIn}, before the hour it sent ${what}` });
      else senders.push({ ip, cls: 'attacker', reason: '' });
    }
    if (senders.length > 0) return { senders };
    const unread = activity?.webmail === undefined ? 'the webmail logins were not read' : 'no webmail login of it that hour or the one before in the webmail logs read';
    // Its busiest hour before the incident's day (an attack may have run the day before too),
    // and how far back the log read goes: a week shows a weekly newsletter's last issue.
    const peakAt = logMs(hourIso(peak.hour));
    const dayBefore = hourOf(new Date(peakAt - 24 * HOUR_MS).toISOString().replace('T', ' '));
    let prior: { hour: string; count: number } = { hour: '', count: 0 };
    for (const [h, n] of act?.hourlyRecipients ?? []) if (h <= dayBefore && n > prior.count) prior = { hour: h, count: n };
    const historyDays = logStart === null ? 0 : (peakAt - logMs(logStart)) / (24 * HOUR_MS);
    if (historyDays < 7) return { review: `${what}, under a week of its history in the log read (${Math.max(0, Math.floor(historyDays * 24))} hours) to compare with; ${unread}` };
    if (peak.count >= 3 * Math.max(prior.count, 1) && prior.count < limit) {
      return { review: `${what}, ${Math.floor(peak.count / Math.max(prior.count, 1))} times the most it sent to in any hour of the ${Math.floor(historyDays)} days before (${prior.count}); ${unread}` };
    }
    return { usual: `${what}, as it did before (${prior.count} in the hour of ${hourIso(prior.hour)})` };
  };
  const windowFromHour = ml?.window.from != null ? hourOf(ml.window.from) : null;
  /** Mailboxes not flagged that need a look (what could not be seen, and where it is). */
  const review: Verdict['review'] = [];
  for (const c of authCandidates) {
    const isMailbox = c.id.includes('@');
    if (isMailbox && allowedSender(c.id, inputs.allow)) {
      evidence.push({ source: 'mainlog', detail: `${c.id} sent ${c.sent} but is allow-listed`, count: c.sent });
      continue;
    }
    const act = activity?.auth.get(c.id);
    const burst = act !== undefined ? burstOf(act, logStart) : null;
    const addresses = act !== undefined ? [...act.ips.keys()] : [...new Set(c.ips.map((i) => normalIp(i.key)).filter((x): x is string => x !== null))];
    const readers = activity?.readers.get(c.id.toLowerCase())?.ips;
    const campaign = campaignOf.get(c.id);
    // Without a burst, a campaign began with its first message through this mailbox: who used
    // the mailbox before that is its owner.
    const campaignBegan = campaign === undefined ? null : [...campaign.ips].map((ip) => act?.ips.get(ip)?.first).filter((x): x is string => x !== undefined).sort()[0] ?? null;
    const dripFrom = burst === null && campaign === undefined ? rateJumpSince(act, logStart, ml?.window.from ?? null, logEnd, windowMin) : null;
    let classified = addresses.map((ip) => {
      const r = cls.classify(ip, { level: burst?.level ?? Infinity, began: burst?.began ?? campaignBegan ?? dripFrom, act, readers, mailbox: c.id, flagged });
      // It sent the campaign's subject as other customers' mailboxes: no owner of this one.
      if (r.cls === 'owner' && campaign?.ips.has(ip) === true) return { ip, cls: 'attacker' as const, reason: '' };
      // A campaign is run from its shared addresses; another address that sent a message or
      // two as this mailbox, none of them the campaign's, is its owner writing as usual.
      const own = act?.ips.get(ip);
      if (r.cls === 'attacker' && campaign !== undefined && !campaign.ips.has(ip) && own !== undefined && own.count < BURST_FLOOR / 2) return { ip, cls: 'owner' as const, reason: `sent ${own.count} as ${c.id} and is not one of the campaign's shared addresses` };
      return { ip, ...r };
    });
    if (isMailbox) classified.push(...webmailAddresses(c.id, addresses, burst?.began ?? campaignBegan ?? dripFrom, { act, readers, flagged, level: burst?.level ?? Infinity }));
    const strangers = classified.filter((r) => r.cls === 'attacker').length;
    // Steady volume spread over many addresses that never read its mail is a botnet dripping
    // (an owner uses a few places, and reads mail from them), not the mailbox's usual volume.
    const dripping = strangers >= MANY_STRANGERS;
    const wide = wideReach(act, windowMin) && strangers > 0;
    // cPanel's own measure: as many distinct recipients in one hour as its outbound spam check
    // holds a mailbox for, sent in that hour from an address new to the mailbox (first used in
    // that hour or the one before) that read its mail twice at most (a password check). The
    // burst rule calls any address that bursts an attacker; a customer's own newsletter from the
    // office it has long used and read mail from is not one.
    const peakRcpts = peakHourlyRecipients(act);
    const limit = floodLimit(c.id);
    // Through webmail Exim sees only this server: who sent that hour is who logged in to the
    // mailbox's webmail then (cpsrvd's logs; see webmailFlood). The window's own peak is judged:
    // a week of history may hold an equal one before it (a weekly newsletter).
    const windowPeak = peakHourlyRecipients(act, windowFromHour);
    const viaWebmail = windowPeak !== null && windowPeak.count >= limit ? webmailFlood(c.id, windowPeak, act, readers, limit) : null;
    if (viaWebmail?.senders !== undefined) classified = [...classified.filter((r) => !viaWebmail.senders!.some((w) => w.ip === r.ip)), ...viaWebmail.senders];
    const flood = viaWebmail?.senders?.some((r) => r.cls === 'attacker') === true || (peakRcpts !== null && peakRcpts.count >= limit && classified.some((r) => {
      const u = act?.ips.get(r.ip);
      return r.cls === 'attacker' && u?.hours?.has(peakRcpts.hour) === true && hourOf(u.first) >= hourBefore(peakRcpts.hour) && (readers?.get(r.ip)?.count ?? 0) <= 2;
    }));
    if (c.byFlood === true && !flood && campaign === undefined) {
      if (viaWebmail?.review !== undefined) {
        review.push({ id: c.id, reason: viaWebmail.review });
        evidence.push({ source: 'mainlog', detail: `${c.id}: ${viaWebmail.review}: not acted on, needs a look`, count: c.sent });
      } else if (viaWebmail?.usual !== undefined) evidence.push({ source: 'mainlog', detail: `${c.id}: ${viaWebmail.usual}: its usual peak, not acted on`, count: c.sent });
      else evidence.push({ source: 'mainlog', detail: `${c.id} sent ${c.sent}, up to ${peakRcpts?.count ?? 0} distinct recipients in one hour, from addresses it used before or reads its mail from${viaWebmail?.senders !== undefined ? ' (its webmail logins that hour)' : ''}: not acted on`, count: c.sent });
      continue;
    }
    // Most of the window's volume came from addresses new in the window that never read its mail.
    const strangerMail = classified.filter((r) => r.cls === 'attacker').reduce((n, r) => n + (act?.ips.get(r.ip)?.count ?? 0), 0);
    const slowDrip = dripFrom !== null && strangers >= 2 && strangerMail * 2 >= c.sent;
    // A burst under the window's minimum is acted on only when it looks like spam on every
    // count: most of it came from addresses that never read the mailbox's mail nor used it
    // before (an owner's busy afternoon of invoices from the office is a burst too), nearly
    // every message reached someone new (an app on a new server writes to the same staff), and
    // a notable share of its recipients failed or were deferred (a list bought or scraped; a
    // person's own contacts mostly accept).
    if (c.byBurst === true && campaign === undefined) {
      const early = c.outcomes ?? outcomeOf(undefined);
      const strangersSentMost = strangerMail * 2 >= c.sent;
      const newPeople = act !== undefined && act.uniqueRecipients.size >= act.total;
      const bounced = refusedForGood(early);
      if (!strangersSentMost || !newPeople || !bounced) {
        const why = !strangersSentMost ? 'mostly from addresses it used before or reads its mail from' : !newPeople ? 'to the same people again and again' : 'to recipients that mostly accepted it';
        evidence.push({ source: 'mainlog', detail: `${c.id} sent ${c.sent}, a burst under the window's minimum, ${why}: not acted on`, count: c.sent });
        continue;
      }
    }
    const outcomes = c.outcomes ?? outcomeOf(undefined);
    // Mail that mostly fails is no usual volume, however steady: spam to a harvested list.
    const harvested = failsMostly(outcomes) && strangers > 0;
    if (atUsualVolume(act, logStart) && !dripping && !wide && !flood && !slowDrip && !harvested && campaign === undefined) {
      // Its volume is its usual one: a busy mailbox, not an incident (a flood through webmail
      // that nothing could tell is still named for a look).
      evidence.push({ source: 'mainlog', detail: `${c.id} sent ${c.sent} at its usual hourly volume (no burst)`, count: c.sent });
      if (viaWebmail?.review !== undefined) review.push({ id: c.id, reason: viaWebmail.review });
      continue;
    }
    const reasons: string[] = [];
    if (campaign !== undefined) reasons.push(`one of ${campaign.ids.size} mailboxes of different customers sending "${campaign.subject}" from the same ${campaign.ips.size} address${campaign.ips.size === 1 ? '' : 'es'}`);
    if (wide && act !== undefined) reasons.push(`${act.uniqueRecipients.size} distinct recipients, ${Math.round((act.recipients / act.total) * 10) / 10} a message: a mass mailing from ${strangers} address${strangers === 1 ? '' : 'es'} that never read its mail`);
    const floodPeak = viaWebmail?.senders !== undefined ? windowPeak! : peakRcpts!;
    if (flood) reasons.push(`${floodPeak.count} distinct recipients in one hour (${hourLabel(floodPeak.hour)}), at or over ${limit} (cPanel's outbound spam threshold${limit !== t.unique_recipients_per_hour ? ', its account\'s own' : ''}), ${viaWebmail?.senders !== undefined ? 'sent that hour through webmail by addresses that logged in to it then, new to it, that did not read its mail (a login or two at most)' : 'sent that hour from addresses new to it that did not read its mail (a login or two at most)'}`);
    if (slowDrip) reasons.push(`${c.sent} in the window, three times or more its rate in the day(s) before ${iso(dripFrom)}, ${strangerMail} of them from ${strangers} addresses new in the window that never read its mail`);
    if (dripping && burst === null) reasons.push(`steady volume, but from ${strangers} addresses that never read its mail nor used it before`);
    if (c.sent > 0) reasons.push(`authenticated (${c.authenticators.join(', ') || 'SMTP AUTH'}) and sent ${c.sent} messages in the window`);
    const rates = outcomeReason(outcomes);
    if (rates !== null) reasons.push(rates);
    if (c.queued > 0) reasons.push(`${c.queued} messages queued`);
    if (burst !== null) reasons.push(burst.began !== null ? `up to ${burst.peak} messages an hour from ${iso(burst.began)}, against a usual ${burst.usual} an hour before` : `up to ${burst.peak} messages an hour, already from the start of the log (when it began is not known)`);
    if (!isMailbox) reasons.push('the AUTH id is a cPanel account name (no @): the account itself logged in');
    const owned = classified.filter((r) => r.cls === 'owner');
    if (owned.length > 0 && owned.length === classified.length && campaign === undefined) {
      // Every address it sent from is its owner's: nobody else used the password.
      evidence.push({ source: 'mainlog', detail: `${c.id} sent ${c.sent} only from its owner's addresses (${owned.map((r) => `${r.ip}: ${r.reason}`).join('; ')}): not a stolen password; an infected office computer would show here`, count: c.sent });
      continue;
    }
    const attackers: string[] = [];
    let owners = 0;
    for (const r of classified) {
      if (r.cls === 'attacker') attackers.push(r.ip);
      else {
        if (r.cls === 'owner') owners++;
        keepNotBlocked(r.ip, r.cls, r.reason, c.id);
      }
    }
    // Worst first: the addresses that sent the most through it.
    const weightOf = (ip: string): number => act?.ips.get(ip)?.count ?? c.ips.find((i) => i.key === ip)?.count ?? 0;
    attackers.sort((a, b) => weightOf(b) - weightOf(a) || (a < b ? -1 : 1));
    if (owners > 0) reasons.push(`${owners} address${owners === 1 ? '' : 'es'} of the owner not blocked`);
    if (attackers.length > 0) reasons.push(`${attackers.length} attacker address${attackers.length === 1 ? '' : 'es'}`);
    // Mostly failing mail from addresses that are not the owner's: spam whatever the volume, and
    // with a burst or the window's volume besides, beyond doubt.
    const failing = failsMostly(outcomes) && attackers.length > 0;
    const confidence: Source['confidence'] = burst !== null && attackers.length > 0 ? 'high' : failing && c.sent >= windowMin ? 'high' : c.sent >= windowMin || campaign !== undefined || failing || (flood && attackers.length > 0) ? 'medium' : 'low';
    evidence.push({ source: c.sent > 0 ? 'mainlog' : 'spool', detail: `${c.id} ${c.sent > 0 ? `authenticated and sent ${c.sent} messages` : `has ${c.queued} queued messages`}${c.authenticators.length > 0 ? ` (${c.authenticators.join(', ')})` : ''}`, count: Math.max(c.sent, c.queued) });
    sources.push({
      kind: isMailbox ? 'mailbox' : 'account',
      id: c.id,
      ips: attackers,
      attackerIps: attackers,
      confidence,
      reasons,
      counts: {
        sent: c.sent, queued: c.queued, addresses: addresses.length, attackers: attackers.length, peak_per_hour: burst?.peak ?? 0, usual_per_hour: burst?.usual ?? 0,
        ...(act !== undefined && act.total > 0 ? { unique_recipients: act.uniqueRecipients.size, recipients_per_message: Math.round((act.recipients / act.total) * 10) / 10 } : {}),
        ...(peakRcpts !== null ? { peak_unique_recipients_per_hour: peakRcpts.count, peak_unique_recipients_hour: hourIso(peakRcpts.hour) } : {}),
        ...(((act?.ips.get('127.0.0.1')?.count ?? 0) + (act?.ips.get('::1')?.count ?? 0)) > 0 ? { webmail: (act?.ips.get('127.0.0.1')?.count ?? 0) + (act?.ips.get('::1')?.count ?? 0) } : {}),
        ...(outcomes.recipients > 0 || outcomes.failures > 0 ? { recipients: outcomes.recipients, failures: outcomes.failures, deferrals: outcomes.deferrals } : {}),
      },
      began: iso(burst?.began ?? null),
      weight: Math.max(c.sent, c.queued),
    });
  }

  // One address logging in as several flagged mailboxes: one attacker, one incident.
  const loginsOf = new Map<string, string[]>();
  for (const src of sources) for (const ip of src.attackerIps) loginsOf.set(ip, [...(loginsOf.get(ip) ?? []), src.id]);
  for (const src of sources) {
    const others = new Set(src.attackerIps.flatMap((ip) => loginsOf.get(ip)!.filter((id) => id !== src.id)));
    if (others.size > 0) src.reasons.push(`its attackers also logged in as ${[...others].join(', ')}`);
  }

  // Scripts: heavy cwd directories under a home, and X-PHP-Script values in the queue.
  /** `outcomes`: its directory's own (cwd= arrivals joined by message id), when it has one. */
  const scripts: (ScriptVerdict & { sender: string | null; how: string; unchecked?: boolean; dir?: string; outcomes?: Outcomes })[] = [];
  const directories: Verdict['directories'] = [];
  const proxies = inputs.proxies ?? proxyRanges();
  const scriptClients = (s: { ips: RankedItem[]; chains?: RankedItem[] } | undefined): RankedItem[] => {
    if (s === undefined) return [];
    if (s.chains === undefined) return s.ips;
    const counts = new Map<string, number>();
    for (const c of s.chains) {
      const chain = c.key.split(',').map((x) => x.trim()).filter((x) => x !== '');
      const client = clientOfChain(chain, proxies);
      // Behind proxies only: the edge itself is listed so it is shown as not blocked.
      const key = client ?? chain[chain.length - 1];
      if (key !== undefined) counts.set(key, (counts.get(key) ?? 0) + c.count);
      const last = normalIp(chain[chain.length - 1] ?? '');
      if (last !== null && client !== last) counts.set(last, counts.get(last) ?? 0);
    }
    return [...counts].map(([key, count]) => ({ key, count }));
  };
  /**
   * A directory under the window's minimum that is a mailer on every count: its envelope
   * senders sent nothing in the log's first half day (a new sender, not the site's usual
   * mail), nearly every message reached someone new, and a notable share of its recipients
   * was refused for good (a list bought or scraped). Who requested it decides below.
   */
  const lowVolumeMailer = (c: { count: number; senders: RankedItem[] }): boolean => c.count >= lowVolumeMinimum(windowMin) && c.senders.length > 0 && !c.senders.some((x) => isSystemSender(x.key));
  const quietDirectory = (c: { count: number; senders: RankedItem[] }): boolean => {
    if (!lowVolumeMailer(c) || logStart === null) return false;
    const act = mergedActivity(c.senders.map((x) => activity?.senders.get(x.key.toLowerCase())));
    if (act === undefined || act.first === null || act.total === 0) return false;
    if (logMs(act.first) - logMs(logStart) < 12 * HOUR_MS) return false;
    const o = { recipients: 0, deferrals: 0, failures: 0 };
    for (const x of c.senders) {
      const own = [...(ml?.senders ?? []), ...(ml?.failing_senders ?? [])].find((y) => y.sender.toLowerCase() === x.key.toLowerCase());
      const oo = outcomeOf(own);
      o.recipients += oo.recipients;
      o.deferrals += oo.deferrals;
      o.failures += oo.failures;
    }
    return act.uniqueRecipients.size >= act.total && refusedForGood(o);
  };
  /**
   * A directory under the window's minimum that began to mail well into the log (not in its
   * first half day, as quietDirectory asks of senders), whatever sender it uses: a script that
   * sends as the account's default sender, which the site's own forms use all along, is new by
   * its directory, not by its sender. As quietDirectory, nearly every message reached someone
   * new (its senders reached as many distinct people as it sent messages: a form writing to
   * its owner does not) and a notable share of its own recipients was refused for good.
   * Its sender's usual volume does not vouch for it (that volume is another directory's); who
   * requested it decides below, as for every directory (the site's own mail is not acted on).
   */
  const newDirectory = (c: CwdFinding): boolean => {
    const first = firstSeen(c);
    // Its first line is counted in the window only: when the window starts after the log read
    // does, the directory may have mailed before it unseen (a nightly cron job), so its senders
    // must not have carried as much in a day before the window as it sent in it.
    const windowStart = ml?.window.first_time ?? null;
    if (windowStart !== null && logStart !== null && windowStart > logStart && windowFromHour !== null) {
      const byDay = new Map<string, number>();
      for (const x of c.senders) for (const [h, n] of activity?.senders.get(x.key.toLowerCase())?.hours ?? []) if (h < windowFromHour) byDay.set(h.slice(0, 10), (byDay.get(h.slice(0, 10)) ?? 0) + n);
      if (Math.max(0, ...byDay.values()) >= c.count) return false;
    }
    const start = [logStart, windowStart].filter((x): x is string => x !== null).sort().at(-1);
    if (!lowVolumeMailer(c) || first === null || start === undefined) return false;
    if (!(logMs(first) - logMs(start) >= 12 * HOUR_MS)) return false;
    // Each sender's distinct recipients are fewer than those of all of them: never more than the truth.
    const reached = Math.max(0, ...c.senders.map((x) => activity?.senders.get(x.key.toLowerCase())?.uniqueRecipients.size ?? 0));
    return reached >= c.count && refusedForGood(outcomeOf(c));
  };
  // Directories new to the log (newDirectory), judged once for both loops below.
  const freshDirs = new Set((ml?.cwd ?? []).filter(newDirectory).map((c) => c.path));
  for (const c of ml?.cwd ?? []) {
    const user = accountOf(c.path, inputs.home_roots);
    const fresh = freshDirs.has(c.path);
    if ((!dirSuspect(c, windowMin, activity, t) && !quietDirectory(c) && !fresh) || user === null) continue;
    if (allowedDirectory(c.path, inputs.allow) || (c.senders.length > 0 && c.senders.every((x) => allowedSender(x.key, inputs.allow)))) {
      evidence.push({ source: 'mainlog', detail: `${c.count} messages submitted from ${c.path} (allow-listed)`, count: c.count });
      continue;
    }
    if (c.senders.length > 0 && c.senders.every((x) => isSystemSender(x.key))) {
      // Mail sent as root or another system sender from a home directory: cron's output.
      evidence.push({ source: 'mainlog', detail: `${c.count} messages submitted from ${c.path} as ${c.senders.map((x) => x.key).join(', ')}: cron or system mail, not a script`, count: c.count });
      continue;
    }
    const dirSender = c.senders[0]?.key;
    const senderAct = mergedActivity(c.senders.map((x) => activity?.senders.get(x.key.toLowerCase())));
    // Mail that mostly fails is no usual volume, however steady (as a mailbox's, see `harvested`).
    const failing = dirFailsMostly(c, activity);
    if (!failing && !fresh && atUsualVolume(senderAct, logStart)) {
      evidence.push({ source: 'mainlog', detail: `${c.count} messages submitted from ${c.path} as ${dirSender}, its usual volume (sent as much before)`, count: c.count });
      continue;
    }
    evidence.push({ source: 'mainlog', detail: `${c.count} messages submitted from ${c.path}${failing ? `: ${outcomeReason(outcomeOf(c))}` : fresh ? `, a directory that first mailed at ${firstSeen(c)}, well into the log` : ''}`, count: c.count });
    const r = resolveScript(c.path, c.senders, inputs, recentSince);
    const sender = c.senders[0]?.key ?? null;
    if (r === null) {
      directories.push({ path: c.path, count: c.count, user });
      continue;
    }
    const spoolScript = spool?.scripts.find((s) => s.script === r.url);
    const clients = [...scriptClients(spoolScript), ...(r.url !== null ? inputs.access_ips?.[r.url] ?? [] : [])];
    scripts.push({ path: r.path, url: r.url, count: Math.max(c.count, spoolScript?.count ?? 0), ips: clients.map((i) => i.key), sender: sender ?? spoolScript?.senders[0]?.key ?? null, how: r.how, unchecked: r.unchecked, dir: c.path, outcomes: outcomeOf(c) });
  }
  for (const s of spool?.scripts ?? []) {
    if (s.count < t.min_messages || scripts.some((x) => x.url === s.script)) continue;
    if (s.senders.length > 0 && s.senders.every((x) => allowedSender(x.key, inputs.allow))) continue;
    if (s.senders.length > 0 && s.senders.every((x) => atUsualVolume(activity?.senders.get(x.key.toLowerCase()), logStart))) {
      // Queued because a provider defers it, not because it is unusual: the site's own mail.
      evidence.push({ source: 'spool', detail: `${s.count} queued messages carry X-PHP-Script ${s.script}, sent as ${s.senders.map((x) => x.key).join(', ')} at the usual volume`, count: s.count });
      continue;
    }
    evidence.push({ source: 'spool', detail: `${s.count} queued messages carry X-PHP-Script ${s.script}`, count: s.count });
    // Without a cwd we know the URL, not the file: a listed directory must hold it.
    let path: string | null = null;
    for (const [dir, files] of Object.entries(inputs.listings ?? {})) {
      if (!dir.endsWith(dirname(s.path)) || dirname(s.path) === '/') continue;
      const f = files.find((x) => x.path === `${dir}/${basename(s.path)}`);
      if (f !== undefined) path = f.path;
    }
    if (path === null) {
      directories.push({ path: `${s.host}${dirname(s.path)}`, count: s.count, user: null });
      continue;
    }
    scripts.push({ path, url: s.script, count: s.count, ips: [...scriptClients(s), ...(inputs.access_ips?.[s.script] ?? [])].map((i) => i.key), sender: s.senders[0]?.key ?? null, how: `X-PHP-Script ${s.script}` });
  }
  for (const [url, ips] of Object.entries(inputs.access_ips ?? {})) {
    if (ips.length > 0) evidence.push({ source: 'access_log', detail: `${ips.length} client addresses requested ${url}`, count: ips.reduce((n, i) => n + i.count, 0) });
  }
  // Scripts only this server or the site's own customer requested (wp-cron's loopback call, a
  // newsletter page used from the customer's office): the site's own mail, not a source.
  const clearedDirs = new Set<string>();
  const clearedSenders = new Set<string>();
  for (const sc of [...scripts]) {
    const host = sc.url === null ? null : sc.url.slice(0, sc.url.indexOf('/') < 0 ? sc.url.length : sc.url.indexOf('/')).replace(/^www\./i, '');
    const classified: { ip: string; cls: AddressClass; reason: string }[] = [];
    for (const raw of new Set(sc.ips)) {
      const ip = normalIp(raw);
      if (ip === null) continue;
      let r = cls.classify(ip);
      const colleague = r.cls === 'attacker' && host !== null && host !== '' ? cls.customer(ip, host) : null;
      if (colleague !== null) r = { cls: 'owner', reason: `the site's customer: ${colleague} reads mail from it` };
      classified.push({ ip, ...r });
    }
    if (classified.length > 0 && classified.every((r) => r.cls === 'server' || r.cls === 'owner')) {
      evidence.push({ source: 'mainlog', detail: `${sc.path} sent ${sc.count}, requested only by ${classified.map((r) => `${r.ip} (${r.reason})`).join(', ')}: the site's own mail, not acted on`, count: sc.count });
      scripts.splice(scripts.indexOf(sc), 1);
      if (sc.dir !== undefined) clearedDirs.add(sc.dir);
      if (sc.sender !== null) clearedSenders.add(sc.sender.toLowerCase());
      continue;
    }
    const attackers: string[] = [];
    for (const r of classified) {
      if (r.cls === 'attacker') attackers.push(r.ip);
      else keepNotBlocked(r.ip, r.cls, r.reason, sc.url ?? sc.path);
    }
    sc.ips = attackers;
    // The rates of its directory's own mail, else of the envelope sender its mail went out as
    // (the senders list or the failing ones), which may carry other mail too.
    const own = sc.sender === null ? undefined : [...(ml?.senders ?? []), ...(ml?.failing_senders ?? [])].find((x) => x.sender.toLowerCase() === sc.sender!.toLowerCase());
    const outcomes = sc.outcomes !== undefined && sc.outcomes.recipients > 0 ? sc.outcomes : outcomeOf(own);
    const rates = outcomeReason(outcomes);
    const ratesOf = outcomes === sc.outcomes ? `its mail (from ${sc.dir})` : `sent as ${sc.sender}`;
    const peakRcpts = sc.sender === null ? null : peakHourlyRecipients(activity?.senders.get(sc.sender.toLowerCase()));
    const flood = peakRcpts !== null && peakRcpts.count >= t.unique_recipients_per_hour ? `sent as ${sc.sender}: ${peakRcpts.count} distinct recipients in one hour (${hourLabel(peakRcpts.hour)}), at or over ${t.unique_recipients_per_hour} (cPanel's outbound spam threshold)` : null;
    sources.push({
      kind: 'script',
      id: sc.path,
      ips: attackers,
      attackerIps: attackers,
      confidence: sc.unchecked === true ? 'medium' : sc.url !== null ? 'high' : 'medium',
      reasons: [`${sc.count} messages`, `identified by ${sc.how}`, ...(attackers.length > 0 ? [`${attackers.length} attacker address${attackers.length === 1 ? '' : 'es'} requested it`] : []), ...(rates !== null ? [`${ratesOf}: ${rates}`] : []), ...(flood !== null ? [flood] : [])],
      counts: {
        sent: sc.count, queued: sc.url !== null ? spool?.scripts.find((s) => s.script === sc.url)?.count ?? 0 : 0, addresses: new Set(sc.ips).size, attackers: attackers.length, peak_per_hour: 0, usual_per_hour: 0,
        ...(outcomes.recipients > 0 || outcomes.failures > 0 ? { recipients: outcomes.recipients, failures: outcomes.failures, deferrals: outcomes.deferrals } : {}),
        ...(peakRcpts !== null ? { peak_unique_recipients_per_hour: peakRcpts.count, peak_unique_recipients_hour: hourIso(peakRcpts.hour) } : {}),
      },
      began: null,
      sender: sc.sender,
      weight: sc.count,
    });
  }

  // Subjects repeated, compared decoded (=?utf-8?B?…?= and plain text are one subject): evidence
  // only, since a common subject ("Invoice") is no reason to purge a sender. Flagged mailboxes
  // sharing one are one incident, and each says so.
  const subjects = new Map<string, { count: number; senders: Set<string> }>();
  for (const s of ml?.subjects ?? []) {
    const key = decodeEncodedWords(s.subject);
    const entry = subjects.get(key) ?? { count: 0, senders: new Set<string>() };
    entry.count += s.count;
    for (const who of s.senders) entry.senders.add(who.key.toLowerCase());
    subjects.set(key, entry);
  }
  for (const [subject, s] of subjects) {
    if (s.count < t.min_subject_repeats) continue;
    evidence.push({ source: 'mainlog', detail: `subject sent ${s.count} times: ${subject}`, count: s.count });
    const sharing = sources.filter((src) => src.kind === 'mailbox' && s.senders.has(src.id.toLowerCase()));
    if (sharing.length < 2) continue;
    for (const src of sharing) src.reasons.push(`sends the subject "${subject}" like ${sharing.filter((o) => o !== src).map((o) => o.id).join(', ')}`);
  }

  // Queue-only evidence: a sender with that many queued messages, unless that is its usual volume.
  const anomalousSender = (sender: string): boolean => {
    return !atUsualVolume(activity?.senders.get(sender.toLowerCase()), logStart);
  };
  for (const q of queueSenders) {
    if (q.key === '<>' || q.count < t.min_messages) continue;
    evidence.push({ source: 'queue', detail: `${q.count} messages from ${q.key} in the queue`, count: q.count });
  }

  sources.sort((a, b) => b.weight - a.weight || (a.id < b.id ? -1 : 1));
  const top = sources[0];
  const dirTop = [...directories].sort((a, b) => b.count - a.count)[0];
  let kind: Verdict['kind'] = 'none';
  if (top !== undefined && top.kind !== 'script' && (dirTop === undefined || top.weight >= dirTop.count)) kind = 'mailbox';
  else if (top !== undefined || dirTop !== undefined) kind = 'script';

  // What is purged by envelope sender: each mailbox's own address, each script's and heavy
  // directory's sender, heavy queue senders that are out of their usual volume; never system,
  // cron or allow-listed senders.
  const senderCounts = new Map<string, number>();
  const skippedSenders = new Set<string>();
  const addSender = (s: string | null | undefined, n: number, ofScript = false): void => {
    if (s === null || s === undefined || s === '' || s === '<>') return;
    if (isSystemSender(s) || allowedSender(s, inputs.allow) || (!ofScript && isLocalUserSender(s, localUsers))) {
      skippedSenders.add(s);
      return;
    }
    senderCounts.set(s, Math.max(senderCounts.get(s) ?? 0, n));
  };
  for (const src of sources) {
    if (src.kind === 'mailbox') addSender(src.id, src.weight);
    if (src.kind === 'script') addSender(src.sender, src.weight, true);
  }
  for (const c of ml?.cwd ?? []) {
    if ((dirSuspect(c, windowMin, activity, t) || quietDirectory(c) || freshDirs.has(c.path)) && !clearedDirs.has(c.path) && accountOf(c.path, inputs.home_roots) !== null && !allowedDirectory(c.path, inputs.allow) && (dirFailsMostly(c, activity) || freshDirs.has(c.path) || !atUsualVolume(mergedActivity(c.senders.map((x) => activity?.senders.get(x.key.toLowerCase()))), logStart))) addSender(c.senders[0]?.key, c.count, true);
  }
  for (const q of queueSenders) if (q.key !== '<>' && q.count >= t.min_messages && !clearedSenders.has(q.key.toLowerCase()) && anomalousSender(q.key)) addSender(q.key, q.count);
  for (const s of skippedSenders) evidence.push({ source: 'mainlog', detail: `${s} is a system, cron or allow-listed sender: its queued mail is not purged by sender`, count: 0 });
  const senders = [...senderCounts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([s]) => s);
  const authIds = sources.filter((s) => s.kind !== 'script').map((s) => s.id);

  // Attackers across sources; a prefix replaces its members when nothing legitimate shares it
  // (an owner, the server, a proxy, or a client of a mailbox that is not flagged).
  const legit = new Set<string>(notBlocked.keys());
  for (const a of ml?.auth_senders ?? []) if (!authIds.includes(a.id)) for (const i of a.ips) legit.add(i.key);
  // Sets for the order of first sight: thousands of addresses make a list's includes quadratic.
  const allAttackers = new Set<string>();
  for (const src of sources) for (const ip of src.attackerIps) allAttackers.add(ip);
  const { blocks, members } = collapseToPrefixes([...allAttackers], [...legit]);
  const blockOf = new Map<string, string>();
  for (const [prefix, ms] of members) for (const m of ms) blockOf.set(m, prefix);
  const ipReasons: Record<string, string> = {};
  for (const src of sources) {
    const mine = new Set<string>();
    for (const ip of src.attackerIps) {
      const b = blockOf.get(ip) ?? ip;
      mine.add(b);
      if (ipReasons[b] === undefined) {
        const what = src.kind === 'script' ? `requested ${scripts.find((s) => s.path === src.id)?.url ?? src.id}` : `logged in as ${src.id}`;
        ipReasons[b] = blockOf.has(ip) ? `${members.get(b)!.length} addresses of ${b} ${what}` : what;
      }
    }
    src.ips = [...mine];
  }

  let sender = '';
  if (top !== undefined && kind === 'mailbox') {
    // An account logs in with its user name; what it sends as (and what is watched) is an address.
    sender = top.kind === 'account' ? senders.find((s) => s.toLowerCase().startsWith(`${top.id.toLowerCase()}@`)) ?? senders[0] ?? '' : top.id;
  }
  else if (kind === 'script') {
    const topScript = sources.find((s) => s.kind === 'script');
    // A directory known only from the queue (X-PHP-Script's host/path) sends as its queued mail's sender.
    const dirSender = dirTop !== undefined ? ml?.cwd.find((c) => c.path === dirTop.path)?.senders[0]?.key ?? spool?.scripts.find((x) => `${x.host}${dirname(x.path)}` === dirTop.path)?.senders[0]?.key ?? null : null;
    sender = (topScript !== undefined && (dirTop === undefined || topScript.weight >= dirTop.count) ? topScript.sender : dirSender) ?? topScript?.sender ?? dirSender ?? '';
  }
  const begins = sources.map((s) => s.began).filter((b): b is string => b !== null).sort();
  const began = begins[0] ?? null;

  const sentInWindow = (s: string): number =>
    (ml?.auth_senders.find((a) => a.id === s)?.count ?? 0) || (ml?.senders.find((x) => x.sender === s)?.count ?? 0);
  const counts = {
    queue: queueCount,
    sender_queued: sender === '' ? 0 : queued(sender),
    sender_sent: sender === '' ? 0 : sentInWindow(sender),
    bounces_queued: bouncesQueued,
    window_arrivals: ml?.totals.arrivals ?? 0,
  };
  const window = { since, from: ml?.window.from ?? null, to: ml?.window.last_time ?? null };
  const span = since !== null ? ` in ${since}` : '';
  const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
  const kept = [...notBlocked.values()];
  const keptText = kept.length > 0 ? `; not blocked: ${kept.length} (${[...new Set(kept.map((k) => k.class))].join(', ')})` : '';
  const ipsText = `${plural(blocks.length, 'address', 'addresses')} to block${keptText}`;
  let summary: string;
  if (kind === 'none') summary = `no sender above ${windowMin} messages${span}; ${counts.queue} queued`;
  else {
    const parts = sources.map((s) => (s.kind === 'script' ? `script ${s.id} (${s.counts.sent})` : `${s.kind} ${s.id} (${s.counts.sent} sent, ${s.counts.queued} queued, ${plural(s.counts.attackers, 'attacker address', 'attacker addresses')})`));
    for (const d of directories) parts.push(`directory ${d.path} (${d.count}; script not identified)`);
    const head = kind === 'mailbox'
      ? `mailbox ${sender} sent ${counts.sender_sent}${span} (${counts.sender_queued} queued of ${counts.queue})`
      : sources.some((s) => s.kind === 'script') && (dirTop === undefined || sources.find((s) => s.kind === 'script')!.weight >= dirTop.count)
        ? `script ${sources.find((s) => s.kind === 'script')!.id} sent ${sources.find((s) => s.kind === 'script')!.weight}${span} as ${sender || 'unknown sender'} (${counts.queue} queued)`
        : `directory ${dirTop?.path ?? '?'} (script not identified) sent ${dirTop?.count ?? 0}${span} as ${sender || 'unknown sender'} (${counts.queue} queued)`;
    summary = `${head}; ${plural(sources.length + directories.length, 'source')}: ${parts.join('; ')}; ${ipsText}${began !== null ? `; began ${began}` : ''}`;
  }
  if (review.length > 0) summary += `; needs a look: ${review.map((r) => r.id).join(', ')} (not flagged, see review)`;
  return {
    kind,
    sender,
    senders,
    auth_ids: authIds,
    sources: sources.map(({ attackerIps: _a, weight: _w, sender: _s, ...rest }) => rest),
    scripts: scripts.map(({ sender: _s, how: _h, unchecked: _u, dir: _d, outcomes: _o, ...rest }) => rest),
    directories,
    ips: blocks,
    ip_reasons: ipReasons,
    not_blocked: kept,
    review,
    began,
    counts,
    evidence: evidence.sort((a, b) => b.count - a.count || (a.detail < b.detail ? -1 : a.detail > b.detail ? 1 : 0)).slice(0, 30),
    thresholds: { ...t, window_min_messages: windowMin },
    window,
    summary,
  };
}

/**
 * Flagged mailboxes that sent a burst's worth through webmail (Exim saw 127.0.0.1) while no
 * webmail log was read: an attacker there is in cpsrvd's logs only, so the block list may be
 * short of it. An owner's few webmail messages are no reason to call the evidence incomplete.
 */
/** What the verdict could not see through webmail: nothing when a webmail login log was read. */
export function webmailProblems(inputs: VerdictInputs, v: Verdict, onHost?: { host: string; logs: string[] }): string[] {
  return inputs.activity?.webmail === undefined ? webmailUnread(v, onHost) : [];
}

/** `onHost`: the host and the webmail logs looked for there (its layout's), named instead of cPanel's defaults. */
export function webmailUnread(v: Verdict, onHost?: { host: string; logs: string[] }): string[] {
  const where = onHost === undefined
    ? "cPanel's /usr/local/cpanel/logs/session_log and login_log, not read (offline: give them with --webmail-log)"
    : `${onHost.logs.join(' and ')} on ${onHost.host}, not read (absent or unreadable; set layout.webmailLogs in the inventory if they are elsewhere)`;
  return [
    ...v.sources
      .filter((s) => s.kind === 'mailbox' && (s.counts.webmail ?? 0) >= BURST_FLOOR)
      .map((s) => `${s.id} sent ${s.counts.webmail} through webmail (127.0.0.1): who logged in is in ${where}; the attacker's addresses there are not blocked`),
    ...v.review.map((r) => `${r.id} needs a look, not flagged: ${r.reason}; who logged in is in ${where}`),
  ];
}
