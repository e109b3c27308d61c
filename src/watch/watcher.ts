/**
 * One server's watcher: follows the Exim main log (and Dovecot's maillog when given), counts
 * what the rules read, and hands over the triggers. Reading is driven by file-system events
 * on the logs' directories (a slow fallback rescan may be configured for file systems without
 * them). The state (positions, windows, unanswered triggers) is saved before any trigger is
 * handed over, so a watcher killed at any point and started again neither repeats a trigger
 * nor skips a line; between triggers it is saved at most every `saveEverySeconds`.
 */
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { basename, dirname } from 'node:path';
import type { ProxyRanges } from '../investigate/proxies.js';
import type { AllowList } from '../investigate/verdict.js';
import { WatchCounters, type CounterStats } from './counters.js';
import { LogFollower, type FilePosition, type FollowNotice } from './follow.js';
import { compileRules, type RuleSpec } from './rules.js';
import { SignalReader } from './signals.js';
import { loadState, saveState, STATE_VERSION, type WatchState } from './state.js';
import type { Trigger } from './types.js';

export interface WatcherOptions {
  mainlog: string;
  maillog?: string;
  statePath: string;
  rules: RuleSpec[];
  allow?: AllowList;
  /** Where a log never read before starts: its end (default) or its first line. */
  startAt: 'end' | 'beginning';
  maxKeys: number;
  maxDistinct: number;
  /** How long an accepted message is remembered for its deferrals and failures, seconds. */
  joinSeconds: number;
  maxMessages: number;
  /** Save at most this often when nothing tripped (0: after every read). */
  saveEverySeconds: number;
  /** Read again this often without an event (0: events only). */
  rescanSeconds: number;
  /** This server's addresses, never blocked; default: its interfaces (the logs are this machine's). */
  serverIps?: string[];
  /** Proxy/CDN ranges, never blocked; default: the shipped Cloudflare list. */
  proxies?: ProxyRanges;
}

function interfaceAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
}

export interface Progress {
  file: string;
  offset: number;
  saved: boolean;
}

/** Evict idle windows once per this much log time. */
const EVICT_EVERY = 60;

export interface WatcherEvents {
  triggers: [Trigger[]];
  progress: [Progress[]];
  notice: [FollowNotice];
  error: [Error];
}

export class Watcher extends EventEmitter<WatcherEvents> {
  readonly options: WatcherOptions;
  readonly #counters: WatchCounters;
  readonly #signals: SignalReader;
  readonly #followers: { follower: LogFollower; line: (l: string) => void }[] = [];
  /** Triggers handed over and not yet answered, by id. */
  readonly #pending = new Map<string, Trigger>();
  #files: Record<string, FilePosition> = {};
  #lastEvict = -Infinity;
  #dirty = false;
  #lastSave = 0;
  #saveChain: Promise<void> = Promise.resolve();
  #draining: Promise<void> | null = null;
  #again = false;
  #watchers: FSWatcher[] = [];
  #timers: NodeJS.Timeout[] = [];
  #stopped = false;

