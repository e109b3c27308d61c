/**
 * The main-log kernel's history filter (src/parsers/wasm/history.ts): the lines of a main log
 * that hold ` <= ` and one of many fixed strings, with their arrival fields already found, so
 * that the activity collector (src/investigate/activity.ts) makes strings of those fields only.
 * No I/O: the caller reads the log into `input` (src/investigate/activity-read.ts).
 */
import { unescapeSubject } from './exim-mainlog.js';
import { createHistoryKernel, type KernelExports } from './mainlog-kernel.js';

/** Record flags (see historyFeed in the kernel). */
export const HISTORY = { arrival: 1, ip: 2, authId: 4, subject: 8, recipients: 16, interface: 32 } as const;
const WORDS = 20;

/**
 * Strings of the values the kernel interned, by field and id, made once each: most lines of a
 * flagged sender repeat its sender, AUTH id, address and interface. One per filter (the ids are
 * that kernel's).
 */
export class ValueStrings {
  readonly text: (string | undefined)[][] = [[], [], [], [], []];
  readonly lists: (string[] | undefined)[] = [];
  /** The same lists lower-cased, as the collector counts distinct recipients. */
  readonly lowerLists: (string[] | undefined)[] = [];
}

/** The records of one batch, read one at a time (views valid until the filter is fed again). */
export class HistoryRecords {
  readonly count: number;
  readonly #words: Uint32Array;
  readonly #ids: Int32Array;
  readonly #input: Buffer;
  readonly #values: ValueStrings;
  #at = 0;

  constructor(words: Uint32Array, input: Buffer, values: ValueStrings) {
    this.count = words.length / WORDS;
    this.#words = words;
    this.#ids = new Int32Array(words.buffer, words.byteOffset, words.length);
    this.#input = input;
    this.#values = values;
  }

  /** Make record `k` the current one. */
  select(k: number): void {
    this.#at = k * WORDS;
  }

  #word(i: number): number {
    return this.#words[this.#at + i]!;
  }

  #text(from: number, to: number): string {
    return this.#input.toString('utf8', this.#word(from), this.#word(to));
  }

  /** Field `v`'s text at words [from, to), from the strings made before when it has an id (word `idAt`). */
  #value(v: number, idAt: number, from: number, to: number): string {
    const id = this.#ids[this.#at + idAt]!;
    if (id < 0) return this.#text(from, to);
    const known = this.#values.text[v]!;
    return (known[id] ??= this.#text(from, to));
  }

  get flags(): number {
    return this.#word(2);
  }

  /** The whole line (its bytes as UTF-8, as a line reader would give it). */
  line(): string {
    return this.#text(0, 1);
  }

  /** The `I=[..]` address after the first ` <= `, as logged (flag `interface`). */
  interfaceText(): string {
    return this.#value(3, 17, 12, 13);
  }

  /** The line's leading `YYYY-MM-DD HH:MM:SS` (arrivals). */
  time(): string {
    const s = this.#word(0);
    return this.#input.toString('latin1', s, s + 19);
  }

  /**
   * Minutes east of UTC of the offset after the time (`+0100`, after `.ddd` with +millisec:
   * Exim's log_timezone), or null when the line has none. Read from the bytes, no string made.
   */
  offset(): number | null {
    const b = this.#input;
    let i = this.#word(0) + 19;
    if (b[i] === 0x2e) do i++; while (b[i]! >= 0x30 && b[i]! <= 0x39);
    if (b[i] !== 0x20 || (b[i + 1] !== 0x2b && b[i + 1] !== 0x2d) || b[i + 6] !== 0x20) return null;
    let n = 0;
    for (let k = 2; k <= 5; k++) {
      const d = b[i + k]! - 0x30;
      if (d < 0 || d > 9) return null;
      n = n * 10 + d;
    }
    const minutes = Math.floor(n / 100) * 60 + (n % 100);
    return b[i + 1] === 0x2d ? -minutes : minutes;
  }

  sender(): string {
    return this.#value(0, 14, 3, 4);
  }

  /** The client address of `H=` as logged, or null. */
  ip(): string | null {
    return (this.flags & HISTORY.ip) !== 0 ? this.#value(2, 16, 5, 6) : null;
  }

  /** The AUTH id, or '' when the arrival was not authenticated or logged none. */
  authId(): string {
    return (this.flags & HISTORY.authId) !== 0 ? this.#value(1, 15, 7, 8) : '';
  }

  /** `T="..."` unescaped, or null. */
  subject(): string | null {
    return (this.flags & HISTORY.subject) !== 0 ? unescapeSubject(this.#text(9, 10)) : null;
  }

  /** The recipients (one array per distinct list: treat as read-only). */
  recipients(): string[] {
    if ((this.flags & HISTORY.recipients) === 0) return [];
    const split = (): string[] => this.#input.toString('utf8', this.#word(11), this.#word(1)).split(' ').filter((r) => r !== '');
    const id = this.#ids[this.#at + 18]!;
    if (id < 0) return split();
    return (this.#values.lists[id] ??= split());
  }

  /** The id of the recipient list among those interned, or -1 (none, or it did not fit). */
  recipientsId(): number {
    return (this.flags & HISTORY.recipients) === 0 ? -1 : this.#ids[this.#at + 18]!;
  }

  /** The recipients lower-cased (made once per distinct list: treat as read-only). */
  lowerRecipients(): string[] {
    const id = (this.flags & HISTORY.recipients) === 0 ? -1 : this.#ids[this.#at + 18]!;
    if (id < 0) return this.recipients().map((r) => r.toLowerCase());
    return (this.#values.lowerLists[id] ??= this.recipients().map((r) => r.toLowerCase()));
  }
}

/** One filter per log read; its memory goes with it. */
export class MainlogHistoryFilter {
  readonly #kernel: KernelExports;
  readonly #values = new ValueStrings();
  /** No needle: no line can match. */
  readonly empty: boolean;

  constructor(needles: Iterable<string>) {
    this.#kernel = createHistoryKernel();
    const bytes = [...new Set([...needles].filter((n) => n !== ''))].map((n) => Buffer.from(n));
    this.empty = bytes.length === 0;
    // The kernel wants the needles shorter than 4 bytes first.
    bytes.sort((a, b) => Number(a.length >= 4) - Number(b.length >= 4));
    const total = bytes.reduce((n, b) => n + b.length, 0);
    const k = this.#kernel;
    const at = k.alloc(total);
    const lensAt = k.alloc(bytes.length * 4);
    const all = Buffer.from(k.memory.buffer, at, total);
    let off = 0;
    for (const b of bytes) off += b.copy(all, off);
    new Uint32Array(k.memory.buffer, lensAt, bytes.length).set(bytes.map((b) => b.length));
    k.historyNeedles(at, lensAt, bytes.length);
    k.release(at);
    k.release(lensAt);
  }

  /** The input area, at least `size` bytes; bytes already there are kept when it grows. */
  input(size: number): Buffer {
    const at = this.#kernel.inputBuffer(size);
    return Buffer.from(this.#kernel.memory.buffer, at, size);
  }

  /** Filter the complete lines of input[start, end) (a final line without `\n` is fine). */
  feed(start: number, end: number): HistoryRecords {
    const k = this.#kernel;
    if (end <= start || this.empty) return new HistoryRecords(new Uint32Array(0), Buffer.alloc(0), this.#values);
    this.input(end);
    const n = k.historyFeed(start, end);
    const input = this.input(end);
    return new HistoryRecords(new Uint32Array(k.memory.buffer, k.historyRecords(), n * WORDS), input, this.#values);
  }
}
