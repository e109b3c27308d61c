/**
 * The second look at the flagged sources: who used each suspect mailbox, from where and when,
 * and who read its mail. The first pass (mainlog-scan.ts) ranks; this one keeps times for the
 * few ids it is given, so the verdict can tell the owner (used the mailbox before the incident,
 * reads its mail over IMAP/POP3) from the attacker. Pure: callers feed lines (a host's grep),
 * or the arrival fields the kernel's history filter found in a file (activity-read.ts).
 */
import { classifyMainlogLine, lineOffset, lineTimestamp } from '../parsers/exim-mainlog.js';
import { isWebmailLogin, parseCpanelLogin } from '../parsers/cpanel-login-log.js';
import { decodeEncodedWords } from '../parsers/rfc2047.js';
import { normalIp } from './addresses.js';
import { HourKeys, offsetMinutes } from './hour-keys.js';

/**
 * The fields of an arrival the collector reads: from classifyMainlogLine, or found by the
 * kernel's history filter (src/parsers/mainlog-history.ts) without parsing the line again.
 */
export interface ArrivalFields {
  /** `YYYY-MM-DD HH:MM:SS`. */
  time: string;
  /** Minutes east of UTC of the zone offset after the time (Exim's log_timezone), null or absent when none. */
  offset?(): number | null;
  /** Envelope sender as logged. */
  sender: string;
  /** Client address of `H=` as logged, or null. */
  ip: string | null;
  /** AUTH id as logged; '' when none. */
  authId: string;
  recipients(): string[];
  /**
   * The recipients lower-cased, when the reader has them made already (it interns lists);
   * without it the collector lower-cases `recipients()` itself.
   */
  lowerRecipients?(): string[];
  /**
   * The id of the recipient list when the reader interns lists (one id, one list), else -1: a
   * list a source already took adds no distinct recipient to it again.
   */
  recipientsId?(): number;
  /** `T="..."` unescaped, or null. */
  subject(): string | null;
}

/** One address's use of a mailbox. Times are the log's `YYYY-MM-DD HH:MM:SS`. */
export interface AddressUse {
  count: number;
  first: string;
  last: string;
  /** Messages per hour (hour keys: hour-keys.ts): whether the address itself took part in a burst. */
  hours?: Map<string, number>;
}

export interface SourceActivity {
  total: number;
  first: string | null;
  /** Arrivals per hour (`YYYY-MM-DD HH`; the second pass of an hour the clocks went back through has its own key, hour-keys.ts). */
  hours: Map<string, number>;
  /** Client address → its use (SMTP AUTH sessions for an AUTH id). */
  ips: Map<string, AddressUse>;
  /** Recipients per message, for the recipients signal. */
  recipients: number;
  uniqueRecipients: Set<string>;
  /**
   * Distinct recipients per hour (hour key → how many, as `hours`): cPanel's own outbound spam
   * measure (email_outbound_spam_detect_threshold). Never more than the truth (see HourlyRecipients).
   */
  hourlyRecipients?: Map<string, number>;
}

export interface MailReading {
  /** Address → IMAP/POP3 logins. */
  ips: Map<string, AddressUse & { protocols: Set<string> }>;
}

export interface ActivityFacts {
  /** By AUTH id as logged (case kept; compare lower-cased). */
  auth: Map<string, SourceActivity>;
  /** By envelope sender (lower-cased). */
  senders: Map<string, SourceActivity>;
  /** `I=[…]` addresses and Dovecot's `lip=`: this server's own receiving interfaces. */
  interfaces: Set<string>;
  /** Mailbox (lower-cased) → IMAP/POP3 logins from the maillog. */
  readers: Map<string, MailReading>;
  /**
   * Address → every mailbox (lower-cased) read from it over IMAP/POP3, flagged or not: an
   * address a customer's people read their mail from is that customer's own (its office).
   */
  mailboxesReadFrom?: Map<string, Set<string>>;
  /**
   * For addresses that logged in as several ids (given as `sharedIps`): subject (decoded) → the
   * ids that sent it from there and how many messages. Their lines also fill `auth` for those ids.
   */
  shared?: Map<string, Map<string, { ids: Set<string>; count: number }>>;
  /**
   * Mailbox (lower-cased) → webmail logins (cpsrvd's session_log/login_log): the client address
   * of what Exim shows as sent from 127.0.0.1. Absent when no such log was read.
   */
  webmail?: Map<string, Map<string, AddressUse>>;
  /** Mainlog times seen, for the maillog's missing year. */
  lastTime: string | null;
  /** The earliest time the main logs read start at (not only the flagged ids' lines). */
  firstTime: string | null;
}

