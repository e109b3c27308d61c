/**
 * Read-side views of the scanner kernel's tables (src/parsers/wasm/mainlog-kernel.ts): interned
 * keys and (parent, child) pair counts live in WebAssembly memory while scanning; these turn
 * them into strings and ranked lists once, at the end. Views are taken after scanning, when the
 * memory no longer moves.
 */
import { isAscii } from 'node:buffer';
import { JOIN_OP_BYTES, PAIRS, RELATION_TABLES, TABLE, TOTALS, type KernelExports } from './mainlog-kernel.js';

export class KeyView {
  readonly size: number;
  readonly #kernel: KernelExports;
  readonly #table: number;
  #memory: ArrayBuffer | null = null;
  #keys = new Uint32Array(0);
  #counts = new Float64Array(0);
  #arena = 0;
  readonly #strings: (string | undefined)[] = [];
  /** Per id: 1 = a byte >= 0x80, 2 = a backslash (see mayMerge); made on first use. */
  #flags: Uint8Array | null = null;

  constructor(kernel: KernelExports, table: number) {
    this.#kernel = kernel;
    this.#table = table;
    this.size = kernel.tableSize(table);
  }

  /** Typed arrays over the kernel's memory, made again if it grew (scratch allocations). */
  #views(): void {
    const memory = this.#kernel.memory.buffer;
    if (memory === this.#memory) return;
    this.#memory = memory;
    this.#keys = new Uint32Array(memory, this.#kernel.tableKeys(this.#table), this.size * 2);
    this.#counts = new Float64Array(memory, this.#kernel.tableCounts(this.#table), this.size);
    this.#arena = this.#kernel.tableArena(this.#table);
  }

  count(id: number): number {
    this.#views();
    return this.#counts[id]!;
  }

