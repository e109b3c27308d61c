/**
 * Read-side views of the scanner kernel's tables (src/parsers/wasm/mainlog-kernel.ts): interned
 * keys and (parent, child) pair counts live in WebAssembly memory while scanning; these turn
 * them into strings and ranked lists once, at the end. Views are taken after scanning, when the
 * memory no longer moves.
 */
import { PAIRS, RELATION_TABLES, TABLE, TOTALS, type KernelExports } from './mainlog-kernel.js';

export class KeyView {
  readonly size: number;
  readonly #memory: ArrayBuffer;
  readonly #keys: Uint32Array;
  readonly #arena: number;
  readonly #counts: Float64Array;
  readonly #strings: (string | undefined)[] = [];

  constructor(kernel: KernelExports, table: number) {
    this.#memory = kernel.memory.buffer;
    this.size = kernel.tableSize(table);
    this.#keys = new Uint32Array(this.#memory, kernel.tableKeys(table), this.size * 2);
    this.#arena = kernel.tableArena(table);
    this.#counts = new Float64Array(this.#memory, kernel.tableCounts(table), this.size);
  }

  count(id: number): number {
    return this.#counts[id]!;
  }

  bytes(id: number): Uint8Array {
    return new Uint8Array(this.#memory, this.#arena + this.#keys[id * 2]!, this.#keys[id * 2 + 1]!);
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

const COUNT_MASK = 0x0fffffff;

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

  constructor(kernel: KernelExports, relation: number, parents: number) {
    const slots = kernel.pairSlots(relation);
    const words = new Uint32Array(kernel.memory.buffer, kernel.pairCells(relation), slots * 2);
    const spilled = spillsOf(kernel, relation);
    this.dropped = kernel.pairDropped(relation);
    const start = new Int32Array(parents + 1);
    for (let i = 0; i < slots; i++) {
      const p1 = words[i * 2 + 1]! >>> 14;
      if (p1 !== 0 && p1 - 1 < parents) start[p1]!++;
    }
    for (let p = 0; p < parents; p++) start[p + 1]! += start[p]!;
    const fill = start.slice(0, parents);
    const child = new Int32Array(start[parents]!);
    const count = new Float64Array(start[parents]!);
    for (let i = 0; i < slots; i++) {
      const lo = words[i * 2]!;
      const hi = words[i * 2 + 1]!;
      const p1 = hi >>> 14;
      if (p1 === 0 || p1 - 1 >= parents) continue;
      const c = (lo >>> 28) | ((hi & 0x3fff) << 4);
      const at = fill[p1 - 1]!++;
      child[at] = c;
      count[at] = (lo & COUNT_MASK) + (spilled?.get(p1 * 2 ** 18 + c) ?? 0);
    }
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

/** All views of one finished scan. */
export function tableViews(kernel: KernelExports): {
  keys: Record<keyof typeof TABLE, KeyView>;
  pairs: Record<keyof typeof PAIRS, PairView>;
} {
  const keys = Object.fromEntries(Object.entries(TABLE).map(([name, i]) => [name, new KeyView(kernel, i)])) as Record<keyof typeof TABLE, KeyView>;
  const pairs = Object.fromEntries(
    Object.entries(PAIRS).map(([name, i]) => [name, new PairView(kernel, i, kernel.tableSize(RELATION_TABLES[i]![0]))]),
  ) as Record<keyof typeof PAIRS, PairView>;
  return { keys, pairs };
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
    const slots = kernel.pairSlots(i);
    const all = new Uint32Array(mem(), kernel.pairCells(i), slots * 2);
    const words = new Uint32Array(kernel.pairSize(i) * 2);
    let n = 0;
    for (let s = 0; s < slots; s++) {
      if (all[s * 2 + 1] === 0) continue;
      words[n++] = all[s * 2]!;
      words[n++] = all[s * 2 + 1]!;
    }
    return { words: words.subarray(0, n), dropped: kernel.pairDropped(i) };
  });
  const spills: number[] = [];
  for (const relation of Object.values(PAIRS)) {
    for (const [key, extra] of spillsOf(kernel, relation) ?? []) spills.push(relation, Math.floor(key / 2 ** 18) - 1, key % 2 ** 18, extra);
  }
  return { totals, tables, relations, spills: Float64Array.from(spills) };
}

/** Add a dump of a later byte range to this kernel (see mergeKeys in the kernel). */
export function absorbTables(kernel: KernelExports, dump: TableDump): void {
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
  dump.relations.forEach((r, i) => {
    const [parent, child] = RELATION_TABLES[i]!;
    const wordsAt = kernel.alloc(r.words.byteLength);
    new Uint32Array(kernel.memory.buffer, wordsAt, r.words.length).set(r.words);
    kernel.mergePairs(i, wordsAt, r.words.length / 2, remaps[parent]!, remaps[child]!, r.dropped);
    kernel.release(wordsAt);
  });
  for (let k = 0; k < dump.spills.length; k += 4) {
    const relation = dump.spills[k]!;
    const [parentTable, childTable] = RELATION_TABLES[relation]!;
    const parent = new Int32Array(kernel.memory.buffer, remaps[parentTable]!, dump.tables[parentTable]!.lens.length)[dump.spills[k + 1]!]!;
    const child = new Int32Array(kernel.memory.buffer, remaps[childTable]!, dump.tables[childTable]!.lens.length)[dump.spills[k + 2]!]!;
    if (parent >= 0 && child >= 0) kernel.mergeSpill(relation, parent, child, dump.spills[k + 3]!);
  }
  dump.totals.forEach((v, i) => kernel.addTotal(i, v));
  for (const at of remaps) kernel.release(at);
}
