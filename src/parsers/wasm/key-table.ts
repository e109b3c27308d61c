/** Interned keys of the main-log kernel: id = insertion order, so results do not depend on the hash. */
import { bytesEqual, hashKey, PAD, zeroed } from './bytes';

@unmanaged export class KeyTable {
  /** Two u32 per slot: id + 1 (0 = empty) and the key's hash. */
  slots: usize = 0;
  mask: u32 = 0;
  /** Two u32 per id: offset in the arena and length. */
  keys: usize = 0;
  /** One f64 per id. */
  counts: usize = 0;
  idCap: u32 = 0;
  arena: usize = 0;
  arenaCap: usize = 0;
  arenaUsed: usize = 0;
  size: u32 = 0;
  maxKeys: u32 = 0;
  last: i32 = -1;
}

export function newKeyTable(maxKeys: u32, initialSlots: u32): KeyTable {
  const t = changetype<KeyTable>(zeroed(offsetof<KeyTable>()));
  t.maxKeys = maxKeys;
  t.mask = initialSlots - 1;
  t.slots = zeroed(<usize>initialSlots << 3);
  t.idCap = initialSlots >> 1;
  t.keys = zeroed(<usize>t.idCap << 3);
  t.counts = zeroed(<usize>t.idCap << 3);
  t.arenaCap = 64 * 1024;
  t.arena = heap.alloc(t.arenaCap + PAD);
  t.last = -1;
  return t;
}

/** Id of [p, p + len), inserted if new; -1 when the table is full. */
/** Id of [p, p + len) when the table holds it, else -1; never inserts. */
export function keyFind(t: KeyTable, p: usize, len: usize): i32 {
  const h = hashKey(p, len);
  let slot = h & t.mask;
  while (true) {
    const at = t.slots + (<usize>slot << 3);
    const v = load<u32>(at);
    if (v == 0) return -1;
    if (load<u32>(at, 4) == h) {
      const k = t.keys + (<usize>(v - 1) << 3);
      if (<usize>load<u32>(k, 4) == len && bytesEqual(t.arena + <usize>load<u32>(k), p, len)) return <i32>(v - 1);
    }
    slot = (slot + 1) & t.mask;
  }
}

export function keyId(t: KeyTable, p: usize, len: usize): i32 {
  // Logs come in bursts (one spammer, one authenticator): try the last key first.
  const last = t.last;
  if (last >= 0) {
    const k = t.keys + (<usize>last << 3);
    if (<usize>load<u32>(k, 4) == len && bytesEqual(t.arena + <usize>load<u32>(k), p, len)) return last;
  }
  const h = hashKey(p, len);
  let slot = h & t.mask;
  while (true) {
    const at = t.slots + (<usize>slot << 3);
    const v = load<u32>(at);
    if (v == 0) break;
    if (load<u32>(at, 4) == h) {
      const id = v - 1;
      const k = t.keys + (<usize>id << 3);
      if (<usize>load<u32>(k, 4) == len && bytesEqual(t.arena + <usize>load<u32>(k), p, len)) {
        t.last = <i32>id;
        return <i32>id;
      }
    }
    slot = (slot + 1) & t.mask;
  }
  if (t.size >= t.maxKeys) return -1;
  const id = t.size++;
  if (id >= t.idCap) {
    const cap = t.idCap << 1;
    t.keys = heap.realloc(t.keys, <usize>cap << 3);
    t.counts = heap.realloc(t.counts, <usize>cap << 3);
    memory.fill(t.counts + (<usize>t.idCap << 3), 0, <usize>(cap - t.idCap) << 3);
    t.idCap = cap;
  }
  if (t.arenaUsed + len > t.arenaCap) {
    let cap = t.arenaCap << 1;
    if (cap < t.arenaUsed + len) cap = t.arenaUsed + len;
    t.arena = heap.realloc(t.arena, cap + PAD);
    t.arenaCap = cap;
  }
  memory.copy(t.arena + t.arenaUsed, p, len);
  const k = t.keys + (<usize>id << 3);
  store<u32>(k, <u32>t.arenaUsed);
  store<u32>(k, <u32>len, 4);
  t.arenaUsed += len;
  const at = t.slots + (<usize>slot << 3);
  store<u32>(at, id + 1);
  store<u32>(at, h, 4);
  if (t.size << 1 > t.mask + 1) rehashKeys(t);
  t.last = <i32>id;
  return <i32>id;
}

export function rehashKeys(t: KeyTable): void {
  const oldSlots = t.slots;
  const oldCount = t.mask + 1;
  const count = oldCount << 1;
  const mask = count - 1;
  const slots = zeroed(<usize>count << 3);
  for (let i: u32 = 0; i < oldCount; i++) {
    const from = oldSlots + (<usize>i << 3);
    const v = load<u32>(from);
    if (v == 0) continue;
    const h = load<u32>(from, 4);
    let slot = h & mask;
    while (load<u32>(slots + (<usize>slot << 3)) != 0) slot = (slot + 1) & mask;
    store<u32>(slots + (<usize>slot << 3), v);
    store<u32>(slots + (<usize>slot << 3), h, 4);
  }
  heap.free(oldSlots);
  t.slots = slots;
  t.mask = mask;
}

@inline export function countKey(t: KeyTable, id: i32): void {
  const at = t.counts + (<usize>id << 3);
  store<f64>(at, load<f64>(at) + 1);
}
