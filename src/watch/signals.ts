/**
 * Log lines → counted signals, keyed the ways a rule can count them: per envelope sender, SMTP
 * AUTH id, cPanel account, sending directory (`cwd=`) and client address. Lines are read with
 * the project's parsers (exim-mainlog.ts for the main log, activity.ts for Dovecot's logins);
 * this module only decides what each line counts for. Deferrals and failures are joined to
 * their message's arrival by id, so they count for whoever sent it. Pure: no I/O, no clock.
 */
import { accountOf, isServiceLogin } from '../investigate/verdict.js';
import { parseDovecotLogin, parseDovecotLoginFailure } from '../investigate/activity.js';
import { normalIp } from '../investigate/addresses.js';
import { classifyMainlogLine, parseAuthFailure, type ArrivalLine } from '../parsers/exim-mainlog.js';
import { isPublicIp } from '../parsers/ip.js';
import { wallClockSeconds } from '../parsers/log-time.js';
import type { WatchKeyKind } from './types.js';

export const METRICS = ['messages', 'recipients', 'unique_recipients', 'deferrals', 'failures', 'submissions', 'login_mailboxes', 'failed_login_mailboxes'] as const;
export type Metric = (typeof METRICS)[number];

/** What each metric counts, for help texts and the sample config. */
export const METRIC_MEANING: Record<Metric, string> = {
  messages: 'messages accepted (`<=` lines; for a directory, the arrivals its `cwd=` lines led to)',
  recipients: 'recipients of those messages (every address after `for`)',
  unique_recipients: "distinct recipients (cPanel's outbound spam measure)",
  deferrals: 'temporary delivery failures (`==`, once per message and recipient), joined to the sender by message id',
  failures: 'permanent delivery failures (`**`), joined to the sender by message id',
  submissions: 'local submissions from a directory (`cwd=` lines of sendmail runs: PHP mail(), cron)',
  login_mailboxes: 'distinct mailboxes logged in as from one address (SMTP AUTH in the main log, IMAP/POP3 in the maillog)',
  failed_login_mailboxes: 'distinct mailboxes tried without success from one address (Exim authenticator failures, Dovecot auth failures)',
};

/** Distinct-value metrics; the others are counts. */
export const DISTINCT_METRICS: ReadonlySet<Metric> = new Set<Metric>(['unique_recipients', 'login_mailboxes', 'failed_login_mailboxes']);

const SENDING: Metric[] = ['messages', 'recipients', 'unique_recipients', 'deferrals', 'failures'];
/** Which metrics exist for which key. */
export const METRICS_OF: Record<WatchKeyKind, readonly Metric[]> = {
  sender: SENDING,
  auth_id: SENDING,
  account: [...SENDING, 'submissions'],
  directory: [...SENDING, 'submissions'],
  client_ip: ['messages', 'recipients', 'login_mailboxes', 'failed_login_mailboxes'],
};

/** The line an event came from, with what a response needs to know about it. */
export interface LineContext {
  time: number;
  line: string;
  inputs: Record<string, string>;
  /** An arrival's client address, whatever its class (private and loopback ones too). */
  ip?: string;
}

export type SignalSink = (kind: WatchKeyKind, key: string, metric: Metric, value: number | string, ctx: LineContext) => void;

/**
 * What classifies the addresses behind the keys (each arrival's own is in its LineContext):
 * this server's own (`I=`, Dovecot's `lip=`), and the addresses a mailbox's mail is read from
 * (Dovecot logins).
 */
export interface AddressObserver {
  server(ip: string): void;
  read(mailbox: string, ip: string, time: number): void;
}

/**
 * An accepted message, kept to attribute its later deferrals and failures: its time, the keys
 * that count them (`kind` NUL `key`, only kinds some rule counts failures for), then the
 * recipients already counted as deferred (Exim logs one `==` per attempt). A flat array: a
 * busy server accepts tens of thousands of messages in the hours this is kept.
 */
type Arrival = [time: number, keys: string[], deferred?: string[]];

export interface SignalDump {
  cwd: { path: string; time: string } | null;
  /** Message id → arrival, oldest first. */
  arrivals: [string, Arrival][];
  droppedArrivals: number;
}

/** System senders and users whose mail is the server's own. */
const SYSTEM_USERS = new Set(['root', 'mailnull', 'exim', 'debian-exim', 'mailman', 'cpanel', 'cpanelsolr']);

/** Year for the maillog's syslog dates: the main log's, else this one. */
function yearOf(latest: number | null): number {
  return latest === null ? new Date().getUTCFullYear() : new Date(latest * 1000).getUTCFullYear();
}

/**
 * Reads lines and calls the sink for each (key, metric) some rule needs. Arrivals are kept
 * for `joinSeconds` (at most `maxArrivals`, the oldest dropped first and counted) so that
 * deferrals and failures find their sender.
 */