function emptyActivity(): SourceActivity {
  return { total: 0, first: null, hours: new Map(), ips: new Map(), recipients: 0, uniqueRecipients: new Set(), hourlyRecipients: new Map() };
}

/** Distinct recipients remembered per open hour of one source. */
const HOURLY_CAP = 100_000;

/**
 * Distinct recipients per hour of one source, in bounded memory: only the two latest hours
 * keep their recipients (a Set each, at most HOURLY_CAP), earlier hours keep a number. Logs
 * are read in time order, lines out of order by seconds across an hour's turn land in the
 * hour before, still open. A line of an hour already closed opens it afresh and the hour keeps
 * the larger count: an hour's count is never more than the truth, so it never flags a sender
 * falsely. Memory: 2 × HOURLY_CAP addresses per flagged source at most.
 */
class HourlyRecipients {
  /** Per open hour its recipients, and the interned lists (see ArrivalFields.recipientsId) already in them. */
  readonly #open = new Map<string, { set: Set<string>; lists: Set<number> }>();
  constructor(readonly counts: Map<string, number>) {}

  /** The lists taken are named by ids the reader gives anew from here on. */
  forgetLists(): void {
    for (const open of this.#open.values()) open.lists.clear();
  }

  /** The recipients (lower-cased) of one message of `hour`; `listId` as recipientsId (-1: none). */
  add(hour: string, recipients: string[], listId = -1): void {
    let open = this.#open.get(hour);
    if (open === undefined) {
      if (this.#open.size >= 2) {
        // Close the oldest open hour: its count is already in `counts`.
        let oldest: string | null = null;
        for (const h of this.#open.keys()) if (oldest === null || h < oldest) oldest = h;
        this.#open.delete(oldest!);
      }
      open = { set: new Set(), lists: new Set() };
      this.#open.set(hour, open);
    }
    // A list this open hour took already adds nothing, and its count already holds the set's size.
    if (listId >= 0) {
      if (open.lists.has(listId)) return;
      open.lists.add(listId);
    }
    const set = open.set;
    for (const r of recipients) if (set.size < HOURLY_CAP) set.add(r);
    if (set.size > (this.counts.get(hour) ?? 0)) this.counts.set(hour, set.size);
  }
}

function use(map: Map<string, AddressUse>, ip: string, time: string): AddressUse {
  let u = map.get(ip);
  if (u === undefined) {
    u = { count: 0, first: time, last: time };
    map.set(ip, u);
  }
  u.count++;
  if (time < u.first) u.first = time;
  if (time > u.last) u.last = time;
  return u;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** `Mmm dd HH:MM:SS host dovecot[pid]: imap-login: Login: user=<x>, method=…, rip=IP, …` */
const DOVECOT_LOGIN = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d\d:\d\d:\d\d) \S+ dovecot(?:\[\d+\])?: (imap|pop3)-login: Login: user=<([^>]*)>.*?\brip=([0-9A-Fa-f:.]+)/;

/** The fields of a successful Dovecot IMAP/POP3 login line, or null. Pure. */
export function parseDovecotLogin(line: string, year: number): { time: string; protocol: 'imap' | 'pop3'; user: string; ip: string } | null {
  const m = DOVECOT_LOGIN.exec(line);
  if (m === null) return null;
  const month = MONTHS.indexOf(m[1]!);
  const ip = normalIp(m[6]!);
  if (month < 0 || ip === null) return null;
  const time = `${year}-${String(month + 1).padStart(2, '0')}-${m[2]!.padStart(2, '0')} ${m[3]!}`;
  return { time, protocol: m[4] as 'imap' | 'pop3', user: m[5]!, ip };
}

/** `… dovecot[pid]: imap-login: Disconnected: … (auth failed, N attempts in S secs): user=<x>, …, rip=IP, …` (and Dovecot 2.2's `Aborted login (auth failed, …)`). */
const DOVECOT_AUTH_FAILED = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d\d:\d\d:\d\d) \S+ dovecot(?:\[\d+\])?: (imap|pop3)-login: [^(]*\((?:auth|authorization) failed, (\d+) attempts[^)]*\): user=<([^>]*)>.*?\brip=([0-9A-Fa-f:.]+)/;

/**
 * The fields of a failed Dovecot IMAP/POP3 login (a wrong password and an unknown user log the
 * same line), or null. `user` is empty when the client sent no name. Pure.
 */
export function parseDovecotLoginFailure(line: string, year: number): { time: string; protocol: 'imap' | 'pop3'; user: string; ip: string; attempts: number } | null {
  const m = DOVECOT_AUTH_FAILED.exec(line);
  if (m === null) return null;
  const month = MONTHS.indexOf(m[1]!);
  const ip = normalIp(m[7]!);
  if (month < 0 || ip === null) return null;
  const time = `${year}-${String(month + 1).padStart(2, '0')}-${m[2]!.padStart(2, '0')} ${m[3]!}`;
  return { time, protocol: m[4] as 'imap' | 'pop3', user: m[6]!, ip, attempts: Number(m[5]) };
}

/**
 * `(line) => needles.some((n) => line.includes(n))`, as one regular expression of the needles
 * as literals: a fleet host's history sends tens of thousands of lines and the flagged ids can
 * be a few hundred, and searching each line once per needle was a third of the collector's time.
 * Same answer (code units, no flags; an empty needle matches every line).
 */
export function anyNeedle(needles: readonly string[]): (line: string) => boolean {
  if (needles.length === 0) return () => false;
  try {
    const re = new RegExp(needles.map((n) => n.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')).join('|'));
    return (line) => re.test(line);
  } catch {
    // Too large for this engine: one by one.
  }
  return (line) => needles.some((n) => line.includes(n));
}

/** The hour key of a log time, taken as the first pass of its hour (see hour-keys.ts). */
export function hourOf(time: string): string {
  return time.slice(0, 13);
}

/**
 * Collects activity for `authIds` (SMTP AUTH ids) and `senders` (envelope senders) from main
 * log lines, and mail reading for the mailboxes among them from maillog lines. Lines of other
 * senders are skipped before parsing, so a large log costs a substring test per id.
 */
export class ActivityCollector {
  readonly #authIds: Map<string, string>;
  readonly #senders: Set<string>;
  readonly #needles: string[];
  /** Whether a line holds one of the needles (see #anyNeedle). */
  readonly #holdsNeedle: (line: string) => boolean;
  readonly facts: ActivityFacts = { auth: new Map(), senders: new Map(), interfaces: new Set(), readers: new Map(), lastTime: null, firstTime: null };
  readonly #maillog: string[] = [];

  readonly #sharedIps: Set<string>;

  constructor(authIds: Iterable<string>, senders: Iterable<string>, sharedIps: Iterable<string> = []) {
    this.#authIds = new Map([...authIds].map((id) => [id.toLowerCase(), id]));
    this.#senders = new Set([...senders].map((s) => s.toLowerCase()));
    const shared = [...sharedIps];
    this.#sharedIps = new Set(shared.map((ip) => normalIp(ip)).filter((ip): ip is string => ip !== null));
    // As logged and lower-cased: lines are matched byte for byte, not case-folded (a main log is
    // gigabytes); the first pass ranks ids as logged, so these are the spellings that matter.
    const given = [...authIds, ...senders];
    this.#needles = [...new Set([...given, ...given.map((n) => n.toLowerCase()), ...shared.map((ip) => `[${ip}]`)])];
    this.#holdsNeedle = anyNeedle(this.#needles);
  }

  /** Fixed strings that find every main-log line this collector needs (lines without one are skipped). */
  get needles(): string[] {
    return this.#needles;
  }

  /** The first line of a main log read, whatever it is: where that log's history starts. */
  logStartLine(line: string): void {
    const time = lineTimestamp(line);
    if (time !== null && (this.facts.firstTime === null || time < this.facts.firstTime)) this.facts.firstTime = time;
  }

  /** A main-log line (lines without ` <= ` and one of the needles count for nothing). */
  mainlogLine(line: string): void {
    const arrow = line.indexOf(' <= ');
    if (arrow < 0) return;
    const iface = line.indexOf(' I=[', arrow);
    if (iface >= 0) {
      const end = line.indexOf(']', iface + 4);
      if (end >= 0) this.interfaceAddress(line.slice(iface + 4, end));
    }
    if (!this.#holdsNeedle(line)) return;
    const a = classifyMainlogLine(line);
    if (a.kind !== 'arrival' || a.bounce) return;
    this.arrival({ time: a.time, offset: () => offsetMinutes(lineOffset(line)), sender: a.sender, ip: a.host?.ip ?? null, authId: a.auth?.id ?? '', recipients: () => a.recipients, subject: () => a.subject });
  }

  /**
   * The `I=[…]` address of a main-log line holding ` <= ` and a needle, as logged. Fed with
   * `arrival` by a reader that found such lines itself (the kernel's history filter).
   */
  interfaceAddress(text: string): void {
    if (text === this.#lastInterface) return;
    this.#lastInterface = text;
    const ip = normalIp(text);
    if (ip !== null) this.facts.interfaces.add(ip);
  }

  #lastInterface: string | null = null;

  /** An arrival (not a bounce) of a main-log line holding one of the needles. */
  arrival(a: ArrivalFields): void {
    // Its own key for the second pass of an hour the clocks went back through (hour-keys.ts);
    // null for a stamp of no real hour (a mangled line, `25:`).
    const hour = this.#hourKeys.key(a.time, a.offset?.() ?? null);
    if (hour === null) return;
    if (this.facts.lastTime === null || a.time > this.facts.lastTime) this.facts.lastTime = a.time;
    const ip = a.ip !== null ? this.#normalIp(a.ip) : null;
    const authId = a.authId;
    const fromShared = ip !== null && authId !== '' && this.#sharedIps.has(ip);
    if (fromShared) {
      const bySubject = (this.facts.shared ??= new Map()).get(ip) ?? new Map<string, { ids: Set<string>; count: number }>();
      this.facts.shared.set(ip, bySubject);
      const subject = decodeEncodedWords(a.subject() ?? '');
      const entry = bySubject.get(subject) ?? { ids: new Set<string>(), count: 0 };
      if (bySubject.size < 1000 || bySubject.has(subject)) {
        entry.ids.add(authId);
        entry.count++;
        bySubject.set(subject, entry);
      }
    }
    // The flagged id as given, or null.
    const flaggedId = authId === '' ? null : this.#lowerCased(authId, this.#authKeys, (lower) => this.#authIds.get(lower) ?? null);
    const byAuth = authId !== '' && (flaggedId !== null || fromShared);
    // The sender lower-cased when it is flagged, or null.
    const sender = this.#senders.size === 0 ? null : this.#lowerCased(a.sender, this.#senderKeys, (lower) => (this.#senders.has(lower) ? lower : null));
    if (!byAuth && sender === null) return;
    const recipients = a.lowerRecipients?.() ?? a.recipients().map((r) => r.toLowerCase());
    const listId = a.recipientsId?.() ?? -1;
    if (byAuth) this.#record(this.facts.auth, flaggedId ?? authId, a.time, hour, ip, recipients, listId);
    if (sender !== null) this.#record(this.facts.senders, sender, a.time, hour, ip, recipients, listId);
  }

  /** The hour keys of the arrivals, in the order read. */
  readonly #hourKeys = new HourKeys();
  readonly #authKeys = new Map<string, string | null>();
  readonly #senderKeys = new Map<string, string | null>();

  /**
   * `decide(value.toLowerCase())`, remembered per value as logged (a reader that hands over the
   * same strings again saves the lower-casing and the lookup); at most 100,000 remembered.
   */
  #lowerCased(value: string, memo: Map<string, string | null>, decide: (lower: string) => string | null): string | null {
    let key = memo.get(value);
    if (key === undefined) {
      if (memo.size >= 100_000) memo.clear();
      key = decide(value.toLowerCase());
      memo.set(value, key);
    }
    return key;
  }

  readonly #normalIps = new Map<string, string | null>();

  /**
   * normalIp, remembered per address as logged (most arrivals come from a few clients, and
   * parsing the address again was a tenth of the collector's time); at most 100,000 remembered.
   */
  #normalIp(text: string): string | null {
    let ip = this.#normalIps.get(text);
    if (ip === undefined) {
      if (this.#normalIps.size >= 100_000) this.#normalIps.clear();
      ip = normalIp(text);
      this.#normalIps.set(text, ip);
    }
    return ip;
  }

  /** The interned recipient lists (recipientsId) each source took in full already. */
  readonly #listsTaken = new Map<SourceActivity, Set<number>>();

  /**
   * The reader's list ids start afresh (it interns lists anew, for the next file of a rotated
   * set): the ids taken so far name other lists from here on.
   */
  newListIds(): void {
    this.#listsTaken.clear();
    for (const h of this.#hourly.values()) h.forgetLists();
  }

  /** `recipients` lower-cased; `listId` as recipientsId. */
  #record(map: Map<string, SourceActivity>, key: string, time: string, hour: string, ip: string | null, recipients: string[], listId: number): void {
    let act = map.get(key);
    if (act === undefined) {
      act = emptyActivity();
      map.set(key, act);
    }
    act.total++;
    if (act.first === null || time < act.first) act.first = time;
    act.hours.set(hour, (act.hours.get(hour) ?? 0) + 1);
    if (ip !== null) {
      const u = use(act.ips, ip, time);
      u.hours ??= new Map();
      u.hours.set(hour, (u.hours.get(hour) ?? 0) + 1);
    }
    act.recipients += recipients.length;
    if (this.#newList(act, listId)) for (const r of recipients) if (act.uniqueRecipients.size < 100_000) act.uniqueRecipients.add(r);
    let hourly = this.#hourly.get(act);
    if (hourly === undefined) {
      hourly = new HourlyRecipients(act.hourlyRecipients ??= new Map());
      this.#hourly.set(act, hourly);
    }
    hourly.add(hour, recipients, listId);
  }

  /**
   * Whether `act` has not taken interned list `listId` yet (always for -1). Adding a list again
   * changes nothing (the cap only ever stops adding), most arrivals repeat a list, and adding
   * to a set of many thousands was most of #record's time.
   */
  #newList(act: SourceActivity, listId: number): boolean {
    if (listId < 0) return true;
    let taken = this.#listsTaken.get(act);
    if (taken === undefined) {
      taken = new Set();
      this.#listsTaken.set(act, taken);
    }
    if (taken.has(listId)) return false;
    taken.add(listId);
    return true;
  }

  /** The open hours of each source's distinct recipients (see HourlyRecipients). */
  readonly #hourly = new Map<SourceActivity, HourlyRecipients>();

  /** A cpsrvd session_log/login_log line: webmail logins of every mailbox (few per day each). */
  webmailLine(line: string): void {
    const l = parseCpanelLogin(line);
    if (l === null || !isWebmailLogin(l) || !l.user.includes('@')) return;
    const byIp = (this.facts.webmail ??= new Map()).get(l.user.toLowerCase()) ?? new Map<string, AddressUse>();
    this.facts.webmail.set(l.user.toLowerCase(), byIp);
    const u = use(byIp, l.ip, l.time);
    // By the hour: who logged in the hour a flood went out through webmail is who sent it.
    const hour = hourOf(l.time);
    (u.hours ??= new Map()).set(hour, (u.hours.get(hour) ?? 0) + 1);
  }

  /** Marks that webmail logs were read (even when none had a login), so the verdict can say so. */
  webmailRead(): void {
    this.facts.webmail ??= new Map();
  }

  /** Maillog lines are kept until the main log has given the year (syslog lines have none). */
  maillogLine(line: string): void {
    if (line.includes('-login: Login: user=<')) this.#maillog.push(line);
  }

  finish(fallbackYear = new Date().getUTCFullYear()): ActivityFacts {
    const ref = this.facts.lastTime;
    const refYear = ref !== null ? Number(ref.slice(0, 4)) : fallbackYear;
    const refMonth = ref !== null ? Number(ref.slice(5, 7)) : 12;
    const sharedIds = new Set([...this.facts.auth.keys()].map((id) => id.toLowerCase()));
    for (const line of this.#maillog) {
      // Dovecot's local address (lip=) is an address of this server, as Exim's I= is.
      const lip = / lip=([0-9A-Fa-f:.]+)/.exec(line);
      const local = lip === null ? null : normalIp(lip[1]!);
      if (local !== null) this.facts.interfaces.add(local);
      let login = parseDovecotLogin(line, refYear);
      // A December line read in January belongs to the year before.
      if (login !== null && Number(login.time.slice(5, 7)) > refMonth) login = parseDovecotLogin(line, refYear - 1);
      if (login === null || login.user.startsWith('__cpanel__service__')) continue;
      const user = login.user.toLowerCase();
      const readFrom = (this.facts.mailboxesReadFrom ??= new Map());
      if (readFrom.size < 200_000 || readFrom.has(login.ip)) {
        const set = readFrom.get(login.ip) ?? new Set<string>();
        if (set.size < 1000) set.add(user);
        readFrom.set(login.ip, set);
      }
      // Ids found through a shared address were not known before the main log was read.
      if (!this.#authIds.has(user) && !sharedIds.has(user)) continue;
      let r = this.facts.readers.get(user);
      if (r === undefined) {
        r = { ips: new Map() };
        this.facts.readers.set(user, r);
      }
      let u = r.ips.get(login.ip);
      if (u === undefined) {
        u = { count: 0, first: login.time, last: login.time, protocols: new Set() };
        r.ips.set(login.ip, u);
      }
      u.count++;
      if (login.time < u.first) u.first = login.time;
      if (login.time > u.last) u.last = login.time;
      u.protocols.add(login.protocol);
    }
    this.#maillog.length = 0;
    // The hours' counts are in the facts; their recipients are no longer needed.
    this.#hourly.clear();
    return this.facts;
  }
}
