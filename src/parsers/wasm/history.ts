/**
 * The history filter: the second look at a main log, for the flagged ids and addresses only
 * (src/investigate/activity-read.ts). It finds the lines JavaScript's ActivityCollector needs
 * (src/investigate/activity.ts) and hands over their parsed fields as offsets, so that only
 * those lines become strings and none is parsed twice.
 *
 * Which lines: exactly those the collector was fed before, line by line: every line holding
 * ` <= ` and one of the needles (fixed strings: the flagged ids as logged and lower-cased, and
 * `[address]` of the shared addresses) anywhere in its bytes. For each, one record: the server's
 * interface (`I=[..]` after the first ` <= `, as the collector reads it) and, for an arrival that
 * is not a bounce, its fields by the scanner's own rules (scan.ts).
 *
 * Needles are found with a map of 8-byte pieces of them (4-byte when a needle is shorter than
 * 8; hashed, 64 Ki entries) probed every few bytes of a line (see `step`), or at its `[` only
 * for the needles that start with one (see `bracketCount`); the few probes it lets
 * through are checked against the needles holding that piece. Needles shorter than four bytes
 * are searched for one by one (rare: an id of 1-3 bytes). Eight bytes because the flagged
 * addresses share most 4-byte pieces (`@site`, `.exam`) with every arrival line.
 *
 * Its own instance of the module (state below is per instance); `inputBuffer` is the input area.
 */
import { byteAt, bytesEqual, findByte, LBRACKET, lineStartBefore, NL, PAD, SP, zeroed } from './bytes';
import { keyId, KeyTable, newKeyTable } from './key-table';
import {
  aAuthIdEnd, aAuthIdStart, aBounce, aForEnd, aHasAuthId, aHasIp, aHasSubject, aIpEnd, aIpStart, aSenderEnd, aSubjEnd, aSubjStart,
  eximIdLength, inputBuffer, parseArrival, timestampPrefix,
} from './scan';

/** u32 fields per record (see historyFeed). */
const RECORD_WORDS: usize = 20;
/**
 * Distinct values interned per field (senders, AUTH ids, client addresses, interfaces,
 * recipient lists): JavaScript makes one string per id, and a value that no longer fits is
 * handed over as bytes (id -1), so memory stays bounded whatever the log. Recipient lists are
 * often one per message: fewer of them are kept.
 */
const MAX_VALUES: u32 = 200000;
const MAX_RECIPIENT_LISTS: u32 = 20000;
const V_SENDER = 0, V_AUTH = 1, V_IP = 2, V_INTERFACE = 3, V_RECIPIENTS = 4;
/** The five KeyTables (pointers). */
let values: usize = 0;

export const H_ARRIVAL: u32 = 1, H_IP: u32 = 2, H_AUTH_ID: u32 = 4, H_SUBJECT: u32 = 8, H_RECIPIENTS: u32 = 16, H_INTERFACE: u32 = 32;

let arena: usize = 0;
/** Per needle: offset in the arena and length (u32 each), the ones shorter than 4 bytes first. */
let needles: usize = 0;
let shortCount: u32 = 0;
/**
 * Needles of 4 bytes or more are looked for at every `step`-th byte of a line only, where
 * step = (their shortest length) - (width - 1): any occurrence then holds one of the probed
 * positions at an offset below `step` into it, and the `width` bytes there are among the
 * needle's first (step + width - 1). Each such (needle, offset) is listed under those bytes.
 */
let step: usize = 1;
/** Bytes of a piece: 8, or 4 when a needle of 4 to 7 bytes is among them. */
let width: usize = 8;
let widthMask: u64 = 0;
let longFirst: u32 = 0;
let longCount: u32 = 0;
/**
 * Needles of 4 bytes or more are of two kinds. Those that start with `[` (the shared addresses,
 * `[ip]`, the shortest needles as a rule) are looked for only where a line holds `[`: an
 * occurrence starts there, so one (needle, offset 0) entry each suffices. The others are
 * probed every `step` bytes, a step set by the shortest of them alone: with the short bracketed
 * addresses among them, lines were probed nearly twice as often as the mailboxes need.
 */
let steppedCount: u32 = 0;
let bracketCount: u32 = 0;
/** One byte per hashed 4 bytes: 1 when some (needle, offset) has 4 bytes of that hash. */
let gramMap: usize = 0;
/** Open addressing by the piece: value (u64), count, first entry, fill (u32 each); 24 bytes a slot. */
let groups: usize = 0;
let groupMask: u32 = 0;
/** (needle, offset) pairs, u32 each, grouped by slot. */
let entries: usize = 0;