export class SignalReader {
  readonly #needs: Map<WatchKeyKind, Set<Metric>>;
  readonly #sink: SignalSink;
  readonly #joinSeconds: number;
  readonly #maxArrivals: number;
  /** Kinds some rule counts deferrals or failures for. */
  readonly #joinKinds: Set<WatchKeyKind>;
  #cwd: { path: string; time: string } | null = null;
  #arrivals = new Map<string, Arrival>();
  /** Ids in arrival order (from `#head` on), to drop the oldest without walking the map. */
  #order: string[] = [];
  #head = 0;
  droppedArrivals = 0;
  /** Newest log time read (seconds). */
  latest: number | null = null;
  #timeText = '';
  #timeValue = 0;

  readonly #observer: AddressObserver | undefined;

  constructor(needs: Map<WatchKeyKind, Set<Metric>>, sink: SignalSink, options: { joinSeconds: number; maxArrivals: number; observer?: AddressObserver }) {
    this.#observer = options.observer;
    this.#needs = needs;
    this.#sink = sink;
    this.#joinSeconds = options.joinSeconds;
    this.#maxArrivals = options.maxArrivals;
    this.#joinKinds = new Set([...needs].filter(([, m]) => m.has('deferrals') || m.has('failures')).map(([k]) => k));
  }

  #seconds(text: string): number | null {
    if (text === this.#timeText) return this.#timeValue;
    const s = wallClockSeconds(text);
    if (s === null) return null;
    this.#timeText = text;
    this.#timeValue = s;
    if (this.latest === null || s > this.latest) this.latest = s;
    return s;
  }

  #emit(kind: WatchKeyKind, key: string, metric: Metric, value: number | string, ctx: LineContext): void {
    if (this.#needs.get(kind)?.has(metric) === true) this.#sink(kind, key, metric, value, ctx);
  }

  mainlogLine(line: string): void {
    // Most lines are deliveries and `Completed`: skip them before parsing.
    if (!(line.includes(' <= ') || line.includes(' cwd=') || line.includes(' == ') || line.includes(' ** ') || line.includes(' authenticator failed for '))) return;
    const l = classifyMainlogLine(line);
    if (l.kind === 'invalid') return;
    const time = this.#seconds(l.time);
    if (time === null) return;
    if (l.kind === 'cwd') {
      if (l.admin) return;
      // The arrival logged in the same second right after it is this run's message.
      this.#cwd = { path: l.cwd, time: l.time };
      const account = accountOf(l.cwd, undefined);
      if (account === null) return;
      const ctx: LineContext = { time, line, inputs: { directory: l.cwd, account } };
      this.#emit('directory', l.cwd, 'submissions', 1, ctx);
      this.#emit('account', account, 'submissions', 1, ctx);
    } else if (l.kind === 'arrival') {
      this.#arrival(l, time, line);
    } else if (l.kind === 'deferral' || l.kind === 'failure') {
      const a = this.#arrivals.get(l.id);
      if (a === undefined) return;
      const address = l.address.toLowerCase();
      if (l.kind === 'deferral') {
        if (a[2]?.includes(address) === true) return;
        (a[2] ??= []).push(address);
      }
      const keys = a[1].map((k) => k.split('\0') as [WatchKeyKind, string]);
      const inputs: Record<string, string> = {};
      for (const [kind, key] of keys) inputs[kind === 'client_ip' ? 'ip' : kind] = key;
      const ctx: LineContext = { time, line, inputs };
      const metric = l.kind === 'deferral' ? 'deferrals' : 'failures';
      for (const [kind, key] of keys) this.#emit(kind, key, metric, 1, ctx);
    } else if (l.kind === 'other') {
      const f = parseAuthFailure(l.text);
      const ip = f === null ? null : normalIp(f.ip);
      if (f === null || ip === null || !isPublicIp(ip)) return;
      this.#emit('client_ip', ip, 'failed_login_mailboxes', (f.setId ?? '').toLowerCase(), { time, line, inputs: { ip } });
    }
  }