  bytes(id: number): Uint8Array {
    this.#views();
    return new Uint8Array(this.#memory!, this.#arena + this.#keys[id * 2]!, this.#keys[id * 2 + 1]!);
  }

  /**
   * Whether the key may decode to the same string as another key: it has invalid or non-ASCII
   * UTF-8, or (for subjects, which are unescaped) a backslash. Every other key is a string of
   * its own, so it ranks on its own count.
   */
  mayMerge(id: number, subjects: boolean): boolean {
    this.#flags ??= this.#scanFlags();
    return (this.#flags[id]! & (subjects ? 3 : 1)) !== 0;
  }

  #scanFlags(): Uint8Array {
    const flags = new Uint8Array(this.size);
    if (this.size === 0) return flags;
    this.#views();
    // Keys lie back to back in id order from the start of the arena: one look at all of them
    // settles the usual case (plain ASCII, no backslash) without a view per key.
    const last = this.size - 1;
    const all = Buffer.from(this.#memory!, this.#arena, this.#keys[last * 2]! + this.#keys[last * 2 + 1]!);
    const ascii = isAscii(all);
    const backslash = all.indexOf(0x5c) >= 0;
    if (ascii && !backslash) return flags;
    for (let id = 0; id < this.size; id++) {
      const key = all.subarray(this.#keys[id * 2]!, this.#keys[id * 2]! + this.#keys[id * 2 + 1]!);
      flags[id] = (ascii || isAscii(key) ? 0 : 1) | (backslash && key.indexOf(0x5c) >= 0 ? 2 : 0);
    }
    return flags;
  }

  /** The key as a string (UTF-8), made once. */
  key(id: number): string {
    let str = this.#strings[id];
    if (str === undefined) {
      const b = this.bytes(id);
      str = Buffer.from(b.buffer, b.byteOffset, b.length).toString('utf8');
      this.#strings[id] = str;
    }
    return str;
  }
}

/**
 * One relation's pairs grouped by parent (a counting sort over the slots: no object per pair).
 * Slot layout (u64): bits 46..63 parent + 1 (0 = empty), 28..45 child, 0..27 count; spilled
 * counts of very frequent pairs are added back from the kernel's spill list.
 */
export class PairView {
  /** Pairs that did not fit while scanning (maxPairs). */
  readonly dropped: number;
  readonly #child: Int32Array;
  readonly #count: Float64Array;
  /** Pairs of parent p are at [#start[p], #start[p + 1]). */
  readonly #start: Int32Array;

  /** The pairs of `relation` whose parent (below `parents`) is marked in `kept` (null: all). */
  constructor(kernel: KernelExports, relation: number, parents: number, kept: Uint8Array | null) {
    this.dropped = kernel.pairDropped(relation);
    // The kernel walks its slots and hands over only the wanted pairs (a few hundred when
    // ranking a top list out of hundreds of thousands).
    const keptAt = kept === null ? 0 : kernel.alloc(parents);
    if (kept !== null) new Uint8Array(kernel.memory.buffer, keptAt, parents).set(kept.subarray(0, parents));
    const outAt = kernel.alloc(kernel.pairSize(relation) * 16);
    const n = kernel.gatherPairs(relation, keptAt, outAt);
    const words = new Uint32Array(kernel.memory.buffer, outAt, n * 4);
    const counts = new Float64Array(kernel.memory.buffer, outAt, n * 2);
    const spilled = spillsOf(kernel, relation);
    const start = new Int32Array(parents + 1);
    for (let k = 0; k < n; k++) start[words[k * 4]! + 1]!++;
    for (let p = 0; p < parents; p++) start[p + 1]! += start[p]!;
    const fill = start.slice(0, parents);
    const child = new Int32Array(n);
    const count = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const p = words[k * 4]!;
      const c = words[k * 4 + 1]!;
      const at = fill[p]!++;
      child[at] = c;
      count[at] = counts[k * 2 + 1]! + (spilled?.get((p + 1) * 2 ** 18 + c) ?? 0);
    }
    kernel.release(outAt);
    if (keptAt !== 0) kernel.release(keptAt);
    this.#child = child;
    this.#count = count;
    this.#start = start;
  }

  /** All children of `parent` with their counts (views, in no particular order). */
  children(parent: number): { children: Int32Array; counts: Float64Array } {
    const a = this.#start[parent]!;
    const b = this.#start[parent + 1]!;
    return { children: this.#child.subarray(a, b), counts: this.#count.subarray(a, b) };
  }
}

/** Spilled counts of one relation by `(parent + 1) * 2^18 + child`, or null when none. */
function spillsOf(kernel: KernelExports, relation: number): Map<number, number> | null {
  const n = kernel.spillLength();
  if (n === 0) return null;
  const at = kernel.spillList();
  const words = new Uint32Array(kernel.memory.buffer, at, n * 4);
  const extra = new Float64Array(kernel.memory.buffer, at, n * 2);
  const out = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const lo = words[i * 4]!;
    const hi = words[i * 4 + 1]!;
    if (hi >>> 8 !== relation) continue;
    const key = (hi & 0xff) * 2 ** 32 + lo;
    out.set(key, (out.get(key) ?? 0) + extra[i * 2 + 1]!);
  }
  return out;
}

/** Views of the key tables of one finished scan (pairs are read per relation: PairView). */
export function keyViews(kernel: KernelExports): Record<keyof typeof TABLE, KeyView> {
  return Object.fromEntries(Object.entries(TABLE).map(([name, i]) => [name, new KeyView(kernel, i)])) as Record<keyof typeof TABLE, KeyView>;
}

/**
 * A scanner's tables as plain arrays, to move a worker thread's scan into another scanner
 * (`absorbTables`). All buffers are transferable.
 */
export interface TableDump {
  totals: Float64Array;
  /** Per table (kernel order): key bytes back to back, their lengths and counts. */
  tables: { bytes: Uint8Array; lens: Uint32Array; counts: Float64Array }[];
  /** Per relation: occupied slot words (two u32 each) and pairs dropped at the cap. */
  relations: { words: Uint32Array; dropped: number }[];
  /** Spilled counts: [relation, parent, child, extra] each. */
  spills: Float64Array;
  /** Arrivals and outcomes of a later range to join after the ranges before it (see setJoinLog). */
  joins: Uint8Array;
}

export function dumpTables(kernel: KernelExports): TableDump {
  const mem = (): ArrayBuffer => kernel.memory.buffer;
  const totals = Float64Array.from(TOTALS, (_, i) => kernel.total(i));
  const tables = Object.values(TABLE).map((i) => {
    const n = kernel.tableSize(i);
    const keys = new Uint32Array(mem(), kernel.tableKeys(i), n * 2);
    const lens = new Uint32Array(n);
    let bytes = 0;
    for (let id = 0; id < n; id++) bytes += lens[id] = keys[id * 2 + 1]!;
    // Keys are stored back to back in id order from the start of the arena.
    return {
      bytes: new Uint8Array(mem(), kernel.tableArena(i), bytes).slice(),
      lens,
      counts: new Float64Array(mem(), kernel.tableCounts(i), n).slice(),
    };
  });
  const relations = Object.values(PAIRS).map((i) => {
    const outAt = kernel.alloc(kernel.pairSize(i) * 8);
    const n = kernel.compactPairs(i, outAt);
    const words = new Uint32Array(mem(), outAt, n * 2).slice();
    kernel.release(outAt);
    return { words, dropped: kernel.pairDropped(i) };
  });
  const spills: number[] = [];
  for (const relation of Object.values(PAIRS)) {
    for (const [key, extra] of spillsOf(kernel, relation) ?? []) spills.push(relation, Math.floor(key / 2 ** 18) - 1, key % 2 ** 18, extra);
  }
  const joins = new Uint8Array(mem(), kernel.joinLogAt(), kernel.joinLogLength() * JOIN_OP_BYTES).slice();
  return { totals, tables, relations, spills: Float64Array.from(spills), joins };
}

/**
 * The pairs of an absorbed dump not yet added to the kernel (see absorbTables). Adding a pair
 * is a random access into a table of megabytes, and only pairs whose parent can reach a top
 * list change the result, so they wait until the ranking says which parents those are.
 */
export interface PendingPairs {
  /** Per relation: the dump's slot words, copied into kernel memory (0 once released). */
  readonly words: number[];
  readonly counts: number[];
  readonly dropped: number[];
  /** Per table: the dump's id to this kernel's id (i32, -1 when the key did not fit). */
  readonly remaps: number[];
  readonly sizes: number[];
  /** Per relation: parents (this kernel's ids) whose pairs were added; null before the first. */
  readonly merged: (Uint8Array | null)[];
}

/**
 * Add a dump of a later byte range to this kernel (see mergeKeys in the kernel). With
 * `deferPairs` the pair counts are kept aside and returned, to be added by mergePendingPairs;
 * the caller must know that no pair can be dropped at the cap meanwhile (then the order in
 * which pairs are added does not change any count).
 */
export function absorbTables(kernel: KernelExports, dump: TableDump, deferPairs = false): PendingPairs | null {
  const remaps: number[] = [];
  dump.tables.forEach((t, i) => {
    const n = t.lens.length;
    const bytesAt = kernel.alloc(t.bytes.length);
    const lensAt = kernel.alloc(n * 4);
    const countsAt = kernel.alloc(n * 8);
    const remapAt = kernel.alloc(n * 4);
    new Uint8Array(kernel.memory.buffer, bytesAt, t.bytes.length).set(t.bytes);
    new Uint32Array(kernel.memory.buffer, lensAt, n).set(t.lens);
    new Float64Array(kernel.memory.buffer, countsAt, n).set(t.counts);
    kernel.mergeKeys(i, bytesAt, lensAt, countsAt, n, remapAt);
    kernel.release(bytesAt);
    kernel.release(lensAt);
    kernel.release(countsAt);
    remaps.push(remapAt);
  });
  if (dump.joins.length > 0) {
    // After the keys (the ids are remapped) and in range order: as one pass would join them.
    const joinsAt = kernel.alloc(dump.joins.length);
    new Uint8Array(kernel.memory.buffer, joinsAt, dump.joins.length).set(dump.joins);
    kernel.replayJoins(joinsAt, dump.joins.length / JOIN_OP_BYTES, remaps[TABLE.senders]!, remaps[TABLE.auth]!);
    kernel.release(joinsAt);
  }
  const pending: PendingPairs = {
    words: dump.relations.map((r) => {
      const wordsAt = kernel.alloc(r.words.byteLength);
      new Uint32Array(kernel.memory.buffer, wordsAt, r.words.length).set(r.words);
      return wordsAt;
    }),
    counts: dump.relations.map((r) => r.words.length / 2),
    dropped: dump.relations.map((r) => r.dropped),
    remaps,
    sizes: dump.tables.map((t) => t.lens.length),
    merged: dump.relations.map(() => null),
  };
  for (let k = 0; k < dump.spills.length; k += 4) {
    const relation = dump.spills[k]!;
    const [parentTable, childTable] = RELATION_TABLES[relation]!;
    const parent = new Int32Array(kernel.memory.buffer, remaps[parentTable]!, dump.tables[parentTable]!.lens.length)[dump.spills[k + 1]!]!;
    const child = new Int32Array(kernel.memory.buffer, remaps[childTable]!, dump.tables[childTable]!.lens.length)[dump.spills[k + 2]!]!;
    if (parent >= 0 && child >= 0) kernel.mergeSpill(relation, parent, child, dump.spills[k + 3]!);
  }
  dump.totals.forEach((v, i) => kernel.addTotal(i, v));
  if (deferPairs) return pending;
  settlePendingPairs(kernel, pending);
  return null;
}

/**
 * Add the pending pairs of `relation` whose parent is marked in `kept` (this kernel's ids; null:
 * all of them). Pairs added before are not added again, so calls with other parents later stay
 * exact.
 */
export function mergePendingPairs(kernel: KernelExports, pending: PendingPairs, relation: number, kept: Uint8Array | null): void {
  const wordsAt = pending.words[relation]!;
  if (wordsAt === 0) return;
  const [parentTable, childTable] = RELATION_TABLES[relation]!;
  const first = pending.merged[relation] === null;
  const dropped = first ? pending.dropped[relation]! : 0;
  if (kept === null && first) {
    kernel.mergePairs(relation, wordsAt, pending.counts[relation]!, pending.remaps[parentTable]!, pending.remaps[childTable]!, dropped);
    kernel.release(wordsAt);
    pending.words[relation] = 0;
    return;
  }
  // A remap of the parents wanted now and not added before; the others map to -1 (skipped).
  const merged = (pending.merged[relation] ??= new Uint8Array(kernel.tableSize(parentTable)));
  const n = pending.sizes[parentTable]!;
  const filteredAt = kernel.alloc(n * 4);
  const remap = new Int32Array(kernel.memory.buffer, pending.remaps[parentTable]!, n);
  const filtered = new Int32Array(kernel.memory.buffer, filteredAt, n);
  // The remap is one to one, so each parent is seen once here.
  let left = false;
  for (let k = 0; k < n; k++) {
    const id = remap[k]!;
    filtered[k] = -1;
    if (id < 0 || merged[id] !== 0) continue;
    if (kept === null || kept[id] !== 0) {
      filtered[k] = id;
      merged[id] = 1;
    } else {
      left = true;
    }
  }
  kernel.mergePairs(relation, wordsAt, pending.counts[relation]!, filteredAt, pending.remaps[childTable]!, dropped);
  kernel.release(filteredAt);
  if (!left) {
    kernel.release(wordsAt);
    pending.words[relation] = 0;
  }
}

/** Add every pending pair, then free what the pending pairs hold in kernel memory. */
export function settlePendingPairs(kernel: KernelExports, pending: PendingPairs): void {
  for (let i = 0; i < pending.words.length; i++) mergePendingPairs(kernel, pending, i, null);
  releasePendingPairs(kernel, pending);
}

function releasePendingPairs(kernel: KernelExports, pending: PendingPairs): void {
  for (let i = 0; i < pending.words.length; i++) {
    if (pending.words[i] !== 0) kernel.release(pending.words[i]!);
    pending.words[i] = 0;
  }
  for (const at of pending.remaps) kernel.release(at);
  pending.remaps.length = 0;
}
