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
 * scan.ts (state and line rules); this file is the interface JavaScript sees.
 *
 * Memory layout: every buffer comes from the runtime's allocator (TLSF, `--runtime minimal`);
 * no managed objects are created after start-up, so nothing needs collecting.
 */

import { PAD } from './bytes';
import { keyFind, keyId } from './key-table';
import { COUNT_BITS, MAX_KEYS, pairAdd, pairTable, PairTable } from './pair-table';
import { addTotal, table, TOTAL_DROPPED } from './scan';

export { init, inputBuffer, feed, total, addTotal, pendingId, pendingTimeAt, setPending, sawCwdLine, resolvePending, setWindow, countInWindow } from './scan';
export { setJoinLog, joinLogAt, joinLogLength, replayJoins } from './scan';
export { setCap as setJoinCap } from './join';
export { setPairCountLimit, touched, spillList, spillLength } from './pair-table';

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
// Merging another scanner's tables (a later byte range scanned by a worker thread). Keys new to
// this scanner are appended in the other's id order, i.e. the order of first appearance in its
// range, so ids and results are those of one pass over both ranges in sequence.

/** Scratch memory for the data being merged. */
export function alloc(size: usize): usize {
  return heap.alloc(size + PAD);
}

export function release(ptr: usize): void {
  heap.free(ptr);
}

/**
 * Merge `n` keys into table `i`: their bytes back to back at `bytes`, lengths (u32) at `lens`,
 * counts (f64) at `counts`. Writes this table's id (or -1 when full) for each to `remap` (i32).
 */
export function mergeKeys(i: i32, bytes: usize, lens: usize, counts: usize, n: u32, remap: usize): void {
  const t = table(i);
  let off = bytes;
  for (let k: u32 = 0; k < n; k++) {
    const len = <usize>load<u32>(lens + (<usize>k << 2));
    const count = load<f64>(counts + (<usize>k << 3));
    const id = keyId(t, off, len);
    if (id < 0) addTotal(TOTAL_DROPPED, count);
    else store<f64>(t.counts + (<usize>id << 3), load<f64>(t.counts + (<usize>id << 3)) + count);
    store<i32>(remap + (<usize>k << 2), id);
    off += len;
  }
}

/**
 * Merge `n` pair slots (u64 words in the layout of pair-table.ts) into relation `i`, translating parent and
 * child ids through the remap arrays of mergeKeys. Pairs whose key did not fit are skipped: their
 * occurrences were counted as dropped with the key.
 */
export function mergePairs(i: i32, words: usize, n: u32, parentRemap: usize, childRemap: usize, droppedPairs: f64): void {
  const t = pairTable(i);
  t.dropped += droppedPairs;
  for (let k: u32 = 0; k < n; k++) {
    const v = load<u64>(words + (<usize>k << 3));
    const parent = load<i32>(parentRemap + (<usize>((v >> 46) - 1) << 2));
    const child = load<i32>(childRemap + (<usize>((v >> COUNT_BITS) & MAX_KEYS) << 2));
    if (parent >= 0 && child >= 0) pairAdd(t, parent, child, <u32>(v & ((<u64>1 << COUNT_BITS) - 1)));
  }
}

/** A spilled count of the other scanner (already translated ids). */
export function mergeSpill(i: i32, parent: i32, child: i32, extra: f64): void {
  const t = pairTable(i);
  const step: f64 = <f64>(1 << 27);
  while (extra > 0) {
    const n = extra > step ? step : extra;
    pairAdd(t, parent, child, <u32>n);
    extra -= n;
  }
}

/** The first occupied slot of `t` at or after `s` (mask + 1 when none). */
@inline function nextOccupied(t: PairTable, s: u32): u32 {
  while (s <= t.mask && load<u64>(t.cells + (<usize>s << 3)) == 0) s++;
  return s;
}

/** Copy the occupied slot words of relation `i` to `out` (pairSize(i) words), in slot order. */
export function compactPairs(i: i32, out: usize): u32 {
  const t = pairTable(i);
  let n: u32 = 0;
  for (let s = nextOccupied(t, 0); s <= t.mask; s = nextOccupied(t, s + 1)) {
    store<u64>(out + (<usize>n << 3), load<u64>(t.cells + (<usize>s << 3)));
    n++;
  }
  return n;
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

/** Id of a key in table `i` (bytes at ptr), or -1 when the table does not hold it. */
export function findKey(i: i32, ptr: usize, len: usize): i32 {
  return keyFind(table(i), ptr, len);
}
