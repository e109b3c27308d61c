/**
 * Interning of byte strings for the log scanner: a key seen before is found by hashing and
 * comparing its bytes in place, so the hot path makes no JS string and no Map<string> lookup
 * for it. Strings are made once per distinct key, when results are read.
 */

/** FNV-1a over buf[s, e). */
export function hashBytes(buf: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5;
  for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h | 0;
}

export class ByteTable {
  /** Open addressing: slot → id + 1 (0 = empty). */
  #slots: Int32Array;
  #mask: number;
  #hashes: Int32Array;
  #offsets: Int32Array;
  #lengths: Int32Array;
  #arena: Uint8Array;
  #arenaUsed = 0;
  #strings: (string | undefined)[] = [];
  #last = -1;
  size = 0;
  readonly maxKeys: number;
  /** Per-id counter, grown with the table. */
  counts: Float64Array;

  constructor(maxKeys: number, initialSlots = 1024) {
    this.maxKeys = maxKeys;
    this.#slots = new Int32Array(initialSlots);
    this.#mask = initialSlots - 1;
    this.#hashes = new Int32Array(initialSlots / 2);
    this.#offsets = new Int32Array(initialSlots / 2);
    this.#lengths = new Int32Array(initialSlots / 2);
    this.counts = new Float64Array(initialSlots / 2);
    this.#arena = new Uint8Array(64 * 1024);
  }

  /** Id of buf[s, e), inserting it if new; -1 when the table is full. */
  id(buf: Uint8Array, s: number, e: number): number {
    const len = e - s;
    // Logs come in bursts (one spammer, one authenticator name): try the last key first.
    const last = this.#last;
    if (last >= 0 && this.#lengths[last] === len) {
      const off = this.#offsets[last]!;
      const arena = this.#arena;
      let i = 0;
      while (i < len && arena[off + i] === buf[s + i]) i++;
      if (i === len) return last;
    }
    const id = this.#find(buf, s, e, len);
    if (id >= 0) this.#last = id;
    return id;
  }

