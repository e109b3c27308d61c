/**
 * The watcher's memory: a sliding window per (key, metric, window) that some rule reads, and
 * which rule already tripped for which key. Each event is counted, the rules reading it are
 * checked, and a trip becomes a Trigger once per key per quiet period (the rule's longest
 * window), in log time, so the same burst read twice (after a restart) trips once. Bounded:
 * windows drop what they no longer cover, idle keys are evicted, and past `maxKeys` new keys
 * are not counted (the number of events left out is kept, never hidden). Pure.
 */
import { createHash } from 'node:crypto';
import { checkedThenSent, fixedAddressClass } from '../investigate/address-class.js';
import { AddressSet, normalIp } from '../investigate/addresses.js';
import { proxyRanges, type ProxyRanges } from '../investigate/proxies.js';
import { allowedDirectory, allowedSender } from '../investigate/allow-list.js';
import type { AllowList } from '../investigate/verdict.js';
import { safeLine } from '../core/text.js';
import { formatWallClock } from '../parsers/log-time.js';
import { thresholdFor, type CompiledLimit, type CompiledRule } from './rules.js';
import { DISTINCT_METRICS, type LineContext, type Metric } from './signals.js';
import type { Trigger, TriggerAddress, WatchKeyKind } from './types.js';
import { CountWindow, DistinctWindow } from './windows.js';

/** Lines kept per key as evidence for its trigger. */
const EVIDENCE_LINES = 3;
const EVIDENCE_CHARS = 500;

/** Client addresses kept per key: the most recently seen win. */
const ADDRESSES_PER_KEY = 32;
/** Mailboxes whose readers are kept, and readers kept per mailbox. */
const READ_ADDRESSES_PER_MAILBOX = 16;
/** How long a mailbox's reading addresses are remembered (log time): the owner reads mail daily. */
const READ_MEMORY_SECONDS = 7 * 86_400;
/** This server's own addresses learnt from `I=`. */
const SERVER_ADDRESSES = 64;

type Series = CountWindow | DistinctWindow;
/** How often an address was seen, and its first and last log time. */
type Seen = [n: number, first: number, last: number];

interface KeyState {
  series: Map<string, Series>;
  recent: string[];
  /** Client addresses that sent as this key (sender, AUTH id, account), bounded. */
  addrs?: Map<string, Seen>;
  /** The line whose address was recorded last: one line emits several metrics. */
  addrCtx?: LineContext;
}

export interface CounterLimits {
  /** Keys counted at once, all kinds together. */
  maxKeys: number;
  /** Distinct values kept per distinct-count window. */
  maxDistinct: number;
}

/** What classifies the addresses behind a trigger besides the history the counters keep. */
export interface AddressSetting {
  /** This server's own addresses (its interfaces); `I=` addresses in the log are added. */
  serverIps?: string[];
  /** Proxy/CDN ranges never blocked; default: the shipped Cloudflare list. */
  proxies?: ProxyRanges;
}

export interface CounterStats {
  keys: number;
  /** Events not counted because `maxKeys` keys were already counted. */
  droppedEvents: number;
  /** Distinct values not kept because a window held `maxDistinct` already. */
  droppedValues: number;
  /** Events of allow-listed keys, not counted. */
  allowedEvents: number;
}

export interface CountersDump {
  keys: [string, { s: Record<string, unknown>; r: string[]; a?: [string, ...Seen][] }][];
  tripped: [string, number][];
  /** Mailbox → addresses its mail was read from. */
  readers?: [string, [string, ...Seen][]][];
  server?: string[];
  droppedEvents: number;
  allowedEvents: number;
}

const seriesId = (metric: Metric, seconds: number): string => `${metric}@${seconds}`;