  private constructor(options: WatcherOptions, state: WatchState | null) {
    super();
    this.options = options;
    const counters = new WatchCounters(compileRules(options.rules), { maxKeys: options.maxKeys, maxDistinct: options.maxDistinct }, options.allow, {
      serverIps: options.serverIps ?? interfaceAddresses(),
      ...(options.proxies !== undefined ? { proxies: options.proxies } : {}),
    });
    this.#counters = counters;
    this.#signals = new SignalReader(counters.needs, (kind, key, metric, value, ctx) => counters.add(kind, key, metric, value, ctx), {
      joinSeconds: options.joinSeconds,
      maxArrivals: options.maxMessages,
      observer: { server: (ip) => counters.serverAddress(ip), read: (mailbox, ip, time) => counters.readFrom(mailbox, ip, time) },
    });
    if (state !== null) {
      this.#counters.restore(state.counters);
      this.#signals.restore(state.signals, state.latest);
      this.#files = { ...state.files };
      for (const t of state.pending) this.#pending.set(t.id, t);
    }
    const notice = (n: FollowNotice): void => void this.emit('notice', n);
    const logs: [string, (l: string) => void][] = [[options.mainlog, (l) => this.#signals.mainlogLine(l)]];
    if (options.maillog !== undefined) logs.push([options.maillog, (l) => this.#signals.maillogLine(l)]);
    for (const [path, line] of logs) {
      this.#followers.push({ follower: new LogFollower(path, this.#files[path] ?? null, { startAt: options.startAt, notice }), line });
    }
  }

  /** Loads the saved state (a corrupt one throws StateError) and prepares the followers. */
  static async open(options: WatcherOptions): Promise<Watcher> {
    return new Watcher(options, await loadState(options.statePath));
  }

  /** Triggers a previous run handed over and never saw answered: to be handed over again. */
  get pending(): Trigger[] {
    return [...this.#pending.values()];
  }

  stats(): CounterStats & { droppedMessages: number } {
    return { ...this.#counters.stats(), droppedMessages: this.#signals.droppedArrivals };
  }

  /**
   * Reads everything appended since the last read, from every log. Triggers that fired are in
   * the saved state as pending before they are emitted (`triggers`, then `progress`) and returned.
   */
  async readAppended(): Promise<Trigger[]> {
    for (const { follower, line } of this.#followers) {
      await follower.drain((lines, position) => {
        for (const l of lines) if (l !== '') line(l);
        this.#files[follower.path] = position;
        this.#dirty = true;
        const latest = this.#signals.latest;
        if (latest !== null && latest - this.#lastEvict >= EVICT_EVERY) {
          this.#counters.evict(latest);
          this.#lastEvict = latest;
        }
      });
    }
    const fired = this.#counters.takeFired();
    for (const t of fired) this.#pending.set(t.id, t);
    const due = fired.length > 0 || this.options.saveEverySeconds === 0 || Date.now() - this.#lastSave >= this.options.saveEverySeconds * 1000;
    if (this.#dirty && due) await this.save();
    else if (this.#dirty) this.#saveLater();
    if (fired.length > 0) this.emit('triggers', fired);
    this.emit('progress', this.#followers.map(({ follower }) => ({ file: follower.path, offset: follower.position?.offset ?? 0, saved: !this.#dirty })));
    return fired;
  }

  /** A trigger was answered: it is not handed over again. */
  async settle(id: string): Promise<void> {
    if (!this.#pending.delete(id)) return;
    this.#dirty = true;
    await this.save();
  }

  /** A save waiting for the one under way: later requests join it (bursts of answers make one write). */
  #queuedSave: Promise<void> | null = null;

  async save(): Promise<void> {
    if (this.#queuedSave !== null) return this.#queuedSave;
    const run = async (): Promise<void> => {
      this.#queuedSave = null;
      const state: WatchState = {
        version: STATE_VERSION,
        files: { ...this.#files },
        latest: this.#signals.latest,
        signals: this.#signals.dump(),
        counters: this.#counters.dump(),
        pending: [...this.#pending.values()],
      };
      // Clean from the moment of the snapshot: what changes during the write dirties it again.
      this.#dirty = false;
      try {
        await saveState(this.options.statePath, state);
      } catch (error) {
        // Not written (a full disk): the file still holds the last state saved, and the next
        // save must write this one.
        this.#dirty = true;
        throw error;
      }
      this.#lastSave = Date.now();
    };
    this.#saveChain = this.#saveChain.then(run, run);
    this.#queuedSave = this.#saveChain;
    await this.#saveChain;
  }

  #saveTimer: NodeJS.Timeout | null = null;

  #saveLater(): void {
    if (this.#saveTimer !== null || this.#stopped) return;
    const wait = Math.max(0, this.options.saveEverySeconds * 1000 - (Date.now() - this.#lastSave));
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = null;
      if (this.#dirty && !this.#stopped) this.save().catch((e: unknown) => this.emit('error', e as Error));
    }, wait);
    this.#saveTimer.unref();
  }

  /** Reads now, or again right after the read under way. */
  #schedule(): void {
    if (this.#stopped) return;
    if (this.#draining !== null) {
      this.#again = true;
      return;
    }
    this.#draining = (async () => {
      try {
        do {
          this.#again = false;
          await this.readAppended();
        } while (this.#again && !this.#stopped);
      } catch (error) {
        this.emit('error', error as Error);
      } finally {
        this.#draining = null;
      }
    })();
  }

  /** Follows the logs until stop(): reads what is there, then on every change. */
  start(): void {
    const dirs = new Map<string, Set<string>>();
    for (const { follower } of this.#followers) {
      const names = dirs.get(dirname(follower.path)) ?? new Set<string>();
      names.add(basename(follower.path));
      dirs.set(dirname(follower.path), names);
    }
    for (const [dir, names] of dirs) {
      const w = watch(dir, { persistent: true }, (_event, name) => {
        // Rotated siblings (`exim_mainlog.1`) matter too: the rest of a renamed log is there.
        const n = name === null ? null : String(name);
        if (n === null || [...names].some((b) => n.startsWith(b))) this.#schedule();
      });
      w.on('error', (e) => this.emit('error', e));
      this.#watchers.push(w);
    }
    if (this.options.rescanSeconds > 0) this.#timers.push(setInterval(() => this.#schedule(), this.options.rescanSeconds * 1000));
    this.#schedule();
  }

  /** Stops following; the read under way finishes and the state is saved. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const w of this.#watchers) w.close();
    for (const t of this.#timers) clearInterval(t);
    if (this.#saveTimer !== null) clearTimeout(this.#saveTimer);
    await this.#draining;
    if (this.#dirty) await this.save();
    for (const { follower } of this.#followers) await follower.close();
  }
}