  #find(buf: Uint8Array, s: number, e: number, len: number): number {
    const h = hashBytes(buf, s, e);
    const mask = this.#mask;
    let slot = h & mask;
    while (true) {
      const v = this.#slots[slot]!;
      if (v === 0) break;
      const id = v - 1;
      if (this.#hashes[id] === h && this.#lengths[id] === len) {
        const off = this.#offsets[id]!;
        const arena = this.#arena;
        let i = 0;
        while (i < len && arena[off + i] === buf[s + i]) i++;
        if (i === len) return id;
      }
      slot = (slot + 1) & mask;
    }
    if (this.size >= this.maxKeys) return -1;
    const id = this.size++;
    if (id >= this.#hashes.length) this.#growIds();
    if (this.#arenaUsed + len > this.#arena.length) {
      const bigger = new Uint8Array(Math.max(this.#arena.length * 2, this.#arenaUsed + len));
      bigger.set(this.#arena.subarray(0, this.#arenaUsed));
      this.#arena = bigger;
    }
    this.#arena.set(buf.subarray(s, e), this.#arenaUsed);
    this.#hashes[id] = h;
    this.#offsets[id] = this.#arenaUsed;
    this.#lengths[id] = len;
    this.#arenaUsed += len;
    this.#slots[slot] = id + 1;
    if (this.size * 2 > this.#slots.length) this.#rehash();
    return id;
  }

  /** The key as a string (UTF-8), made once. */
  key(id: number): string {
    let s = this.#strings[id];
    if (s === undefined) {
      s = Buffer.from(this.#arena.buffer, this.#arena.byteOffset + this.#offsets[id]!, this.#lengths[id]!).toString('utf8');
      this.#strings[id] = s;
    }
    return s;
  }

  #growIds(): void {
    const n = this.#hashes.length * 2;
    const grow = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.#hashes = grow(this.#hashes, (k) => new Int32Array(k));
    this.#offsets = grow(this.#offsets, (k) => new Int32Array(k));
    this.#lengths = grow(this.#lengths, (k) => new Int32Array(k));
    this.counts = grow(this.counts, (k) => new Float64Array(k));
  }

  #rehash(): void {
    const slots = new Int32Array(this.#slots.length * 2);
    const mask = slots.length - 1;
    for (let id = 0; id < this.size; id++) {
      let slot = this.#hashes[id]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = id + 1;
    }
    this.#slots = slots;
    this.#mask = mask;
  }
}

/**
 * Counts of (parent id, child id) pairs (sender → ip, subject → sender, ...) in one
 * open-addressing table of typed arrays: no allocation per pair, no per-parent Map. Memory is
 * bounded by `maxPairs`; pairs first seen after that are dropped (and counted as dropped), so
 * counts stay exact for every pair that is kept.
 */
export class PairCounts {
  #parents: Int32Array;
  #children: Int32Array;
  /** 0 marks an empty slot (every stored count is at least 1). */
  #counts: Float64Array;
  #mask: number;
  size = 0;
  readonly maxPairs: number;
  /** Occurrences of pairs that did not fit. */
  dropped = 0;

  constructor(maxPairs: number, initialSlots = 4096) {
    this.maxPairs = maxPairs;
    this.#parents = new Int32Array(initialSlots);
    this.#children = new Int32Array(initialSlots);
    this.#counts = new Float64Array(initialSlots);
    this.#mask = initialSlots - 1;
  }

  add(parent: number, child: number, n = 1): void {
    const mask = this.#mask;
    let h = Math.imul(parent, 0x9e3779b1) ^ Math.imul(child + 0x7f4a7c15, 0x85ebca77);
    h ^= h >>> 15;
    let slot = h & mask;
    const counts = this.#counts;
    while (true) {
      const c = counts[slot]!;
      if (c === 0) break;
      if (this.#parents[slot] === parent && this.#children[slot] === child) {
        counts[slot] = c + n;
        return;
      }
      slot = (slot + 1) & mask;
    }
    if (this.size >= this.maxPairs) {
      this.dropped += n;
      return;
    }
    this.#parents[slot] = parent;
    this.#children[slot] = child;
    counts[slot] = n;
    this.size++;
    if (this.size * 2 > counts.length) this.#grow();
  }

  /**
   * The heaviest `limit` children of every parent (count descending; ties by child id), as
   * parallel arrays per parent. A counting sort by parent: no object per pair.
   */
  topChildren(parents: number, limit: number): { children: Int32Array; counts: Float64Array; starts: Int32Array; ends: Int32Array } {
    const slots = this.#counts.length;
    const per = new Int32Array(parents + 1);
    for (let i = 0; i < slots; i++) if (this.#counts[i] !== 0) per[this.#parents[i]! + 1]!++;
    for (let p = 0; p < parents; p++) per[p + 1]! += per[p]!;
    const order = new Int32Array(this.size);
    const fill = per.slice(0, parents);
    for (let i = 0; i < slots; i++) if (this.#counts[i] !== 0) order[fill[this.#parents[i]!]!++] = i;
    const children = new Int32Array(this.size);
    const counts = new Float64Array(this.size);
    const starts = new Int32Array(parents);
    const ends = new Int32Array(parents);
    let out = 0;
    for (let p = 0; p < parents; p++) {
      const a = per[p]!;
      const b = per[p + 1]!;
      starts[p] = out;
      if (b - a <= limit) {
        for (let k = a; k < b; k++) {
          children[out] = this.#children[order[k]!]!;
          counts[out++] = this.#counts[order[k]!]!;
        }
      } else {
        const range = Array.from(order.subarray(a, b));
        range.sort((x, y) => this.#counts[y]! - this.#counts[x]! || this.#children[x]! - this.#children[y]!);
        for (let k = 0; k < limit; k++) {
          children[out] = this.#children[range[k]!]!;
          counts[out++] = this.#counts[range[k]!]!;
        }
        for (let k = limit; k < range.length; k++) this.dropped += this.#counts[range[k]!]!;
      }
      ends[p] = out;
    }
    return { children, counts, starts, ends };
  }

  #grow(): void {
    const oldP = this.#parents;
    const oldC = this.#children;
    const oldN = this.#counts;
    const size = oldN.length * 2;
    this.#parents = new Int32Array(size);
    this.#children = new Int32Array(size);
    this.#counts = new Float64Array(size);
    this.#mask = size - 1;
    this.size = 0;
    for (let i = 0; i < oldN.length; i++) if (oldN[i]! !== 0) this.add(oldP[i]!, oldC[i]!, oldN[i]!);
  }
}