let records: usize = 0;
let recordCap: u32 = 0;

@inline function gramHash(x: u64): u32 {
  return <u32>((x * 0x9e3779b97f4a7c15) >> 48);
}

/** The piece at p (`width` bytes; reads 8, PAD). */
@inline function pieceAt(p: usize): u64 {
  return load<u64>(p) & widthMask;
}

@inline function slotAt(slot: u32): usize {
  return groups + <usize>slot * 24;
}

/** The slot of the piece `x` (inserted, count 0, when new). */
function slotOf(x: u64): usize {
  let slot = gramHash(x) & groupMask;
  while (true) {
    const at = slotAt(slot);
    if (load<u32>(at, 8) == 0 || load<u64>(at) == x) {
      store<u64>(at, x);
      return at;
    }
    slot = (slot + 1) & groupMask;
  }
}

@inline function needleAt(k: u32): usize {
  return arena + <usize>load<u32>(needles + (<usize>k << 3));
}

@inline function needleLength(k: u32): usize {
  return <usize>load<u32>(needles + (<usize>k << 3), 4);
}

/** Whether needle k (4 bytes or more) is looked for at the `[` of a line only. */
@inline function bracketed(k: u32): bool {
  return load<u8>(needleAt(k)) == <u8>LBRACKET;
}

/**
 * The needles: `n` strings back to back at `bytes`, their lengths (u32) at `lens`, those
 * shorter than 4 bytes first (JavaScript sorts them so).
 */
export function historyNeedles(bytes: usize, lens: usize, n: u32): void {
  values = zeroed(5 << alignof<usize>());
  for (let i = 0; i < 5; i++) store<usize>(values + (<usize>i << alignof<usize>()), changetype<usize>(newKeyTable(i == V_RECIPIENTS ? MAX_RECIPIENT_LISTS : MAX_VALUES, 1024)));
  let total: usize = 0;
  for (let k: u32 = 0; k < n; k++) total += <usize>load<u32>(lens + (<usize>k << 2));
  arena = zeroed(total + PAD);
  memory.copy(arena, bytes, total);
  needles = zeroed((<usize>n << 3) + 8);
  shortCount = 0;
  let shortest: usize = 0;
  let off: usize = 0;
  for (let k: u32 = 0; k < n; k++) {
    const len = load<u32>(lens + (<usize>k << 2));
    store<u32>(needles + (<usize>k << 3), <u32>off);
    store<u32>(needles + (<usize>k << 3), len, 4);
    if (len < 4) shortCount++;
    else if (shortest == 0 || <usize>len < shortest) shortest = <usize>len;
    off += <usize>len;
  }
  longFirst = shortCount;
  longCount = n - shortCount;
  width = shortest >= 8 || shortest == 0 ? 8 : 4;
  widthMask = width == 8 ? <u64>-1 : 0xffffffff;
  // Every long needle is at least `width` bytes, so a bracketed one's first piece is its own.
  let shortestStepped: usize = 0;
  bracketCount = 0;
  for (let k = longFirst; k < n; k++) {
    if (bracketed(k)) bracketCount++;
    else if (shortestStepped == 0 || needleLength(k) < shortestStepped) shortestStepped = needleLength(k);
  }
  steppedCount = longCount - bracketCount;
  step = shortestStepped >= width ? shortestStepped - (width - 1) : 1;
  const pairs = <u32>(<usize>steppedCount * step + <usize>bracketCount);
  let slots: u32 = 16;
  while (slots < pairs * 2) slots <<= 1;
  groupMask = slots - 1;
  groups = zeroed(<usize>slots * 24);
  gramMap = zeroed(65536);
  entries = zeroed((<usize>pairs << 3) + 8);
  for (let k = longFirst; k < n; k++) {
    const offsets: usize = bracketed(k) ? 1 : step;
    for (let o: usize = 0; o < offsets; o++) {
      const x = pieceAt(needleAt(k) + o);
      const at = slotOf(x);
      store<u32>(at, load<u32>(at, 8) + 1, 8);
      store<u8>(gramMap + gramHash(x), 1);
    }
  }
  let first: u32 = 0;
  for (let slot: u32 = 0; slot <= groupMask; slot++) {
    const at = slotAt(slot);
    store<u32>(at, first, 12);
    first += load<u32>(at, 8);
  }
  for (let k = longFirst; k < n; k++) {
    const offsets: usize = bracketed(k) ? 1 : step;
    for (let o: usize = 0; o < offsets; o++) {
      const at = slotOf(pieceAt(needleAt(k) + o));
      const fill = load<u32>(at, 16);
      const entry = entries + (<usize>(load<u32>(at, 12) + fill) << 3);
      store<u32>(entry, k);
      store<u32>(entry, <u32>o, 4);
      store<u32>(at, fill + 1, 16);
    }
  }
}

