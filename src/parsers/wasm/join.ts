/**
 * Joins deferrals (`==`) and failures (`**`) to their message's arrival by message id: a bounded
 * memory of (message id → sender id, AUTH id, cwd= directory id) for ranked arrivals, and of the (message,
 * recipient) pairs already counted as deferred (Exim logs one `==` per attempt, and a rate needs
 * each deferred recipient once).
 *
 * Bounded: each memory is two generations of at most half the cap each. When the current one is
 * full the older one is forgotten (its entries counted in `forgotten`) and a new one begins, so
 * the most recent half-cap to cap messages are always remembered: deferrals and failures mostly
 * follow their arrival within minutes, retries within days.
 *
 * Keys are 64-bit hashes of the message id (and of the lower-cased recipient): the perl twin
 * (src/remote/mainlog-count.pl.ts) keys its hashes by the strings; the two differ only if two
 * distinct ids of one scan share a 64-bit hash.
 */
import { zeroed } from './bytes';

/** One generation: open addressing, 16 bytes a slot: u64 key (0 = empty), u64 value (the caller's: see arrivalIds in scan.ts). */
@unmanaged export class Generation {
  cells: usize = 0;
  mask: u32 = 0;
  size: u32 = 0;
}

function newGeneration(): Generation {
  const g = changetype<Generation>(zeroed(offsetof<Generation>()));
  g.mask = 1023;
  g.cells = zeroed(1024 << 4);
  return g;
}

@unmanaged export class Memory {
  current: Generation = changetype<Generation>(0);
  previous: Generation = changetype<Generation>(0);
}

export function newMemory(): Memory {
  const m = changetype<Memory>(zeroed(offsetof<Memory>()));
  m.current = newGeneration();
  m.previous = newGeneration();
  return m;
}

/** Entries per generation (half the cap; at least 1). */
let half: u32 = 1 << 17;
/** Entries forgotten when a generation was dropped. */
export let forgotten: f64 = 0;

/** Add to the forgotten entries (addTotal in scan.ts). */
export function addForgotten(n: f64): void {
  forgotten += n;
}

/** Messages remembered at most (and as many deferred pairs); default 2^18 (DEFAULT_MAX_MESSAGES in mainlog-scan.ts). */
export function setCap(cap: u32): void {
  half = cap < 2 ? 1 : cap >> 1;
}

@inline function slotHash(key: u64): u32 {
  let h = key * 0x9e3779b97f4a7c15;
  return <u32>(h >> 32);
}

/** The slot holding `key` in `g`, or 0. */
function findIn(g: Generation, key: u64): usize {
  let slot = slotHash(key) & g.mask;
  while (true) {
    const at = g.cells + (<usize>slot << 4);
    const v = load<u64>(at);
    if (v == 0) return 0;
    if (v == key) return at;
    slot = (slot + 1) & g.mask;
  }
}

/** The slot holding `key` (newer generation first), or 0. */
export function find(m: Memory, key: u64): usize {
  const at = findIn(m.current, key);
  return at != 0 ? at : findIn(m.previous, key);
}

function grow(g: Generation): void {
  const old = g.cells;
  const oldCount = g.mask + 1;
  const mask = (oldCount << 1) - 1;
  const cells = zeroed(<usize>(mask + 1) << 4);
  for (let i: u32 = 0; i < oldCount; i++) {
    const from = old + (<usize>i << 4);
    const v = load<u64>(from);
    if (v == 0) continue;
    let slot = slotHash(v) & mask;
    while (load<u64>(cells + (<usize>slot << 4)) != 0) slot = (slot + 1) & mask;
    memory.copy(cells + (<usize>slot << 4), from, 16);
  }
  heap.free(old);
  g.cells = cells;
  g.mask = mask;
}

/** Remember `key` with `value` in the current generation (replacing what it held there). */
export function remember(m: Memory, key: u64, value: u64): void {
  let g = m.current;
  let at = findIn(g, key);
  if (at == 0) {
    if (g.size >= half) {
      // The older generation is forgotten; its cells, cleared, take the new entries.
      const old = m.previous;
      forgotten += <f64>old.size;
      memory.fill(old.cells, 0, <usize>(old.mask + 1) << 4);
      old.size = 0;
      m.previous = g;
      m.current = old;
      g = old;
    }
    let slot = slotHash(key) & g.mask;
    while (load<u64>(g.cells + (<usize>slot << 4)) != 0) slot = (slot + 1) & g.mask;
    at = g.cells + (<usize>slot << 4);
    store<u64>(at, key);
    g.size++;
    if (g.size << 1 > g.mask + 1) {
      grow(g);
      at = findIn(g, key);
    }
  }
  store<u64>(at, value, 8);
}

// 64-bit FNV-1a, then a final mix so that the low bits used for slots depend on every byte.
export const HASH_START: u64 = 0xcbf29ce484222325;

@inline export function hashByte(h: u64, c: u32): u64 {
  return (h ^ <u64>c) * 0x100000001b3;
}

/** Hash [p, p + len) on from `h`; with `lower`, A-Z as a-z (ASCII only, as perl's tr/A-Z/a-z/). */
export function hashBytes(h: u64, p: usize, len: usize, lower: bool): u64 {
  for (let i: usize = 0; i < len; i++) {
    let c = <u32>load<u8>(p + i);
    if (lower && c >= 0x41 && c <= 0x5a) c += 0x20;
    h = hashByte(h, c);
  }
  return h;
}

@inline export function finishHash(h: u64): u64 {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccd;
  h ^= h >> 33;
  return h == 0 ? 1 : h;
}