export class WatchCounters {
  readonly #rules: CompiledRule[];
  readonly #limits: CounterLimits;
  /** kind → metric → the limits reading it. */
  readonly #readers = new Map<WatchKeyKind, Map<Metric, { rule: CompiledRule; limit: CompiledLimit }[]>>();
  /** kind → metric → window lengths counted. */
  readonly #windows = new Map<WatchKeyKind, Map<Metric, number[]>>();
  readonly #allow: AllowList | undefined;
  readonly #allowIps = new AddressSet();
  /** kind → key → its windows (no joined key strings: this is looked up for every event). */
  #keys = new Map<WatchKeyKind, Map<string, KeyState>>();
  #keyCount = 0;
  /** rule \0 kind \0 key → log time until which it does not trip again. */
  #tripped = new Map<string, number>();
  #fired: Trigger[] = [];
  /** kind → its longest window: how long its addresses are kept. */
  readonly #longest = new Map<WatchKeyKind, number>();
  readonly #configuredServer: Set<string>;
  /** This server's addresses: configured, and `I=` ones read (bounded). */
  #server = new Set<string>();
  readonly #proxies: ProxyRanges;
  /** Mailbox → address → reads; least recently touched mailbox first. */
  #mailReaders = new Map<string, Map<string, Seen>>();
  droppedEvents = 0;
  allowedEvents = 0;

  constructor(rules: CompiledRule[], limits: CounterLimits, allow?: AllowList, addressing: AddressSetting = {}) {
    this.#rules = rules;
    this.#limits = limits;
    this.#allow = allow;
    this.#allowIps.add(allow?.ips ?? []);
    this.#configuredServer = new Set((addressing.serverIps ?? []).map((ip) => normalIp(ip) ?? ip));
    this.#server = new Set(this.#configuredServer);
    this.#proxies = addressing.proxies ?? proxyRanges();
    for (const rule of rules) {
      for (const limit of rule.limits) {
        const kind = rule.spec.key;
        const readers = this.#readers.get(kind) ?? new Map<Metric, { rule: CompiledRule; limit: CompiledLimit }[]>();
        this.#readers.set(kind, readers);
        readers.set(limit.metric, [...(readers.get(limit.metric) ?? []), { rule, limit }]);
        const windows = this.#windows.get(kind) ?? new Map<Metric, number[]>();
        this.#windows.set(kind, windows);
        const w = windows.get(limit.metric) ?? [];
        if (!w.includes(limit.seconds)) w.push(limit.seconds);
        windows.set(limit.metric, w);
        this.#longest.set(kind, Math.max(this.#longest.get(kind) ?? 0, limit.seconds));
      }
    }
  }