/** Whether a needle of 4 bytes or more holds the piece `x`, found at j, at one of its listed offsets, within [s, e). */
function longNeedleAround(x: u64, j: usize, s: usize, e: usize): bool {
  let slot = gramHash(x) & groupMask;
  while (true) {
    const at = slotAt(slot);
    const count = load<u32>(at, 8);
    if (count == 0) return false;
    if (load<u64>(at) == x) {
      const first = load<u32>(at, 12);
      for (let m = first; m < first + count; m++) {
        const k = load<u32>(entries + (<usize>m << 3));
        const o = <usize>load<u32>(entries + (<usize>m << 3), 4);
        if (j < s + o) continue;
        const i = j - o;
        const len = needleLength(k);
        if (i + len <= e && bytesEqual(needleAt(k), i, len)) return true;
      }
      return false;
    }
    slot = (slot + 1) & groupMask;
  }
}

/** Whether [s, e) holds one of the needles. */
function holdsNeedle(s: usize, e: usize): bool {
  const map = gramMap;
  const w = width;
  if (steppedCount > 0) {
    const by = step;
    for (let j = s; j + w <= e; j += by) {
      const x = pieceAt(j);
      if (load<u8>(map + gramHash(x)) != 0 && longNeedleAround(x, j, s, e)) return true;
    }
  }
  if (bracketCount > 0) {
    for (let j = findByte(s, e, <u8>LBRACKET); j + w <= e; j = findByte(j + 1, e, <u8>LBRACKET)) {
      const x = pieceAt(j);
      if (load<u8>(map + gramHash(x)) != 0 && longNeedleAround(x, j, s, e)) return true;
    }
  }
  for (let k: u32 = 0; k < shortCount; k++) {
    const at = needleAt(k);
    const len = needleLength(k);
    if (len == 0 || e - s < len) continue;
    for (let i = s; i + len <= e; i++) if (bytesEqual(at, i, len)) return true;
  }
  return false;
}

/** The first ` I=[` at or after `from` in [from, e) (the position of its space), or e. */
function interfaceAt(from: usize, e: usize): usize {
  let i = from + 1;
  while (true) {
    i = findByte(i, e, 0x49);
    if (i + 2 >= e) return e;
    if (byteAt(i - 1) == SP && byteAt(i + 1) == 0x3d && byteAt(i + 2) == 0x5b) return i - 1;
    i++;
  }
}

/** Id of the bytes [p, e) among the values of field `v` (-1 when they no longer fit). */
@inline function valueId(v: i32, p: usize, e: usize): i32 {
  return keyId(changetype<KeyTable>(load<usize>(values + (<usize>v << alignof<usize>()))), p, e - p);
}

function record(k: u32): usize {
  if (k >= recordCap) {
    const cap = recordCap == 0 ? 4096 : recordCap << 1;
    records = records == 0 ? heap.alloc(<usize>cap * RECORD_WORDS * 4) : heap.realloc(records, <usize>cap * RECORD_WORDS * 4);
    recordCap = cap;
  }
  return records + <usize>k * RECORD_WORDS * 4;
}

/**
 * Filter the complete lines of input[start, end); returns how many records `historyRecords`
 * holds. Record words (offsets into the input area): 0 line start, 1 line end, 2 flags (H_*),
 * 3 sender start, 4 sender end, 5-6 client address, 7-8 AUTH id, 9-10 subject (raw, between
 * the quotes), 11 where the recipients start (they run to the line end), 12-13 the interface;
 * then ids of the values (see MAX_VALUES; -1: none or did not fit): 14 sender, 15 AUTH id,
 * 16 client address, 17 interface, 18 recipients.
 */
