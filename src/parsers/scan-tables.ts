/**
 * Read-side views of the scanner kernel's tables (src/parsers/wasm/mainlog-kernel.ts): interned
 * keys and (parent, child) pair counts live in WebAssembly memory while scanning; these turn
 * them into strings and ranked lists once, at the end. Views are taken after scanning, when the
 * memory no longer moves.
 */
import { isAscii } from 'node:buffer';
import { TABLE, type KernelExports } from './mainlog-kernel.js';

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