  /** The (kind, metric) pairs the rules read: the signal reader emits only these. */
  get needs(): Map<WatchKeyKind, Set<Metric>> {
    return new Map([...this.#windows].map(([kind, m]) => [kind, new Set(m.keys())]));
  }

  #allowed(kind: WatchKeyKind, key: string): boolean {
    if (this.#allow === undefined) return false;
    if (kind === 'sender' || kind === 'auth_id') return allowedSender(key, this.#allow);
    if (kind === 'directory') return allowedDirectory(key, this.#allow);
    if (kind === 'client_ip') return this.#allowIps.has(key);
    return false;
  }

  /** Counts one event and checks the rules reading it. */
  add(kind: WatchKeyKind, key: string, metric: Metric, value: number | string, ctx: LineContext): void {
    const windows = this.#windows.get(kind)?.get(metric);
    if (windows === undefined) return;
    let ofKind = this.#keys.get(kind);
    if (ofKind === undefined) {
      ofKind = new Map();
      this.#keys.set(kind, ofKind);
    }
    let state = ofKind.get(key);
    if (state === undefined) {
      if (this.#allowed(kind, key)) {
        this.allowedEvents++;
        return;
      }
      if (this.#keyCount >= this.#limits.maxKeys) {
        this.droppedEvents++;
        return;
      }
      state = { series: new Map(), recent: [] };
      ofKind.set(key, state);
      this.#keyCount++;
    }
    // The submission's address, kept on the key (so bounded with the keys), once per line.
    if (ctx.ip !== undefined && state.addrCtx !== ctx && (kind === 'sender' || kind === 'auth_id' || kind === 'account')) {
      state.addrCtx = ctx;
      remember((state.addrs ??= new Map()), ctx.ip, ctx.time, ADDRESSES_PER_KEY, this.#longest.get(kind) ?? 0);
    }
    const distinct = DISTINCT_METRICS.has(metric);
    for (const seconds of windows) {
      const sid = seriesId(metric, seconds);
      let series = state.series.get(sid);
      if (series === undefined) {
        series = distinct ? new DistinctWindow(seconds, this.#limits.maxDistinct) : new CountWindow(seconds);
        state.series.set(sid, series);
      }
      if (distinct) (series as DistinctWindow).add(ctx.time, String(value));
      else (series as CountWindow).add(ctx.time, Number(value));
    }
    let keepLine = false;
    for (const { rule, limit } of this.#readers.get(kind)!.get(metric)!) {
      const series = state.series.get(seriesId(metric, limit.seconds))!;
      const threshold = thresholdFor(rule, limit, key);
      // Evidence is kept from half way to a threshold on: most keys never get there.
      if (threshold !== null && series.count * 2 >= threshold && !keepLine) {
        keepLine = true;
        if (state.recent[state.recent.length - 1] !== ctx.line) {
          state.recent.push(ctx.line.length > EVIDENCE_CHARS ? `${ctx.line.slice(0, EVIDENCE_CHARS)}…` : ctx.line);
          if (state.recent.length > EVIDENCE_LINES) state.recent.shift();
        }
      }
      if (threshold === null || series.count < threshold) continue;
      const tripKey = `${rule.spec.name}\0${kind}\0${key}`;
      const quietUntil = this.#tripped.get(tripKey);
      if (quietUntil !== undefined && ctx.time < quietUntil) continue;
      this.#tripped.set(tripKey, ctx.time + rule.quietSeconds);
      const addresses = kind === 'client_ip' || kind === 'directory' ? undefined : this.#classified(kind, key, state, ctx.time, limit.seconds, threshold);
      this.#fired.push(makeTrigger(rule, kind, key, limit, series.count, threshold, series.first ?? ctx.time, ctx, state.recent, addresses));
    }
  }

  /** `mailbox`'s mail was read from `ip` (a Dovecot login): evidence of its owner's places. */
  readFrom(mailbox: string, ip: string, time: number): void {
    let readers = this.#mailReaders.get(mailbox);
    if (readers === undefined) {
      readers = new Map();
      if (this.#mailReaders.size >= this.#limits.maxKeys) this.#mailReaders.delete(this.#mailReaders.keys().next().value!);
    } else {
      this.#mailReaders.delete(mailbox);
    }
    this.#mailReaders.set(mailbox, readers);
    remember(readers, ip, time, READ_ADDRESSES_PER_MAILBOX);
  }

  /** An address of this server (`I=` of an arrival). */
  serverAddress(ip: string): void {
    if (this.#server.has(ip) || this.#server.size >= SERVER_ADDRESSES + this.#configuredServer.size) return;
    this.#server.add(ip);
  }

  /**
   * The addresses that sent as `key` within the window ending at `time`, each classified:
   * this server's, private/reserved, proxy/CDN and allow-listed ones first (the verdict's
   * checks), then the mailbox's owner (its mail is read from there, beyond a check or two of
   * a stolen password by an address that then sent the burst itself), else the attacker's.
   */
  #classified(kind: WatchKeyKind, key: string, state: KeyState, time: number, seconds: number, threshold: number): TriggerAddress[] {
    const out: TriggerAddress[] = [];
    const readers = kind === 'account' ? undefined : this.#mailReaders.get(key);
    for (const [ip, [n, , last]] of state.addrs ?? []) {
      if (last < time - seconds || last > time) continue;
      const fixed = fixedAddressClass(ip, { server: this.#server, proxies: this.#proxies, allow: this.#allowIps });
      if (fixed !== null) {
        out.push({ ip, cls: fixed.cls, reason: fixed.reason, messages: n });
        continue;
      }
      const read = readers?.get(ip);
      const passwordCheck = read !== undefined && checkedThenSent(read[0], n * 2 >= threshold);
      if (read !== undefined && !passwordCheck) out.push({ ip, cls: 'owner', reason: `${key}'s mail is read from it (${read[0]} login${read[0] === 1 ? '' : 's'} over IMAP/POP3)`, messages: n });
      else out.push({ ip, cls: 'attacker', reason: passwordCheck ? `checked ${key}'s mailbox ${read[0]} time${read[0] === 1 ? '' : 's'}, then sent ${n} as it` : `sent ${n} as ${key} within the window`, messages: n });
    }
    return out.sort((a, b) => b.messages - a.messages || (a.ip < b.ip ? -1 : 1));
  }

  /** Triggers fired since the last call. */
  takeFired(): Trigger[] {
    const out = this.#fired;
    this.#fired = [];
    return out;
  }

  /** Drops what every window ending at `now` no longer covers, and keys left empty. */
  evict(now: number): void {
    for (const [kind, ofKind] of this.#keys) {
      for (const [key, state] of ofKind) {
        let empty = true;
        for (const s of state.series.values()) {
          s.evict(now);
          if (!s.empty) empty = false;
        }
        const keep = now - (this.#longest.get(kind as WatchKeyKind) ?? 0);
        if (state.addrs !== undefined) for (const [ip, seen] of state.addrs) if (seen[2] < keep) state.addrs.delete(ip);
        if (empty) {
          ofKind.delete(key);
          this.#keyCount--;
        }
      }
    }
    for (const [k, until] of this.#tripped) if (until <= now) this.#tripped.delete(k);
    for (const [mailbox, readers] of this.#mailReaders) {
      for (const [ip, seen] of readers) if (seen[2] < now - READ_MEMORY_SECONDS) readers.delete(ip);
      if (readers.size === 0) this.#mailReaders.delete(mailbox);
    }
  }

  stats(): CounterStats {
    let droppedValues = 0;
    for (const ofKind of this.#keys.values()) for (const state of ofKind.values()) for (const s of state.series.values()) if (s instanceof DistinctWindow) droppedValues += s.dropped;
    return { keys: this.#keyCount, droppedEvents: this.droppedEvents, droppedValues, allowedEvents: this.allowedEvents };
  }

  dump(): CountersDump {
    return {
      keys: [...this.#keys].flatMap(([kind, ofKind]) => [...ofKind].map(([key, state]): CountersDump['keys'][number] => [`${kind}\0${key}`, { s: Object.fromEntries([...state.series].map(([sid, s]) => [sid, s.dump()])), r: state.recent, ...(state.addrs !== undefined && state.addrs.size > 0 ? { a: dumpSeen(state.addrs) } : {}) }])),
      tripped: [...this.#tripped],
      readers: [...this.#mailReaders].map(([mailbox, readers]) => [mailbox, dumpSeen(readers)]),
      server: [...this.#server].filter((ip) => !this.#configuredServer.has(ip)),
      droppedEvents: this.droppedEvents,
      allowedEvents: this.allowedEvents,
    };
  }

  /** Restores a dump; series no rule reads any more (the config changed) are left out. */
  restore(d: CountersDump): void {
    this.#keys = new Map();
    this.#keyCount = 0;
    for (const [id, { s, r, a }] of d.keys) {
      const kind = id.slice(0, id.indexOf('\0')) as WatchKeyKind;
      const key = id.slice(id.indexOf('\0') + 1);
      const series = new Map<string, Series>();
      for (const [sid, dump] of Object.entries(s)) {
        const at = sid.lastIndexOf('@');
        const metric = sid.slice(0, at) as Metric;
        const seconds = Number(sid.slice(at + 1));
        if (!(this.#windows.get(kind)?.get(metric)?.includes(seconds) ?? false)) continue;
        series.set(sid, DISTINCT_METRICS.has(metric)
          ? DistinctWindow.restore(seconds, this.#limits.maxDistinct, dump as { v: string[]; t: number[]; d: number })
          : CountWindow.restore(seconds, dump as { t: number[]; c: number[] }));
      }
      if (series.size === 0) continue;
      const ofKind = this.#keys.get(kind) ?? new Map<string, KeyState>();
      this.#keys.set(kind, ofKind);
      ofKind.set(key, { series, recent: r, ...(a !== undefined ? { addrs: new Map(a.map(([ip, ...seen]) => [ip, seen])) } : {}) });
      this.#keyCount++;
    }
    this.#tripped = new Map(d.tripped);
    this.#mailReaders = new Map((d.readers ?? []).map(([mailbox, readers]) => [mailbox, new Map(readers.map(([ip, ...seen]) => [ip, seen]))]));
    this.#server = new Set([...this.#configuredServer, ...(d.server ?? []).slice(0, SERVER_ADDRESSES)]);
    this.droppedEvents = d.droppedEvents;
    this.allowedEvents = d.allowedEvents;
  }
}

const iso = (seconds: number): string => formatWallClock(seconds).replace(' ', 'T');

/**
 * Counts `ip` in `map`. `horizon` (seconds): the count starts again once its first line is that
 * old, so it never covers more than the longest window (an owner's steady mail over days is not
 * a burst); without it (the reads of a mailbox) it counts for as long as the address is kept.
 */
function remember(map: Map<string, Seen>, ip: string, time: number, max: number, horizon = Infinity): void {
  const seen = map.get(ip);
  if (seen !== undefined) {
    if (time - seen[1] >= horizon) {
      seen[0] = 1;
      seen[1] = time;
      seen[2] = time;
      return;
    }
    seen[0]++;
    if (time > seen[2]) seen[2] = time;
    return;
  }
  if (map.size >= max) {
    // Full: the address seen longest ago makes room.
    let oldest: string | null = null;
    let at = Infinity;
    for (const [other, s] of map) if (s[2] < at) [oldest, at] = [other, s[2]];
    if (oldest !== null) map.delete(oldest);
  }
  map.set(ip, [1, time, time]);
}

const dumpSeen = (map: Map<string, Seen>): [string, ...Seen][] => [...map].map(([ip, s]) => [ip, ...s]);

function makeTrigger(rule: CompiledRule, kind: WatchKeyKind, key: string, limit: CompiledLimit, value: number, threshold: number, first: number, ctx: LineContext, recent: string[], addresses: TriggerAddress[] | undefined): Trigger {
  const trippedAt = iso(ctx.time);
  const digest = createHash('sha256').update(`${rule.spec.name}\0${kind}\0${key}\0${trippedAt}`).digest('hex').slice(0, 16);
  const inputs: Record<string, string> = { ...ctx.inputs };
  if (kind === 'client_ip') inputs.ip = key;
  else inputs[kind] = key;
  if (addresses !== undefined) {
    // What is blocked is what the window shows sent as the key, not just the tripping line's address.
    delete inputs.ip;
    const attackers = addresses.filter((a) => a.cls === 'attacker').map((a) => a.ip);
    if (attackers.length > 0) inputs.ips = attackers.join(',');
  }
  return {
    id: `${rule.spec.name}-${digest}`,
    rule: rule.spec.name,
    key: { kind, value: key },
    observed: { metric: limit.metric, value, threshold, windowSeconds: limit.seconds },
    firstSeen: iso(first),
    trippedAt,
    evidence: recent.map((l) => safeLine(l)),
    ...(addresses !== undefined && addresses.length > 0 ? { addresses } : {}),
    inputs,
  };
}