export function historyFeed(start: usize, end: usize): u32 {
  const base = inputBuffer(0);
  const e = base + end;
  const saved = load<u8>(e);
  store<u8>(e, <u8>NL);
  let n: u32 = 0;
  // The next ` <= ` is looked for across lines (most hold none, and splitting each one cost a
  // second scan of its bytes); the first `<` of a line that forms one is the line's first ` <= `
  // (the one whose `I=[..]` is read). `s` is a line start at or before the line looked at; a
  // `<` at a line's first byte forms none.
  let s = base + start;
  let from = s;
  while (true) {
    const lt = findByte(from, e, 0x3c);
    if (lt + 2 >= e) break;
    if (lt > s && byteAt(lt - 1) == SP && byteAt(lt + 1) == 0x3d && byteAt(lt + 2) == SP) {
      const ls = lineStartBefore(s, lt);
      const le = findByte(lt + 3, e, <u8>NL);
      if (holdsNeedle(ls, le)) n = lineRecord(n, base, ls, le, lt - 1);
      s = le + 1;
      from = s;
    } else {
      from = lt + 1;
    }
  }
  store<u8>(e, saved);
  return n;
}

function lineRecord(n: u32, base: usize, s: usize, e: usize, arrow: usize): u32 {
  let flags: u32 = 0;
  let ifaceStart: usize = 0, ifaceEnd: usize = 0;
  const iface = interfaceAt(arrow, e);
  if (iface < e) {
    const close = findByte(iface + 4, e, 0x5d);
    if (close < e) {
      flags |= H_INTERFACE;
      ifaceStart = iface + 4;
      ifaceEnd = close;
    }
  }
  let sender: usize = 0;
  const tl = timestampPrefix(s, e);
  if (tl != 0) {
    const p = s + tl;
    const idLen = eximIdLength(p, e);
    const q = p + idLen + 1;
    if (idLen != 0 && q + 2 < e && byteAt(q) == 0x3c && byteAt(q + 1) == 0x3d && byteAt(q + 2) == SP) {
      sender = q + 3;
      parseArrival(sender, e);
      if (!aBounce) flags |= H_ARRIVAL;
    }
  }
  if (flags == 0) return n;
  const r = record(n);
  store<u32>(r, <u32>(s - base));
  store<u32>(r, <u32>(e - base), 4);
  store<u32>(r, <u32>(ifaceStart - base), 48);
  store<u32>(r, <u32>(ifaceEnd - base), 52);
  store<i32>(r, (flags & H_INTERFACE) != 0 ? valueId(V_INTERFACE, ifaceStart, ifaceEnd) : -1, 68);
  store<i32>(r, -1, 56);
  store<i32>(r, -1, 60);
  store<i32>(r, -1, 64);
  store<i32>(r, -1, 72);
  if ((flags & H_ARRIVAL) != 0) {
    store<u32>(r, <u32>(sender - base), 12);
    store<u32>(r, <u32>(aSenderEnd - base), 16);
    store<i32>(r, valueId(V_SENDER, sender, aSenderEnd), 56);
    if (aHasIp) {
      flags |= H_IP;
      store<u32>(r, <u32>(aIpStart - base), 20);
      store<u32>(r, <u32>(aIpEnd - base), 24);
      store<i32>(r, valueId(V_IP, aIpStart, aIpEnd), 64);
    }
    if (aHasAuthId) {
      flags |= H_AUTH_ID;
      store<u32>(r, <u32>(aAuthIdStart - base), 28);
      store<u32>(r, <u32>(aAuthIdEnd - base), 32);
      store<i32>(r, valueId(V_AUTH, aAuthIdStart, aAuthIdEnd), 60);
    }
    let recipients: usize = 0;
    if (aHasSubject) {
      flags |= H_SUBJECT;
      store<u32>(r, <u32>(aSubjStart - base), 36);
      store<u32>(r, <u32>(aSubjEnd - base), 40);
      // After the closing quote only ` for ...` counts (exim-mainlog.ts).
      const q = aSubjEnd;
      if (q + 6 <= e && byteAt(q + 1) == SP && byteAt(q + 2) == 0x66 && byteAt(q + 3) == 0x6f && byteAt(q + 4) == 0x72 && byteAt(q + 5) == SP) recipients = q + 6;
    } else if (aForEnd != 0 && aForEnd < e) recipients = aForEnd + 1;
    if (recipients != 0) {
      flags |= H_RECIPIENTS;
      store<u32>(r, <u32>(recipients - base), 44);
      store<i32>(r, valueId(V_RECIPIENTS, recipients, e), 72);
    }
  }
  store<u32>(r, flags, 8);
  return n + 1;
}

export function historyRecords(): usize {
  return records;
}
