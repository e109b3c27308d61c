/**
 * Sliding windows over log time, one per (key, metric, window length). Each keeps a running
 * total, so adding an event and reading the count are O(1) amortised whatever the window
 * holds: a busy key (a newsletter, a spam run) costs no more per line than a quiet one.
 *
 * Times are whole seconds of log time (see wallClockSeconds); a window of W seconds ending at
 * t holds the events dated after t - W. An event older than the newest one already counted
 * (the main log and the maillog interleave imperfectly) is counted at the newest time. Pure:
 * no clock, no I/O; `dump`/`restore` give the state file its form.
 */

/** Counts per second, run-length: at most one entry per second with events in the window. */
export class CountWindow {
  readonly seconds: number;
  #times: number[] = [];
  #counts: number[] = [];
  #head = 0;
  #sum = 0;

  constructor(seconds: number) {
    this.seconds = seconds;
  }

  /** Adds `n` events at `time`; returns the count in the window ending then. */
  add(time: number, n = 1): number {
    const len = this.#times.length;
    const last = len > this.#head ? this.#times[len - 1]! : -Infinity;
    const t = time < last ? last : time;
    if (t === last) this.#counts[len - 1]! += n;
    else {
      this.#times.push(t);
      this.#counts.push(n);
    }
    this.#sum += n;
    this.evict(t);
    return this.#sum;
  }

  /** Drops what fell out of the window ending at `now`. */
  evict(now: number): void {
    const floor = now - this.seconds;
    while (this.#head < this.#times.length && this.#times[this.#head]! <= floor) {
      this.#sum -= this.#counts[this.#head]!;
      this.#head++;
    }
    if (this.#head > 64 && this.#head * 2 > this.#times.length) {
      this.#times = this.#times.slice(this.#head);
      this.#counts = this.#counts.slice(this.#head);
      this.#head = 0;
    }
  }

  get count(): number {
    return this.#sum;
  }

  /** Time of the oldest event still in the window, or null when empty. */
  get first(): number | null {
    return this.#head < this.#times.length ? this.#times[this.#head]! : null;
  }

  get empty(): boolean {
    return this.#head >= this.#times.length;
  }

  dump(): { t: number[]; c: number[] } {
    return { t: this.#times.slice(this.#head), c: this.#counts.slice(this.#head) };
  }

  static restore(seconds: number, d: { t: number[]; c: number[] }): CountWindow {
    const w = new CountWindow(seconds);
    for (let i = 0; i < d.t.length; i++) w.add(d.t[i]!, d.c[i]!);
    return w;
  }
}

/**
 * Distinct values (recipients, mailboxes) seen in the window. Holds each value once with its
 * latest time plus a queue of (value, time) in order; at most `cap` distinct values are kept,
 * the rest counted in `dropped` (the count is then a lower bound, which is all a threshold needs).
 */
export class DistinctWindow {
  readonly seconds: number;
  readonly cap: number;
  #values: string[] = [];
  #times: number[] = [];
  #head = 0;
  #latest = new Map<string, number>();
  #newest = -Infinity;
  dropped = 0;

  constructor(seconds: number, cap: number) {
    this.seconds = seconds;
    this.cap = cap;
  }

  /** Adds `value` seen at `time`; returns the distinct count in the window ending then. */
  add(time: number, value: string): number {
    const t = time < this.#newest ? this.#newest : time;
    this.#newest = t;
    const seen = this.#latest.get(value);
    if (seen !== t) {
      if (seen === undefined && this.#latest.size >= this.cap) this.dropped++;
      else {
        this.#latest.set(value, t);
        this.#values.push(value);
        this.#times.push(t);
      }
    }
    this.evict(t);
    return this.#latest.size;
  }

  evict(now: number): void {
    const floor = now - this.seconds;
    while (this.#head < this.#times.length && this.#times[this.#head]! <= floor) {
      const v = this.#values[this.#head]!;
      if ((this.#latest.get(v) ?? Infinity) <= this.#times[this.#head]!) this.#latest.delete(v);
      this.#head++;
    }
    if (this.#head > 64 && this.#head * 2 > this.#times.length) {
      this.#values = this.#values.slice(this.#head);
      this.#times = this.#times.slice(this.#head);
      this.#head = 0;
    }
  }

  get count(): number {
    return this.#latest.size;
  }

  get first(): number | null {
    return this.#head < this.#times.length ? this.#times[this.#head]! : null;
  }

  get empty(): boolean {
    return this.#head >= this.#times.length;
  }

  dump(): { v: string[]; t: number[]; d: number } {
    return { v: this.#values.slice(this.#head), t: this.#times.slice(this.#head), d: this.dropped };
  }

  static restore(seconds: number, cap: number, d: { v: string[]; t: number[]; d: number }): DistinctWindow {
    const w = new DistinctWindow(seconds, cap);
    for (let i = 0; i < d.v.length; i++) w.add(d.t[i]!, d.v[i]!);
    w.dropped = d.d;
    return w;
  }
}