  #arrival(a: ArrivalLine, time: number, line: string): void {
    const cwd = this.#cwd;
    this.#cwd = null;
    if (a.bounce) return;
    const ip = a.host?.ip != null ? normalIp(a.host.ip) : null;
    const publicIp = ip !== null && isPublicIp(ip);
    const authId = a.auth?.id ?? null;
    // Mail from other servers to this one: inbound, nobody here sent it.
    if (a.auth === null && publicIp) return;
    if (authId !== null && isServiceLogin(authId)) return;
    const sender = a.sender.toLowerCase();
    const local = a.host === null;
    const directory = local && cwd !== null && cwd.time === a.time ? cwd.path : null;
    const user = local && a.user !== null && !SYSTEM_USERS.has(a.user.toLowerCase()) ? a.user : null;
    const account = (directory !== null ? accountOf(directory, undefined) : null) ?? user;
    const inputs: Record<string, string> = { sender };
    if (authId !== null) inputs.auth_id = authId;
    if (account !== null) inputs.account = account;
    if (directory !== null) inputs.directory = directory;
    if (publicIp) inputs.ip = ip;
    const keys: [WatchKeyKind, string][] = [];
    const localPart = sender.slice(0, sender.lastIndexOf('@') < 0 ? sender.length : sender.lastIndexOf('@'));
    if (sender !== '' && !SYSTEM_USERS.has(localPart)) keys.push(['sender', sender]);
    if (authId !== null) keys.push(['auth_id', authId.toLowerCase()]);
    if (account !== null) keys.push(['account', account]);
    if (directory !== null) keys.push(['directory', directory]);
    if (inputs.ip !== undefined && authId !== null) keys.push(['client_ip', inputs.ip]);
    // One shape for every arrival's context (no spread): this runs for every `<=` line.
    const ctx: LineContext = { time, line, inputs, ip: ip ?? undefined };
    const own = a.interfaceIp !== null ? normalIp(a.interfaceIp) : null;
    if (own !== null) this.#observer?.server(own);
    for (const [kind, key] of keys) {
      this.#emit(kind, key, 'messages', 1, ctx);
      if (a.recipients.length > 0) this.#emit(kind, key, 'recipients', a.recipients.length, ctx);
      if (this.#needs.get(kind)?.has('unique_recipients') === true) for (const r of a.recipients) this.#emit(kind, key, 'unique_recipients', r.toLowerCase(), ctx);
    }
    if (inputs.ip !== undefined && authId !== null) this.#emit('client_ip', inputs.ip, 'login_mailboxes', authId.toLowerCase(), ctx);
    if (this.#joinKinds.size > 0) {
      const joined = keys.filter(([kind]) => this.#joinKinds.has(kind)).map(([kind, key]) => `${kind}\0${key}`);
      if (joined.length > 0) this.#remember(a.id, [time, joined]);
    }
  }

  #remember(id: string, arrival: Arrival): void {
    if (!this.#arrivals.has(id)) this.#order.push(id);
    this.#arrivals.set(id, arrival);
    const floor = arrival[0] - this.#joinSeconds;
    while (this.#head < this.#order.length) {
      const oldId = this.#order[this.#head]!;
      const old = this.#arrivals.get(oldId);
      if (old !== undefined && old[0] > floor && this.#arrivals.size <= this.#maxArrivals) break;
      this.#head++;
      if (old === undefined) continue;
      this.#arrivals.delete(oldId);
      if (old[0] > floor) this.droppedArrivals++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#order.length) {
      this.#order = this.#order.slice(this.#head);
      this.#head = 0;
    }
  }

  maillogLine(line: string): void {
    if (!line.includes('-login: ')) return;
    const year = yearOf(this.latest);
    const ok = line.includes('-login: Login: ');
    let parsed = ok ? parseDovecotLogin(line, year) : parseDovecotLoginFailure(line, year);
    if (parsed === null) return;
    // A December line read in January belongs to the year before.
    if (this.latest !== null && Number(parsed.time.slice(5, 7)) > new Date(this.latest * 1000).getUTCMonth() + 1) {
      parsed = ok ? parseDovecotLogin(line, year - 1) : parseDovecotLoginFailure(line, year - 1);
      if (parsed === null) return;
    }
    // Dovecot's local address is one of this server's, as Exim's I= is.
    const lip = / lip=([0-9A-Fa-f:.]+)/.exec(line);
    const own = lip === null ? null : normalIp(lip[1]!);
    if (own !== null) this.#observer?.server(own);
    if (isServiceLogin(parsed.user)) return;
    const time = this.#seconds(parsed.time);
    if (time === null) return;
    if (ok) {
      const ip = normalIp(parsed.ip);
      if (ip !== null) this.#observer?.read(parsed.user.toLowerCase(), ip, time);
    }
    if (!isPublicIp(parsed.ip)) return;
    this.#emit('client_ip', parsed.ip, ok ? 'login_mailboxes' : 'failed_login_mailboxes', parsed.user.toLowerCase(), { time, line, inputs: { ip: parsed.ip } });
  }

  dump(): SignalDump {
    return { cwd: this.#cwd, arrivals: [...this.#arrivals], droppedArrivals: this.droppedArrivals };
  }

  restore(d: SignalDump, latest: number | null): void {
    this.#cwd = d.cwd;
    this.#arrivals = new Map(d.arrivals);
    this.#order = d.arrivals.map(([id]) => id);
    this.#head = 0;
    this.droppedArrivals = d.droppedArrivals;
    this.latest = latest;
  }
}
