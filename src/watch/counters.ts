/**
 * The watcher's memory: a sliding window per (key, metric, window) that some rule reads, and
 * which rule already tripped for which key. Each event is counted, the rules reading it are
 * checked, and a trip becomes a Trigger once per key per quiet period (the rule's longest
 * window), in log time, so the same burst read twice (after a restart) trips once. Bounded:
 * windows drop what they no longer cover, idle keys are evicted, and past `maxKeys` new keys
 * are not counted (the number of events left out is kept, never hidden). Pure.
 */
import { createHash } from 'node:crypto';
import { AddressSet } from '../investigate/addresses.js';
import { allowedDirectory, allowedSender } from '../investigate/allow-list.js';
import type { AllowList } from '../investigate/verdict.js';
import { safeLine } from '../core/text.js';
import { formatWallClock } from '../parsers/log-time.js';
import { thresholdFor, type CompiledLimit, type CompiledRule } from './rules.js';
import { DISTINCT_METRICS, type LineContext, type Metric } from './signals.js';
import type { Trigger, WatchKeyKind } from './types.js';
import { CountWindow, DistinctWindow } from './windows.js';

/** Lines kept per key as evidence for its trigger. */
const EVIDENCE_LINES = 3;
const EVIDENCE_CHARS = 500;

type Series = CountWindow | DistinctWindow;

interface KeyState {
  series: Map<string, Series>;
  recent: string[];
}

export interface CounterLimits {
  /** Keys counted at once, all kinds together. */
  maxKeys: number;
  /** Distinct values kept per distinct-count window. */
  maxDistinct: number;
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
  keys: [string, { s: Record<string, unknown>; r: string[] }][];
  tripped: [string, number][];
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
  droppedEvents = 0;
  allowedEvents = 0;

  constructor(rules: CompiledRule[], limits: CounterLimits, allow?: AllowList) {
    this.#rules = rules;
    this.#limits = limits;
    this.#allow = allow;
    this.#allowIps.add(allow?.ips ?? []);
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
      this.#fired.push(makeTrigger(rule, kind, key, limit, series.count, threshold, series.first ?? ctx.time, ctx, state.recent));
    }
  }

  /** Triggers fired since the last call. */
  takeFired(): Trigger[] {
    const out = this.#fired;
    this.#fired = [];
    return out;
  }

  /** Drops what every window ending at `now` no longer covers, and keys left empty. */
  evict(now: number): void {
    for (const ofKind of this.#keys.values()) {
      for (const [key, state] of ofKind) {
        let empty = true;
        for (const s of state.series.values()) {
          s.evict(now);
          if (!s.empty) empty = false;
        }
        if (empty) {
          ofKind.delete(key);
          this.#keyCount--;
        }
      }
    }
    for (const [k, until] of this.#tripped) if (until <= now) this.#tripped.delete(k);
  }

  stats(): CounterStats {
    let droppedValues = 0;
    for (const ofKind of this.#keys.values()) for (const state of ofKind.values()) for (const s of state.series.values()) if (s instanceof DistinctWindow) droppedValues += s.dropped;
    return { keys: this.#keyCount, droppedEvents: this.droppedEvents, droppedValues, allowedEvents: this.allowedEvents };
  }

  dump(): CountersDump {
    return {
      keys: [...this.#keys].flatMap(([kind, ofKind]) => [...ofKind].map(([key, state]): CountersDump['keys'][number] => [`${kind}\0${key}`, { s: Object.fromEntries([...state.series].map(([sid, s]) => [sid, s.dump()])), r: state.recent }])),
      tripped: [...this.#tripped],
      droppedEvents: this.droppedEvents,
      allowedEvents: this.allowedEvents,
    };
  }

  /** Restores a dump; series no rule reads any more (the config changed) are left out. */
  restore(d: CountersDump): void {
    this.#keys = new Map();
    this.#keyCount = 0;
    for (const [id, { s, r }] of d.keys) {
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
      ofKind.set(key, { series, recent: r });
      this.#keyCount++;
    }
    this.#tripped = new Map(d.tripped);
    this.droppedEvents = d.droppedEvents;
    this.allowedEvents = d.allowedEvents;
  }
}

const iso = (seconds: number): string => formatWallClock(seconds).replace(' ', 'T');

function makeTrigger(rule: CompiledRule, kind: WatchKeyKind, key: string, limit: CompiledLimit, value: number, threshold: number, first: number, ctx: LineContext, recent: string[]): Trigger {
  const trippedAt = iso(ctx.time);
  const digest = createHash('sha256').update(`${rule.spec.name}\0${kind}\0${key}\0${trippedAt}`).digest('hex').slice(0, 16);
  const inputs: Record<string, string> = { ...ctx.inputs };
  if (kind === 'client_ip') inputs.ip = key;
  else inputs[kind] = key;
  return {
    id: `${rule.spec.name}-${digest}`,
    rule: rule.spec.name,
    key: { kind, value: key },
    observed: { metric: limit.metric, value, threshold, windowSeconds: limit.seconds },
    firstSeen: iso(first),
    trippedAt,
    evidence: recent.map((l) => safeLine(l)),
    inputs,
  };
}
