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
    const h = hashBytes(buf, s, e);
    const len = e - s;
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
 * Counts of child ids per parent id (sender → ip, ...). The first child is kept inline;
 * more go to a small Map with integer keys. A parent reaching `max` children is pruned to
 * its top half, keeping memory bounded while heavy hitters stay.
 */
export class PairCounts {
  #first: Int32Array = new Int32Array(256).fill(-1);
  #firstCount: Float64Array = new Float64Array(256);
  #more: (Map<number, number> | undefined)[] = [];
  readonly max: number;
  /** Occurrences lost to pruning. */
  dropped = 0;

  constructor(max: number) {
    this.max = max;
  }

  add(parent: number, child: number, n = 1): void {
    if (parent >= this.#first.length) this.#grow(parent);
    const f = this.#first[parent]!;
    if (f === -1) {
      this.#first[parent] = child;
      this.#firstCount[parent] = n;
      return;
    }
    if (f === child) {
      this.#firstCount[parent]! += n;
      return;
    }
    let m = this.#more[parent];
    if (m === undefined) {
      m = new Map();
      this.#more[parent] = m;
    }
    const cur = m.get(child);
    if (cur !== undefined) {
      m.set(child, cur + n);
      return;
    }
    m.set(child, n);
    if (m.size + 1 >= this.max) this.#prune(parent);
  }

  /** All children of a parent with counts. */
  entries(parent: number): [number, number][] {
    const out: [number, number][] = [];
    if (parent < this.#first.length && this.#first[parent] !== -1) out.push([this.#first[parent]!, this.#firstCount[parent]!]);
    const m = this.#more[parent];
    if (m !== undefined) for (const e of m) out.push(e);
    return out;
  }

  #prune(parent: number): void {
    // Ties are broken by child id (first-seen order): cheap, and deterministic for one input.
    const all = this.entries(parent).sort((x, y) => y[1] - x[1] || x[0] - y[0]);
    const keep = all.slice(0, Math.max(1, Math.floor(this.max / 2)));
    for (let i = keep.length; i < all.length; i++) this.dropped += all[i]![1];
    this.#first[parent] = keep[0]![0];
    this.#firstCount[parent] = keep[0]![1];
    this.#more[parent] = new Map(keep.slice(1));
  }

  #grow(parent: number): void {
    let n = this.#first.length;
    while (n <= parent) n *= 2;
    const f = new Int32Array(n).fill(-1);
    f.set(this.#first);
    const c = new Float64Array(n);
    c.set(this.#firstCount);
    this.#first = f;
    this.#firstCount = c;
  }
}
