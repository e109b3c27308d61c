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
  /** Open addressing, two cells per slot: id + 1 (0 = empty) and the key's hash. */
  #slots: Int32Array;
  #mask: number;
  /** Two cells per id: arena offset and length of the key's bytes. */
  #keys: Int32Array;
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
    this.#slots = new Int32Array(initialSlots * 2);
    this.#mask = initialSlots - 1;
    this.#keys = new Int32Array(initialSlots);
    this.counts = new Float64Array(initialSlots / 2);
    this.#arena = new Uint8Array(64 * 1024);
  }

  /** Id of buf[s, e), inserting it if new; -1 when the table is full. */
  id(buf: Uint8Array, s: number, e: number): number {
    const len = e - s;
    // Logs come in bursts (one spammer, one authenticator name): try the last key first.
    const last = this.#last;
    if (last >= 0 && this.#keys[(last << 1) + 1] === len) {
      const off = this.#keys[last << 1]!;
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
    const slots = this.#slots;
    let slot = h & mask;
    while (true) {
      const v = slots[slot << 1]!;
      if (v === 0) break;
      if (slots[(slot << 1) + 1] === h) {
        const id = v - 1;
        if (this.#keys[(id << 1) + 1] === len) {
          const off = this.#keys[id << 1]!;
          const arena = this.#arena;
          let i = 0;
          while (i < len && arena[off + i] === buf[s + i]) i++;
          if (i === len) return id;
        }
      }
      slot = (slot + 1) & mask;
    }
    if (this.size >= this.maxKeys) return -1;
    const id = this.size++;
    if ((id << 1) >= this.#keys.length) this.#growIds();
    if (this.#arenaUsed + len > this.#arena.length) {
      const bigger = new Uint8Array(Math.max(this.#arena.length * 2, this.#arenaUsed + len));
      bigger.set(this.#arena.subarray(0, this.#arenaUsed));
      this.#arena = bigger;
    }
    this.#arena.set(buf.subarray(s, e), this.#arenaUsed);
    this.#keys[id << 1] = this.#arenaUsed;
    this.#keys[(id << 1) + 1] = len;
    this.#arenaUsed += len;
    slots[slot << 1] = id + 1;
    slots[(slot << 1) + 1] = h;
    if (this.size * 2 > mask + 1) this.#rehash();
    return id;
  }

  /** The key as a string (UTF-8), made once. */
  key(id: number): string {
    let str = this.#strings[id];
    if (str === undefined) {
      str = Buffer.from(this.#arena.buffer, this.#arena.byteOffset + this.#keys[id << 1]!, this.#keys[(id << 1) + 1]!).toString('utf8');
      this.#strings[id] = str;
    }
    return str;
  }

  #growIds(): void {
    const keys = new Int32Array(this.#keys.length * 2);
    keys.set(this.#keys);
    this.#keys = keys;
    const counts = new Float64Array(this.counts.length * 2);
    counts.set(this.counts);
    this.counts = counts;
  }

  #rehash(): void {
    const old = this.#slots;
    const size = (this.#mask + 1) * 2;
    const slots = new Int32Array(size * 2);
    const mask = size - 1;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] === 0) continue;
      let slot = old[i + 1]! & mask;
      while (slots[slot << 1] !== 0) slot = (slot + 1) & mask;
      slots[slot << 1] = old[i]!;
      slots[(slot << 1) + 1] = old[i + 1]!;
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
  /**
   * Slot i is cells[4i .. 4i+3] = parent + 1 (0 = empty), child, count, unused: one cache
   * line per lookup instead of three, which matters once the table outgrows the caches.
   */
  #cells: Int32Array;
  #mask: number;
  size = 0;
  readonly maxPairs: number;
  /** Occurrences of pairs that did not fit. */
  dropped = 0;

  constructor(maxPairs: number, initialSlots = 4096) {
    this.maxPairs = maxPairs;
    this.#cells = new Int32Array(initialSlots * 4);
    this.#mask = initialSlots - 1;
  }

  add(parent: number, child: number, n = 1): void {
    const mask = this.#mask;
    const cells = this.#cells;
    let h = Math.imul(parent, 0x9e3779b1) ^ Math.imul(child + 0x7f4a7c15, 0x85ebca77);
    h ^= h >>> 15;
    let slot = h & mask;
    const p1 = parent + 1;
    while (true) {
      const at = slot << 2;
      const p = cells[at]!;
      if (p === 0) break;
      if (p === p1 && cells[at + 1] === child) {
        cells[at + 2]! += n;
        return;
      }
      slot = (slot + 1) & mask;
    }
    if (this.size >= this.maxPairs) {
      this.dropped += n;
      return;
    }
    const at = slot << 2;
    cells[at] = p1;
    cells[at + 1] = child;
    cells[at + 2] = n;
    this.size++;
    if (this.size * 2 > mask + 1) this.#grow();
  }

  /**
   * The heaviest `limit` children of every parent (count descending; ties by child id), as
   * parallel arrays per parent. A counting sort by parent: no object per pair.
   */
  topChildren(parents: number, limit: number): { children: Int32Array; counts: Float64Array; starts: Int32Array; ends: Int32Array } {
    const cells = this.#cells;
    const slots = this.#mask + 1;
    const per = new Int32Array(parents + 1);
    for (let i = 0; i < slots; i++) {
      const p = cells[i << 2]!;
      if (p !== 0 && p - 1 < parents) per[p]!++;
    }
    for (let p = 0; p < parents; p++) per[p + 1]! += per[p]!;
    const order = new Int32Array(per[parents]!);
    const fill = per.slice(0, parents);
    for (let i = 0; i < slots; i++) {
      const p = cells[i << 2]!;
      if (p !== 0 && p - 1 < parents) order[fill[p - 1]!++] = i;
    }
    const child = (slot: number): number => cells[(slot << 2) + 1]!;
    const count = (slot: number): number => cells[(slot << 2) + 2]!;
    const children = new Int32Array(order.length);
    const counts = new Float64Array(order.length);
    const starts = new Int32Array(parents);
    const ends = new Int32Array(parents);
    let out = 0;
    for (let p = 0; p < parents; p++) {
      const a = per[p]!;
      const b = per[p + 1]!;
      starts[p] = out;
      if (b - a <= limit) {
        for (let k = a; k < b; k++) {
          children[out] = child(order[k]!);
          counts[out++] = count(order[k]!);
        }
      } else {
        const range = Array.from(order.subarray(a, b));
        range.sort((x, y) => count(y) - count(x) || child(x) - child(y));
        for (let k = 0; k < limit; k++) {
          children[out] = child(range[k]!);
          counts[out++] = count(range[k]!);
        }
        for (let k = limit; k < range.length; k++) this.dropped += count(range[k]!);
      }
      ends[p] = out;
    }
    return { children, counts, starts, ends };
  }

  #grow(): void {
    const old = this.#cells;
    const slots = (this.#mask + 1) * 2;
    this.#cells = new Int32Array(slots * 4);
    this.#mask = slots - 1;
    this.size = 0;
    for (let at = 0; at < old.length; at += 4) if (old[at] !== 0) this.add(old[at]! - 1, old[at + 1]!, old[at + 2]!);
  }
}
