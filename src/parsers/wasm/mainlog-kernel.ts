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
 * Memory layout: every buffer comes from the runtime's allocator (TLSF, `--runtime minimal`);
 * no managed objects are created after start-up, so nothing needs collecting.
 */

const SP: u32 = 0x20;
const NL: u32 = 0x0a;
const QUOTE: u32 = 0x22;
const BACKSLASH: u32 = 0x5c;
const LBRACKET: u32 = 0x5b;
const RBRACKET: u32 = 0x5d;

/** Bytes readable past the end of any fed range (SIMD loads and 8-byte hashing read ahead). */
const PAD: usize = 64;

// ---------------------------------------------------------------------------------------------
// Byte helpers

@inline function byteAt(p: usize): u32 {
  return <u32>load<u8>(p);
}

@inline function isDigit(c: u32): bool {
  return c - 0x30 < 10;
}

@inline function isLetter(c: u32): bool {
  return (c | 0x20) - 0x61 < 26;
}

/** First p in [p, e) holding byte c, else e. Reads up to 15 bytes past e (PAD). */
function findByte(p: usize, e: usize, c: u8): usize {
  const needle = i8x16.splat(c);
  while (p < e) {
    const m = i8x16.bitmask(i8x16.eq(v128.load(p), needle));
    if (m != 0) {
      const at = p + <usize>ctz(m);
      return at < e ? at : e;
    }
    p += 16;
  }
  return e;
}

/** First p in [p, e) holding `"` or `\`, else e. */
function findQuoteOrBackslash(p: usize, e: usize): usize {
  const q = i8x16.splat(<i8>QUOTE);
  const b = i8x16.splat(<i8>BACKSLASH);
  while (p < e) {
    const v = v128.load(p);
    const m = i8x16.bitmask(v128.or(i8x16.eq(v, q), i8x16.eq(v, b)));
    if (m != 0) {
      const at = p + <usize>ctz(m);
      return at < e ? at : e;
    }
    p += 16;
  }
  return e;
}

/** Hash of [p, p + len), 8 bytes at a time. Reads up to 7 bytes past the key (PAD). */
@inline function hashKey(p: usize, len: usize): u32 {
  let h: u64 = 0x9e3779b97f4a7c15 ^ <u64>len;
  let i: usize = 0;
  while (i + 8 <= len) {
    h = (h ^ load<u64>(p + i)) * 0xff51afd7ed558ccd;
    h ^= h >> 32;
    i += 8;
  }
  if (i < len) {
    const v = load<u64>(p + i) & ((<u64>1 << (<u64>(len - i) << 3)) - 1);
    h = (h ^ v) * 0xc4ceb9fe1a85ec53;
    h ^= h >> 29;
  }
  h *= 0xff51afd7ed558ccd;
  h ^= h >> 32;
  return <u32>h;
}

/** Whether [a, a + len) and [b, b + len) hold the same bytes. Reads up to 7 bytes past both (PAD). */
@inline function bytesEqual(a: usize, b: usize, len: usize): bool {
  let i: usize = 0;
  while (i + 8 <= len) {
    if (load<u64>(a + i) != load<u64>(b + i)) return false;
    i += 8;
  }
  if (i == len) return true;
  const mask = (<u64>1 << (<u64>(len - i) << 3)) - 1;
  return ((load<u64>(a + i) ^ load<u64>(b + i)) & mask) == 0;
}

/** Bit i set when byte i of the 16 at p is a digit. */
@inline function digitMask(p: usize): u32 {
  return <u32>i8x16.bitmask(i8x16.lt_u(i8x16.sub(v128.load(p), i8x16.splat(0x30)), i8x16.splat(10)));
}

/** Bit i set when byte i of the 16 at p is an ASCII letter or digit. */
@inline function alnumMask(p: usize): u32 {
  const v = v128.load(p);
  const digit = i8x16.lt_u(i8x16.sub(v, i8x16.splat(0x30)), i8x16.splat(10));
  const letter = i8x16.lt_u(i8x16.sub(v128.or(v, i8x16.splat(0x20)), i8x16.splat(0x61)), i8x16.splat(26));
  return <u32>i8x16.bitmask(v128.or(digit, letter));
}

function zeroed(bytes: usize): usize {
  const p = heap.alloc(bytes);
  memory.fill(p, 0, bytes);
  return p;
}

