/**
 * The hot loop of the main-log scanner, compiled to WebAssembly (AssemblyScript; built by
 * `npm run build` into dist/wasm/mainlog-kernel.wasm). It classifies lines, walks the fields of
 * arrivals and counts keys and key pairs in linear memory. Everything around it (file reading,
 * time windows, turning ids into strings, ranking) stays in TypeScript: see
 * src/parsers/mainlog-scan.ts, which also holds the field rules this file mirrors byte for byte
 * (the property tests compare both against the line-by-line reference in exim-mainlog.ts).
 *
 * Why WebAssembly: a cPanel main log is gigabytes and the seed one-liners it replaces are grep.
 * With typed arrays in JavaScript the scan cost ~3.7 CPU-s per GiB; here lines are found 16
 * bytes at a time with SIMD and keys are hashed 8 bytes at a time.
 *
 * Modules: bytes.ts (byte helpers), key-table.ts (interned keys), pair-table.ts (pair counts),
 * scan.ts (state and line rules), history.ts (the flagged ids' lines, for the history pass);
 * this file is the interface JavaScript sees.
 *
 * Memory layout: every buffer comes from the runtime's allocator (TLSF, `--runtime minimal`);
 * no managed objects are created after start-up, so nothing needs collecting.
 */

import { PAD } from './bytes';
import { keyFind } from './key-table';
import { COUNT_BITS, MAX_KEYS, pairTable, PairTable } from './pair-table';
import { table } from './scan';

export { init, inputBuffer, feed, total, addTotal, setWindow, countInWindow } from './scan';
export { setCap as setJoinCap } from './join';
export { setPairCountLimit, touched, spillList, spillLength } from './pair-table';
export { historyNeedles, historyFeed, historyRecords } from './history';

// ---------------------------------------------------------------------------------------------
// Results, read by src/parsers/mainlog-scan.ts through views of this memory

export function tableSize(i: i32): u32 { return table(i).size; }
/** Two u32 per id: arena offset, length. */
export function tableKeys(i: i32): usize { return table(i).keys; }
export function tableArena(i: i32): usize { return table(i).arena; }
/** One f64 per id. */
export function tableCounts(i: i32): usize { return table(i).counts; }

export function pairDropped(i: i32): f64 { return pairTable(i).dropped; }
export function pairSize(i: i32): u32 { return pairTable(i).size; }

// ---------------------------------------------------------------------------------------------
// Scratch memory for what JavaScript hands in (a window's start, the parents wanted)

export function alloc(size: usize): usize {
  return heap.alloc(size + PAD);
}

export function release(ptr: usize): void {
  heap.free(ptr);
}

/** The first occupied slot of `t` at or after `s` (mask + 1 when none). */
@inline function nextOccupied(t: PairTable, s: u32): u32 {
  while (s <= t.mask && load<u64>(t.cells + (<usize>s << 3)) == 0) s++;
  return s;
}

/**
 * Copy the pairs of relation `i` whose parent is marked in `kept` (one byte per parent id; 0
 * means every parent) to `out`, 16 bytes each: parent (u32), child (u32), count (f64, without
 * spills). Returns how many. `out` must hold pairSize(i) entries.
 */
export function gatherPairs(i: i32, kept: usize, out: usize): u32 {
  const t = pairTable(i);
  let n: u32 = 0;
  for (let s = nextOccupied(t, 0); s <= t.mask; s = nextOccupied(t, s + 1)) {
    const v = load<u64>(t.cells + (<usize>s << 3));
    const parent = <u32>(v >> 46) - 1;
    if (kept != 0 && load<u8>(kept + <usize>parent) == 0) continue;
    const at = out + (<usize>n << 4);
    store<u32>(at, parent);
    store<u32>(at, <u32>((v >> COUNT_BITS) & MAX_KEYS), 4);
    store<f64>(at, <f64>(v & ((<u64>1 << COUNT_BITS) - 1)), 8);
    n++;
  }
  return n;
}

/** Id in table `i` of key `id` of table `from` (the same bytes), or -1 when `i` does not hold it. */
export function findKeyOf(i: i32, from: i32, id: i32): i32 {
  const t = table(from);
  const k = t.keys + (<usize>id << 3);
  return keyFind(table(i), t.arena + <usize>load<u32>(k), <usize>load<u32>(k, 4));
}

