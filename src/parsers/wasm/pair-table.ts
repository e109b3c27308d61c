/**
 * (parent id, child id) counts of the main-log kernel. One u64 per slot, so that the two big
 * relations (sender and AUTH id to client address) stay small in cache on a busy server log:
 *   bits 46..63 parent + 1 (0 = empty slot), bits 28..45 child, bits 0..27 count.
 * Ids are below 2^18 (MAX_KEYS). A count that would pass the limit moves half of itself to a
 * small spill list (a pair seen 268 million times), which the reader adds back.
 */
import { zeroed } from './bytes';

export const MAX_KEYS: u32 = (1 << 18) - 1;
export const COUNT_BITS: u64 = 28;
let countLimit: u64 = (<u64>1 << COUNT_BITS) - 1;

/** Tests only: a small count limit (2^k - 1, k >= 2) exercises the spill path. */
export function setPairCountLimit(limit: u32): void {
  countLimit = <u64>limit;
}
export const MAX_SPILLS: u32 = 4096;
/** Spill entries: pair key (u64: relation << 40 | parent + 1 << 18 | child) and extra count (f64). */
let spills: usize = 0;
let spillCount: u32 = 0;

@unmanaged export class PairTable {
  cells: usize = 0;
  mask: u32 = 0;
  size: u32 = 0;
  maxPairs: u32 = 0;
  relation: u32 = 0;
  dropped: f64 = 0;
}

export function newPairTable(relation: u32, maxPairs: u32, initialSlots: u32): PairTable {
  const t = changetype<PairTable>(zeroed(offsetof<PairTable>()));
  t.maxPairs = maxPairs;
  t.relation = relation;
  t.mask = initialSlots - 1;
  t.cells = zeroed(<usize>initialSlots << 3);
  return t;
}

@inline export function pairHash(key: u64): u32 {
  let h = key * 0x9e3779b97f4a7c15;
  h ^= h >> 29;
  return <u32>(h >> 32);
}

export function spill(t: PairTable, key: u64, n: f64): void {
  const tagged = (<u64>t.relation << 40) | key;
  for (let i: u32 = 0; i < spillCount; i++) {
    const at = spills + (<usize>i << 4);
    if (load<u64>(at) == tagged) {
      store<f64>(at, load<f64>(at, 8) + n, 8);
      return;
    }
  }
  if (spillCount >= MAX_SPILLS) {
    // Unreachable in practice (4096 pairs each seen 2^27 times); counted rather than lost silently.
    t.dropped += n;
    return;
  }
  const at = spills + (<usize>spillCount << 4);
  store<u64>(at, tagged);
  store<f64>(at, n, 8);
  spillCount++;
}

export function pairAdd(t: PairTable, parent: i32, child: i32, n: u32): void {
  const key = ((<u64>parent + 1) << 18) | <u64>child;
  let slot = pairHash(key) & t.mask;
  while (true) {
    const at = t.cells + (<usize>slot << 3);
    const v = load<u64>(at);
    if (v == 0) break;
    if (v >> COUNT_BITS == key) {
      store<u64>(at, (key << COUNT_BITS) | fitCount(t, key, (v & countLimit) + <u64>n));
      return;
    }
    slot = (slot + 1) & t.mask;
  }
  if (t.size >= t.maxPairs) {
    t.dropped += <f64>n;
    return;
  }
  store<u64>(t.cells + (<usize>slot << 3), (key << COUNT_BITS) | fitCount(t, key, <u64>n));
  t.size++;
  // Grown at three quarters full: the table stays small (cache) and probes stay short.
  if (t.size * 4 > (t.mask + 1) * 3) growPairs(t);
}

/** A count that fits the slot: what is past the limit moves to the spill list, half a slot at a time. */
@inline function fitCount(t: PairTable, key: u64, count: u64): u64 {
  const half = countLimit >> 1;
  while (count > countLimit) {
    spill(t, key, <f64>half);
    count -= half;
  }
  return count;
}

// Pair additions are queued and applied in batches, in their original order. Before a batch is
// applied its slots are touched once: those loads do not depend on each other, so the processor
// overlaps their cache misses instead of waiting for one after another.
export const BATCH: u32 = 256;
let queued: usize = 0;
let queuedCount: u32 = 0;
let touchSink: u64 = 0;

@inline export function queuePair(relation: i32, parent: i32, child: i32): void {
  store<u64>(queued + (<usize>queuedCount << 3), (<u64>relation << 40) | ((<u64>parent + 1) << 18) | <u64>child);
  if (++queuedCount == BATCH) applyQueued();
}

export function applyQueued(): void {
  const n = queuedCount;
  let sink: u64 = 0;
  for (let k: u32 = 0; k < n; k++) {
    const v = load<u64>(queued + (<usize>k << 3));
    const t = pairTable(<i32>(v >> 40));
    const key = v & 0xffffffffff;
    sink ^= load<u64>(t.cells + (<usize>(pairHash(key) & t.mask) << 3));
  }
  touchSink ^= sink;
  for (let k: u32 = 0; k < n; k++) {
    const v = load<u64>(queued + (<usize>k << 3));
    const key = v & 0xffffffffff;
    pairAdd(pairTable(<i32>(v >> 40)), <i32>(key >> 18) - 1, <i32>(key & MAX_KEYS), 1);
  }
  queuedCount = 0;
}

export function growPairs(t: PairTable): void {
  const old = t.cells;
  const oldCount = t.mask + 1;
  const count = oldCount << 1;
  const mask = count - 1;
  const cells = zeroed(<usize>count << 3);
  for (let i: u32 = 0; i < oldCount; i++) {
    const v = load<u64>(old + (<usize>i << 3));
    if (v == 0) continue;
    let slot = pairHash(v >> COUNT_BITS) & mask;
    while (load<u64>(cells + (<usize>slot << 3)) != 0) slot = (slot + 1) & mask;
    store<u64>(cells + (<usize>slot << 3), v);
  }
  heap.free(old);
  t.cells = cells;
  t.mask = mask;
}


/** The relations of this instance, by number. */
let relations: usize = 0;

@inline export function pairTable(i: i32): PairTable {
  return changetype<PairTable>(load<usize>(relations + (<usize>i << alignof<usize>())));
}

export function initRelations(count: i32, maxPairs: u32): void {
  relations = zeroed(<usize>count << alignof<usize>());
  for (let i = 0; i < count; i++) store<usize>(relations + (<usize>i << alignof<usize>()), changetype<usize>(newPairTable(i, maxPairs, 4096)));
  spills = zeroed(<usize>MAX_SPILLS << 4);
  queued = zeroed(<usize>BATCH << 3);
}

/** Keeps the touch loads of applyQueued from being optimised away. */
export function touched(): u64 {
  return touchSink;
}

/** 16 bytes per entry: u64 relation << 40 | (parent + 1) << 18 | child, f64 extra count. */
export function spillList(): usize {
  return spills;
}

export function spillLength(): u32 {
  return spillCount;
}