// ---------------------------------------------------------------------------------------------
// Interned keys: id = insertion order, so results do not depend on the hash function.

@unmanaged class KeyTable {
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

function newKeyTable(maxKeys: u32, initialSlots: u32): KeyTable {
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
function keyId(t: KeyTable, p: usize, len: usize): i32 {
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

function rehashKeys(t: KeyTable): void {
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

@inline function countKey(t: KeyTable, id: i32): void {
  const at = t.counts + (<usize>id << 3);
  store<f64>(at, load<f64>(at) + 1);
}

// ---------------------------------------------------------------------------------------------
// (parent id, child id) counts. One u64 per slot, so that the two big relations (sender and
// AUTH id to client address) stay within the L3 cache on a busy server log:
//   bits 46..63 parent + 1 (0 = empty slot), bits 28..45 child, bits 0..27 count.
// Ids are below 2^18 (MAX_KEYS). A count that would pass COUNT_MASK moves half of itself to a
// small spill list (a pair seen 268 million times), which the reader adds back.

const MAX_KEYS: u32 = (1 << 18) - 1;
const COUNT_BITS: u64 = 28;
let countLimit: u64 = (<u64>1 << COUNT_BITS) - 1;
const MAX_SPILLS: u32 = 4096;
/** Spill entries: pair key (u64: relation << 40 | parent + 1 << 18 | child) and extra count (f64). */
let spills: usize = 0;
let spillCount: u32 = 0;

@unmanaged class PairTable {
  cells: usize = 0;
  mask: u32 = 0;
  size: u32 = 0;
  maxPairs: u32 = 0;
  relation: u32 = 0;
  dropped: f64 = 0;
}

function newPairTable(relation: u32, maxPairs: u32, initialSlots: u32): PairTable {
  const t = changetype<PairTable>(zeroed(offsetof<PairTable>()));
  t.maxPairs = maxPairs;
  t.relation = relation;
  t.mask = initialSlots - 1;
  t.cells = zeroed(<usize>initialSlots << 3);
  return t;
}

@inline function pairHash(key: u64): u32 {
  let h = key * 0x9e3779b97f4a7c15;
  h ^= h >> 29;
  return <u32>(h >> 32);
}

function spill(t: PairTable, key: u64, n: f64): void {
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

function pairAdd(t: PairTable, parent: i32, child: i32, n: u32): void {
  const key = ((<u64>parent + 1) << 18) | <u64>child;
  let slot = pairHash(key) & t.mask;
  while (true) {
    const at = t.cells + (<usize>slot << 3);
    const v = load<u64>(at);
    if (v == 0) break;
    if (v >> COUNT_BITS == key) {
      let count = (v & countLimit) + <u64>n;
      if (count > countLimit) {
        const half = countLimit >> 1;
        spill(t, key, <f64>half);
        count -= half;
      }
      store<u64>(at, (key << COUNT_BITS) | count);
      return;
    }
    slot = (slot + 1) & t.mask;
  }
  if (t.size >= t.maxPairs) {
    t.dropped += <f64>n;
    return;
  }
  store<u64>(t.cells + (<usize>slot << 3), (key << COUNT_BITS) | <u64>n);
  t.size++;
  // Grown at three quarters full: the table stays small (cache) and probes stay short.
  if (t.size * 4 > (t.mask + 1) * 3) growPairs(t);
}

// Pair additions are queued and applied in batches, in their original order. Before a batch is
// applied its slots are touched once: those loads do not depend on each other, so the processor
// overlaps their cache misses instead of waiting for one after another.
const BATCH: u32 = 256;
let queued: usize = 0;
let queuedCount: u32 = 0;
let touchSink: u64 = 0;

@inline function queuePair(relation: i32, parent: i32, child: i32): void {
  store<u64>(queued + (<usize>queuedCount << 3), (<u64>relation << 40) | ((<u64>parent + 1) << 18) | <u64>child);
  if (++queuedCount == BATCH) applyQueued();
}

function applyQueued(): void {
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

function growPairs(t: PairTable): void {
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

// ---------------------------------------------------------------------------------------------
// Scanner state (one scanner per instance)

const T_CWD = 0, T_SENDERS = 1, T_AUTH = 2, T_SUBJECTS = 3, T_USERS = 4, T_IPS = 5, T_NAMES = 6;
const P_CWD_SENDERS = 0, P_SENDER_IPS = 1, P_AUTH_IPS = 2, P_AUTH_NAMES = 3, P_SUBJECT_SENDERS = 4, P_USER_SENDERS = 5;

let tables: usize = 0;
let pairs: usize = 0;

@inline function table(i: i32): KeyTable {
  return changetype<KeyTable>(load<usize>(tables + (<usize>i << alignof<usize>())));
}

@inline function pairTable(i: i32): PairTable {
  return changetype<PairTable>(load<usize>(pairs + (<usize>i << alignof<usize>())));
}

let arrivals: f64 = 0;
let incoming: f64 = 0;
let bounces: f64 = 0;
let localArrivals: f64 = 0;
let authArrivals: f64 = 0;
let cwdSubmissions: f64 = 0;
let adminInvocations: f64 = 0;
let dropped: f64 = 0;
/** Pending non-admin cwd line (table id), for the next local arrival in the same second. */
let pendingCwd: i32 = -1;
let pendingTime: usize = 0;

let input: usize = 0;
let inputCap: usize = 0;

/** Set up the tables; call once per instance, before anything else. */
export function init(maxKeys: u32, maxPairs: u32): void {
  if (maxKeys > MAX_KEYS) maxKeys = MAX_KEYS;
  tables = zeroed(7 << alignof<usize>());
  pairs = zeroed(6 << alignof<usize>());
  for (let i = 0; i < 7; i++) {
    store<usize>(tables + (<usize>i << alignof<usize>()), changetype<usize>(newKeyTable(i == T_NAMES ? 1000 : maxKeys, 1024)));
  }
  for (let i = 0; i < 6; i++) store<usize>(pairs + (<usize>i << alignof<usize>()), changetype<usize>(newPairTable(i, maxPairs, 4096)));
  pendingTime = zeroed(32);
  spills = zeroed(<usize>MAX_SPILLS << 4);
  queued = zeroed(<usize>BATCH << 3);
}

/** Keeps the touch loads of applyQueued from being optimised away. */
export function touched(): u64 {
  return touchSink;
}

/** Tests only: a small count limit exercises the spill path. */
export function setPairCountLimit(limit: u32): void {
  countLimit = <u64>limit;
}

/** The input area, at least `size` bytes (plus read-ahead padding); contents are kept on growth. */
export function inputBuffer(size: usize): usize {
  if (size > inputCap) {
    input = input == 0 ? heap.alloc(size + PAD) : heap.realloc(input, size + PAD);
    inputCap = size;
  }
  return input;
}

/**
 * Scan input[start, end): complete lines (a final one without `\n` is fine). The byte at `end`
 * is replaced by a newline while scanning and restored after, so every field walk stops there.
 */
export function feed(start: usize, end: usize): void {
  const base = input;
  const e = base + end;
  const saved = load<u8>(e);
  store<u8>(e, <u8>NL);
  let s = base + start;
  while (s < e) {
    const le = findByte(s, e, <u8>NL);
    line(s, le);
    s = le + 1;
  }
  applyQueued();
  store<u8>(e, saved);
}

// ---------------------------------------------------------------------------------------------
// Lines (rules: timestampPrefixLength, MainlogScanner in mainlog-scan.ts)

/** Length of the `YYYY-MM-DD HH:MM:SS[.fff][ +zzzz] [[pid] ]` prefix, or 0. */
function timestampPrefix(s: usize, e: usize): usize {
  if (e - s < 20) return 0;
  if (byteAt(s + 4) != 0x2d || byteAt(s + 7) != 0x2d || byteAt(s + 10) != SP || byteAt(s + 13) != 0x3a || byteAt(s + 16) != 0x3a) return 0;
  // Digits at 0-3, 5-6, 8-9, 11-12, 14-15 (one vector), then 17-18.
  if ((digitMask(s) & 0xdb6f) != 0xdb6f || !isDigit(byteAt(s + 17)) || !isDigit(byteAt(s + 18))) return 0;
  let p = s + 19;
  if (byteAt(p) == 0x2e && isDigit(byteAt(p + 1))) {
    p++;
    while (p < e && isDigit(byteAt(p))) p++;
  }
  if (byteAt(p) == SP && (byteAt(p + 1) == 0x2b || byteAt(p + 1) == 0x2d) && isDigit(byteAt(p + 2)) && isDigit(byteAt(p + 3)) &&
      isDigit(byteAt(p + 4)) && isDigit(byteAt(p + 5)) && p + 6 < e && byteAt(p + 6) == SP) p += 6;
  if (p >= e || byteAt(p) != SP) return 0;
  p++;
  if (byteAt(p) == LBRACKET && isDigit(byteAt(p + 1))) {
    let q = p + 1;
    while (q < e && isDigit(byteAt(q))) q++;
    if (byteAt(q) == RBRACKET && q + 1 < e && byteAt(q + 1) == SP) p = q + 2;
  }
  return p - s;
}

/** 23 or 16 when an Exim message ID starts at p (followed by a space or the line end), else 0. */
function eximIdLength(p: usize, e: usize): usize {
  const len = e - p;
  if (len < 16 || byteAt(p + 6) != 0x2d) return 0;
  const head = alnumMask(p);
  // TTTTTT-PPPPPPPPPPP-SSSS: letters or digits everywhere but 6 and 18.
  if (len >= 23 && byteAt(p + 18) == 0x2d && (head & 0xffbf) == 0xffbf && (alnumMask(p + 16) & 0x7b) == 0x7b &&
      (len == 23 || byteAt(p + 23) == SP)) return 23;
  // TTTTTT-PPPPPP-SS: everywhere but 6 and 13.
  if (byteAt(p + 13) == 0x2d && (head & 0xdfbf) == 0xdfbf && (len == 16 || byteAt(p + 16) == SP)) return 16;
  return 0;
}

/** `<= ` as a little-endian u32 of three bytes. */
const ARRIVAL_FLAG: u32 = 0x203d3c;
/** `cwd=` as a little-endian u32. */
const CWD_MARK: u32 = 0x3d647763;

function line(s: usize, e: usize): void {
  // Most lines are deliveries, completions and the like. In the usual layout (timestamp, one
  // space, no fraction, zone or [pid]) the only offsets that matter are fixed: `cwd=` right
  // after the timestamp or `<= ` after a 23- or 16-character ID. When none is there the line
  // cannot count, whatever the rest of it holds; anything unusual takes the full path below.
  if (e - s >= 20 && byteAt(s + 19) == SP) {
    const c = byteAt(s + 20);
    if (c != 0x5b && c != 0x2b && c != 0x2d && load<u32>(s + 20) != CWD_MARK &&
        (load<u32>(s + 44) & 0xffffff) != ARRIVAL_FLAG && (load<u32>(s + 37) & 0xffffff) != ARRIVAL_FLAG) return;
  }
  const tl = timestampPrefix(s, e);
  if (tl == 0) return;
  const p = s + tl;
  if (byteAt(p) == 0x63 && byteAt(p + 1) == 0x77 && byteAt(p + 2) == 0x64 && byteAt(p + 3) == 0x3d) {
    cwdLine(s, p + 4, e);
    return;
  }
  const idLen = eximIdLength(p, e);
  if (idLen == 0) return;
  const q = p + idLen + 1;
  if (q + 2 < e && byteAt(q) == 0x3c && byteAt(q + 1) == 0x3d && byteAt(q + 2) == SP) arrival(s, q + 3, e);
}

function cwdLine(lineStart: usize, p: usize, e: usize): void {
  // The path ends at the first " N args: ".
  let argsStart: usize = 0;
  let pathEnd: usize = 0;
  let found = false;
  let sp = p;
  while (true) {
    sp = findByte(sp, e, <u8>SP);
    if (sp >= e) break;
    let d = sp + 1;
    while (d < e && isDigit(byteAt(d))) d++;
    if (d > sp + 1 && d + 7 <= e && byteAt(d) == SP && byteAt(d + 1) == 0x61 && byteAt(d + 2) == 0x72 && byteAt(d + 3) == 0x67 &&
        byteAt(d + 4) == 0x73 && byteAt(d + 5) == 0x3a && byteAt(d + 6) == SP) {
      pathEnd = sp;
      argsStart = d + 7;
      found = true;
      break;
    }
    sp++;
  }
  if (!found) return;
  if (isAdminArgs(argsStart, e)) {
    adminInvocations++;
    pendingCwd = -1;
    return;
  }
  cwdSubmissions++;
  const cwd = table(T_CWD);
  const id = keyId(cwd, p, pathEnd - p);
  if (id < 0) {
    dropped++;
    pendingCwd = -1;
    return;
  }
  countKey(cwd, id);
  pendingCwd = id;
  memory.copy(pendingTime, lineStart, 19);
}

/** An exim run by an administrator (queue listing, removal, delivery): skip argv[0], look at options. */
function isAdminArgs(s: usize, e: usize): bool {
  let i = s;
  let first = true;
  while (i <= e) {
    const next = findByte(i, e, <u8>SP);
    if (!first && next - i >= 2 && byteAt(i) == 0x2d) {
      const c = byteAt(i + 1);
      if (c == 0x4d || c == 0x71 || c == 0x52) return true;
      if (c == 0x62) {
        const d: u32 = next - i > 2 ? byteAt(i + 2) : 0xffff;
        if (d != 0x6d && d != 0x73 && d != 0x53 && d != 0x6e) return true;
      }
    }
    first = false;
    i = next + 1;
  }
  return false;
}

/** `Name=` at the start of a token (letters then `=`). */
function isFieldToken(s: usize, e: usize): bool {
  let i = s;
  while (i < e && isLetter(byteAt(i))) i++;
  return i > s && i < e && byteAt(i) == 0x3d;
}

function arrival(lineStart: usize, p: usize, e: usize): void {
  arrivals++;
  const sp = findByte(p, e, <u8>SP);
  const bounce = sp - p == 2 && byteAt(p) == 0x3c && byteAt(p + 1) == 0x3e;
  let ipStart: usize = 0, ipEnd: usize = 0, hasIp = false, hostSeen = false;
  let userStart: usize = 0, userEnd: usize = 0, hasUser = false;
  let authStart: usize = 0, authColon: usize = 0, authEnd: usize = 0, hasAuth = false;
  let subjStart: usize = 0, subjEnd: usize = 0, hasSubject = false;
  let pos = sp + 1;
  while (pos < e) {
    const c0 = byteAt(pos);
    const c1 = byteAt(pos + 1);
    if (c0 == 0x54 && c1 == 0x3d && byteAt(pos + 2) == QUOTE) {
      // T="...": ends at the first unescaped quote; nothing but " for ..." follows.
      let i = pos + 3;
      let endq = e;
      while (i < e) {
        i = findQuoteOrBackslash(i, e);
        if (i >= e) break;
        if (byteAt(i) == BACKSLASH) {
          i += 2;
          continue;
        }
        endq = i;
        break;
      }
      subjStart = pos + 3;
      subjEnd = endq;
      hasSubject = true;
      break;
    }
    const next = findByte(pos, e, <u8>SP);
    if (next - pos == 3 && c0 == 0x66 && c1 == 0x6f && byteAt(pos + 2) == 0x72) break; // "for"
    if (c1 == 0x3d) {
      if (c0 == 0x48 && !hostSeen) {
        // H=name (helo) [ip]:port: the first [..] among this value and the next two tokens.
        hostSeen = true;
        let t = pos + 2;
        for (let k = 0; k < 3 && t <= e; k++) {
          const tn = findByte(t, e, <u8>SP);
          if (byteAt(t) == LBRACKET) {
            const close = findByte(t + 1, tn, <u8>RBRACKET);
            if (close < tn) {
              ipStart = t + 1;
              ipEnd = close;
              hasIp = true;
            }
            break;
          }
          if (k > 0 && isFieldToken(t, tn)) break;
          t = tn + 1;
        }
      } else if (c0 == 0x55 && !hasUser) {
        userStart = pos + 2;
        userEnd = next;
        hasUser = true;
      } else if (c0 == 0x41 && !hasAuth) {
        const colon = findByte(pos + 2, next, 0x3a);
        if (colon > pos + 2 && colon < next) {
          authStart = pos + 2;
          authColon = colon;
          authEnd = next;
          hasAuth = true;
        }
      }
    }
    pos = next + 1;
  }

  if (bounce) bounces++;
  const local = !hostSeen;
  if (!local && !hasAuth) {
    // Unauthenticated mail from another server: inbound, not what this scan ranks.
    incoming++;
    return;
  }
  let sender: i32 = -1;
  if (!bounce) {
    const senders = table(T_SENDERS);
    sender = keyId(senders, p, sp - p);
    if (sender < 0) dropped++;
    else countKey(senders, sender);
  }
  const ip: i32 = hasIp ? keyId(table(T_IPS), ipStart, ipEnd - ipStart) : -1;
  if (sender >= 0 && ip >= 0) queuePair(P_SENDER_IPS, sender, ip);
  if (hasAuth) {
    authArrivals++;
    const authTable = table(T_AUTH);
    const auth = keyId(authTable, authColon + 1, authEnd - authColon - 1);
    if (auth < 0) dropped++;
    else {
      countKey(authTable, auth);
      if (ip >= 0) queuePair(P_AUTH_IPS, auth, ip);
      const name = keyId(table(T_NAMES), authStart, authColon - authStart);
      if (name >= 0) queuePair(P_AUTH_NAMES, auth, name);
    }
  }
  if (local) {
    localArrivals++;
    if (hasUser) {
      const users = table(T_USERS);
      const user = keyId(users, userStart, userEnd - userStart);
      if (user < 0) dropped++;
      else {
        countKey(users, user);
        if (sender >= 0) queuePair(P_USER_SENDERS, user, sender);
      }
    }
    const pending = pendingCwd;
    if (pending >= 0 && !bounce && bytesEqual(lineStart, pendingTime, 19)) {
      if (sender >= 0) queuePair(P_CWD_SENDERS, pending, sender);
      pendingCwd = -1;
    }
  }
  if (hasSubject && !bounce) {
    const subjects = table(T_SUBJECTS);
    const subject = keyId(subjects, subjStart, subjEnd - subjStart);
    if (subject < 0) dropped++;
    else {
      countKey(subjects, subject);
      if (sender >= 0) queuePair(P_SUBJECT_SENDERS, subject, sender);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Results, read by src/parsers/mainlog-scan.ts through views of this memory

/** Totals in a fixed order: arrivals, incoming, bounces, local, authenticated, cwd, admin, dropped. */
export function total(i: i32): f64 {
  switch (i) {
    case 0: return arrivals;
    case 1: return incoming;
    case 2: return bounces;
    case 3: return localArrivals;
    case 4: return authArrivals;
    case 5: return cwdSubmissions;
    case 6: return adminInvocations;
    default: return dropped;
  }
}

export function tableSize(i: i32): u32 { return table(i).size; }
/** Two u32 per id: arena offset, length. */
export function tableKeys(i: i32): usize { return table(i).keys; }
export function tableArena(i: i32): usize { return table(i).arena; }
/** One f64 per id. */
export function tableCounts(i: i32): usize { return table(i).counts; }

export function pairSlots(i: i32): u32 { return pairTable(i).mask + 1; }
/** One u64 per slot (layout above). */
export function pairCells(i: i32): usize { return pairTable(i).cells; }
export function pairDropped(i: i32): f64 { return pairTable(i).dropped; }
export function pairSize(i: i32): u32 { return pairTable(i).size; }
/** 16 bytes per entry: u64 relation << 40 | (parent + 1) << 18 | child, f64 extra count. */
export function spillList(): usize { return spills; }
export function spillLength(): u32 { return spillCount; }

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
    if (id < 0) dropped += count;
    else store<f64>(t.counts + (<usize>id << 3), load<f64>(t.counts + (<usize>id << 3)) + count);
    store<i32>(remap + (<usize>k << 2), id);
    off += len;
  }
}

/**
 * Merge `n` pair slots (u64 words in the layout above) into relation `i`, translating parent and
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

/** Add to a total (order of `total`). */
export function addTotal(i: i32, value: f64): void {
  switch (i) {
    case 0: arrivals += value; break;
    case 1: incoming += value; break;
    case 2: bounces += value; break;
    case 3: localArrivals += value; break;
    case 4: authArrivals += value; break;
    case 5: cwdSubmissions += value; break;
    case 6: adminInvocations += value; break;
    default: dropped += value;
  }
}

/**
 * Copy the pairs of relation `i` whose parent is marked in `kept` (one byte per parent id; 0
 * means every parent) to `out`, 16 bytes each: parent (u32), child (u32), count (f64, without
 * spills). Returns how many. `out` must hold pairSize(i) entries.
 */
export function gatherPairs(i: i32, kept: usize, out: usize): u32 {
  const t = pairTable(i);
  const slots = t.mask + 1;
  let n: u32 = 0;
  for (let s: u32 = 0; s < slots; s++) {
    const v = load<u64>(t.cells + (<usize>s << 3));
    if (v == 0) continue;
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
