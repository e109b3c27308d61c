/**
 * The scanner proper: its state (one scanner per WebAssembly instance), the input area and the
 * line rules. The rules mirror exim-mainlog.ts byte for byte (the property tests compare both
 * against its line-by-line reference).
 */
import { BACKSLASH, bytesEqual, digitMask, alnumMask, byteAt, findByte, findQuoteOrBackslash, isDigit, isLetter, LBRACKET, NL, PAD, QUOTE, RBRACKET, SP, zeroed } from './bytes';
import { countKey, keyFind, keyId, KeyTable, newKeyTable } from './key-table';
import { applyQueued, initRelations, MAX_KEYS, pairAdd, pairTable, queuePair } from './pair-table';
import { P_AUTH_IPS, P_AUTH_NAMES, P_CWD_SENDERS, P_SELF_IPS, P_SENDER_IPS, P_SUBJECT_SENDERS, P_USER_SENDERS, RELATION_COUNT, T_AUTH, T_AUTH_DEFERRALS, T_AUTH_FAILURES, T_AUTH_RCPTS, T_CWD, T_CWD_DEFERRALS, T_CWD_FAILURES, T_CWD_FIRST, T_CWD_RCPTS, T_IPS, T_NAMES, T_SENDER_DEFERRALS, T_SENDER_FAILURES, T_SENDER_RCPTS, T_SENDERS, T_SUBJECTS, T_USERS, TABLE_COUNT, tableMaxKeys, TOT_ADMIN, TOT_ARRIVALS, TOT_AUTH, TOT_AUTH_WITHOUT_ID, TOT_BOUNCES, TOT_CWD, TOT_DEFERRALS, TOT_FAILURES, TOT_FORGOTTEN, TOT_INCOMING, TOT_LOCAL, TOT_OUTSIDE, TOT_UNJOINED } from './counters'; // numbering: src/parsers/count-registry.ts
import { addForgotten, find, finishHash, forgotten, HASH_START, hashByte, hashBytes, Memory, newMemory, remember } from './join';

let tables: usize = 0;

@inline export function table(i: i32): KeyTable {
  return changetype<KeyTable>(load<usize>(tables + (<usize>i << alignof<usize>())));
}

let arrivals: f64 = 0;
let incoming: f64 = 0;
let bounces: f64 = 0;
let localArrivals: f64 = 0;
let authArrivals: f64 = 0;
/** Authenticated arrivals logged without an id (`A=plain`): in authArrivals, not in the auth table. */
let authWithoutId: f64 = 0;
/** `==` and `**` lines in the window, and those whose message was not remembered (see join.ts). */
let deferralLines: f64 = 0;
let failureLines: f64 = 0;
let unjoined: f64 = 0;
/** Ranked arrivals by message id, and the (message, recipient) pairs counted as deferred. */
let messages: Memory = changetype<Memory>(0);
let deferred: Memory = changetype<Memory>(0);
let cwdSubmissions: f64 = 0;
let adminInvocations: f64 = 0;
let dropped: f64 = 0;
/**
 * Lines with a timestamp before the window's first second (`setWindow`): not counted. A log
 * whose lines are out of time order (merged by hand, Exim's test logs) has them after the
 * window's start; they are left out here and counted so the caller can say so.
 */
let outside: f64 = 0;
let windowFrom: usize = 0;
let windowSet = false;
/** Pending non-admin cwd line (table id), for the next local arrival in the same second. */
let pendingCwd: i32 = -1;
let pendingTime: usize = 0;

let input: usize = 0;
let inputCap: usize = 0;

/** Set up the tables; call once per instance, before anything else. */
export function init(maxKeys: u32, maxPairs: u32): void {
  if (maxKeys > MAX_KEYS) maxKeys = MAX_KEYS;
  tables = zeroed(TABLE_COUNT << alignof<usize>());
  for (let i = 0; i < TABLE_COUNT; i++) {
    store<usize>(tables + (<usize>i << alignof<usize>()), changetype<usize>(newKeyTable(tableMaxKeys(i) != 0 ? tableMaxKeys(i) : maxKeys, 1024)));
  }
  initRelations(RELATION_COUNT, maxPairs);
  pendingTime = zeroed(32);
  windowFrom = zeroed(32);
  messages = newMemory();
  deferred = newMemory();
}

/** Leave out lines whose timestamp is before the 19-byte `YYYY-MM-DD HH:MM:SS` at `at`. */
export function setWindow(at: usize): void {
  memory.copy(windowFrom, at, 19);
  windowSet = true;
}

/** The first 19 bytes at s against the window's start, as strings: <0, 0 or >0. */
@inline function compareToWindow(s: usize): i32 {
  // Big-endian words compare like the strings they hold.
  const a = bswap<u64>(load<u64>(s));
  const b = bswap<u64>(load<u64>(windowFrom));
  if (a != b) return a < b ? -1 : 1;
  const c = bswap<u64>(load<u64>(s + 8));
  const d = bswap<u64>(load<u64>(windowFrom + 8));
  if (c != d) return c < d ? -1 : 1;
  const x = bswap<u32>(load<u32>(s + 16)) >> 8;
  const y = bswap<u32>(load<u32>(windowFrom + 16)) >> 8;
  return x == y ? 0 : x < y ? -1 : 1;
}

/** Whether the line [s, e) has a timestamp before the window (the input is padded for the loads). */
@inline function beforeWindow(s: usize, e: usize): bool {
  return windowSet && compareToWindow(s) < 0 && timestampPrefix(s, e) != 0;
}

/**
 * Lines of input[start, end) with a timestamp at or after the window's start: a cheap look at
 * a part skipped on the belief that the log is in time order.
 */
export function countInWindow(start: usize, end: usize): f64 {
  const base = input;
  const e = base + end;
  const saved = load<u8>(e);
  store<u8>(e, <u8>NL);
  let n: f64 = 0;
  let s = base + start;
  while (s < e) {
    const le = findByte(s, e, <u8>NL);
    if (compareToWindow(s) >= 0 && timestampPrefix(s, le) != 0) n++;
    s = le + 1;
  }
  store<u8>(e, saved);
  return n;
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
/** `== ` and `** ` as little-endian u32s of three bytes. */
const DEFERRAL_FLAG: u32 = 0x203d3d;
const FAILURE_FLAG: u32 = 0x202a2a;

/** Whether the three bytes at p are one of the flags a line can count for. */
@inline function countedFlag(p: usize): bool {
  const f = load<u32>(p) & 0xffffff;
  return f == ARRIVAL_FLAG || f == DEFERRAL_FLAG || f == FAILURE_FLAG;
}

function line(s: usize, e: usize): void {
  if (beforeWindow(s, e)) {
    outside++;
    return;
  }
  // Most lines are deliveries, completions and the like. In the usual layout (timestamp, one
  // space, no fraction, zone or [pid]) the only offsets that matter are fixed: `cwd=` right
  // after the timestamp or `<= ` after a 23- or 16-character ID. When none is there the line
  // cannot count, whatever the rest of it holds; anything unusual takes the full path below.
  if (e - s >= 20 && byteAt(s + 19) == SP) {
    const c = byteAt(s + 20);
    if (c != 0x5b && c != 0x2b && c != 0x2d && load<u32>(s + 20) != CWD_MARK && !countedFlag(s + 44) && !countedFlag(s + 37)) return;
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
  if (!(q + 2 < e && byteAt(q + 2) == SP)) return;
  const c0 = byteAt(q), c1 = byteAt(q + 1);
  if (c0 == 0x3c && c1 == 0x3d) arrival(s, q + 3, e, p, idLen);
  else if (c0 == 0x3d && c1 == 0x3d) outcome(p, idLen, q + 3, e, true);
  else if (c0 == 0x2a && c1 == 0x2a) outcome(p, idLen, q + 3, e, false);
}

/**
 * A deferral or failure of message [id, id + idLen) to the recipient at p (up to the first
 * space, as classifyMainlogLine reads it): counted for the sender and AUTH id of its arrival.
 */
function outcome(id: usize, idLen: usize, p: usize, e: usize, deferral: bool): void {
  if (deferral) deferralLines++;
  else failureLines++;
  const key = finishHash(hashBytes(HASH_START, id, idLen, false));
  let aux: u64 = 0;
  if (deferral) {
    // A recipient is deferred at every attempt: the pair is counted once.
    const r = findByte(p, e, <u8>SP);
    aux = finishHash(hashBytes(hashByte(hashBytes(HASH_START, id, idLen, false), SP), p, r - p, true));
  }
  const at = find(messages, key);
  if (at == 0) {
    unjoined++;
    return;
  }
  if (deferral) {
    if (find(deferred, aux) != 0) return;
    remember(deferred, aux, 0);
  }
  const ids = load<u64>(at, 8);
  const sender = <i32>(ids & MAX_KEYS) - 1;
  const auth = <i32>((ids >> 18) & MAX_KEYS) - 1;
  const cwd = <i32>((ids >> 36) & MAX_KEYS) - 1;
  if (sender >= 0) countAs(deferral ? T_SENDER_DEFERRALS : T_SENDER_FAILURES, T_SENDERS, sender, 1);
  if (auth >= 0) countAs(deferral ? T_AUTH_DEFERRALS : T_AUTH_FAILURES, T_AUTH, auth, 1);
  if (cwd >= 0) countAs(deferral ? T_CWD_DEFERRALS : T_CWD_FAILURES, T_CWD, cwd, 1);
}

/** A ranked arrival's sender, AUTH id and cwd= directory for the join: each id + 1 (0: none) in 18 bits, as ids are below 2^18 (MAX_KEYS). */
@inline function arrivalIds(sender: i32, auth: i32, cwd: i32): u64 {
  return <u64>(sender + 1) | (<u64>(auth + 1) << 18) | (<u64>(cwd + 1) << 36);
}

/** Add `n` to the key of table `t` that holds the bytes of key `id` of table `from` (dropped when full). */
function countAs(t: i32, from: i32, id: i32, n: f64): void {
  const src = table(from);
  const k = src.keys + (<usize>id << 3);
  const into = table(t);
  const to = keyId(into, src.arena + <usize>load<u32>(k), <usize>load<u32>(k, 4));
  if (to < 0) dropped += n;
  else store<f64>(into.counts + (<usize>to << 3), load<f64>(into.counts + (<usize>to << 3)) + n);
}

/** Space-separated words in [p, e): the recipients after `for`, as classifyMainlogLine splits them. */
function words(p: usize, e: usize): u32 {
  let n: u32 = 0;
  let inWord = false;
  for (let i = p; i < e; i++) {
    if (byteAt(i) == SP) inWord = false;
    else if (!inWord) {
      n++;
      inWord = true;
    }
  }
  return n;
}

/** End of the path of a cwd= line (set by cwdArgs). */
let cwdPathEnd: usize = 0;

/** Where the arguments of a cwd= line start (the path ends at the first " N args: "), or 0. */
function cwdArgs(p: usize, e: usize): usize {
  let sp = p;
  while (true) {
    sp = findByte(sp, e, <u8>SP);
    if (sp >= e) return 0;
    let d = sp + 1;
    while (d < e && isDigit(byteAt(d))) d++;
    if (d > sp + 1 && d + 7 <= e && byteAt(d) == SP && byteAt(d + 1) == 0x61 && byteAt(d + 2) == 0x72 && byteAt(d + 3) == 0x67 &&
        byteAt(d + 4) == 0x73 && byteAt(d + 5) == 0x3a && byteAt(d + 6) == SP) {
      cwdPathEnd = sp;
      return d + 7;
    }
    sp++;
  }
}

function cwdLine(lineStart: usize, p: usize, e: usize): void {
  const argsStart = cwdArgs(p, e);
  if (argsStart == 0) return;
  if (isAdminArgs(argsStart, e)) {
    adminInvocations++;
    pendingCwd = -1;
    return;
  }
  cwdSubmissions++;
  const cwd = table(T_CWD);
  const id = keyId(cwd, p, cwdPathEnd - p);
  if (id < 0) {
    dropped++;
    pendingCwd = -1;
    return;
  }
  countKey(cwd, id);
  // A directory's first line (logs are read oldest first): when it began to mail.
  if (load<f64>(cwd.counts + (<usize>id << 3)) == 1) countAs(T_CWD_FIRST, T_CWD, id, timeDigits(lineStart));
  pendingCwd = id;
  memory.copy(pendingTime, lineStart, 19);
}

/** The line's `YYYY-MM-DD HH:MM:SS` (checked by timestampPrefix) as the number YYYYMMDDhhmmss. */
function timeDigits(s: usize): f64 {
  let n: f64 = 0;
  for (let i: usize = 0; i < 19; i++) {
    const c = byteAt(s + i);
    if (isDigit(c)) n = n * 10 + <f64>(c - 0x30);
  }
  return n;
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

/**
 * End of an address at p (the sender, `id=`, the parts of `A=`): the first space outside double
 * quotes (a backslash inside quotes escapes the next byte), or with `colon` the first `:` outside
 * quotes if it comes first. An address whose quote never closes ends where it would without
 * quotes. Rules: addressEnd in exim-mainlog.ts.
 */
function addressEnd(p: usize, e: usize, colon: bool): usize {
  let plain = findByte(p, e, <u8>SP);
  if (colon) plain = findByte(p, plain, 0x3a);
  // Almost every address has no quote: then it is the plain token.
  if (findByte(p, plain, <u8>QUOTE) >= plain) return plain;
  let quoted = false;
  let i = p;
  while (i < e) {
    const c = byteAt(i);
    if (quoted) {
      if (c == BACKSLASH) i++;
      else if (c == QUOTE) quoted = false;
    } else if (c == QUOTE) quoted = true;
    else if (c == SP || (colon && c == 0x3a)) return i;
    i++;
  }
  return quoted ? plain : e;
}

/** End of a `U=` value at p: the space before the next `Name=` or bare `for`, else the first space. */
function userEnd(p: usize, e: usize): usize {
  const first = findByte(p, e, <u8>SP);
  let sp = first;
  while (sp < e) {
    const t = sp + 1;
    const tn = findByte(t, e, <u8>SP);
    if (isFieldToken(t, tn) || (tn - t == 3 && byteAt(t) == 0x66 && byteAt(t + 1) == 0x6f && byteAt(t + 2) == 0x72)) return sp;
    sp = tn;
  }
  return first;
}

// Fields of the arrival line read last (parseArrival sets them all).
let aSenderEnd: usize = 0, aBounce = false, aHostSeen = false;
let aIpStart: usize = 0, aIpEnd: usize = 0, aHasIp = false;
let aUserStart: usize = 0, aUserEnd: usize = 0, aHasUser = false;
/** `A=name[:id[:sender]]`: aHasAuth for any authenticator name, aHasAuthId when an id follows. */
let aAuthStart: usize = 0, aAuthNameEnd: usize = 0, aAuthIdStart: usize = 0, aAuthIdEnd: usize = 0, aHasAuth = false, aHasAuthId = false;
let aSubjStart: usize = 0, aSubjEnd: usize = 0, aHasSubject = false;
/** End of the bare `for` token the recipients follow (0: none; they may follow the subject). */
let aForEnd: usize = 0;
/** Recipients after `for` (after the subject, only as ` for ` right after its closing quote). */
let aRcpts: u32 = 0;

/** Read the fields of an arrival whose sender starts at p. */
function parseArrival(p: usize, e: usize): void {
  aForEnd = 0;
  const sp = addressEnd(p, e, false);
  const bounce = sp - p == 2 && byteAt(p) == 0x3c && byteAt(p + 1) == 0x3e;
  let ipStart: usize = 0, ipEnd: usize = 0, hasIp = false, hostSeen = false;
  let userStart: usize = 0, userEnd_: usize = 0, hasUser = false;
  let authStart: usize = 0, authNameEnd: usize = 0, authIdStart: usize = 0, authIdEnd: usize = 0, hasAuth = false, hasAuthId = false;
  let subjStart: usize = 0, subjEnd: usize = 0, hasSubject = false;
  let rcpts: u32 = 0;
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
      if (endq + 5 < e && byteAt(endq + 1) == SP && byteAt(endq + 2) == 0x66 && byteAt(endq + 3) == 0x6f && byteAt(endq + 4) == 0x72 &&
          byteAt(endq + 5) == SP) rcpts = words(endq + 6, e);
      break;
    }
    let next = findByte(pos, e, <u8>SP);
    if (next - pos == 3 && c0 == 0x66 && c1 == 0x6f && byteAt(pos + 2) == 0x72) {
      // "for": the recipients follow
      aForEnd = next;
      rcpts = next < e ? words(next + 1, e) : 0;
      break;
    }
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
      } else if (c0 == 0x55) {
        next = userEnd(pos, e);
        if (!hasUser) {
          userStart = pos + 2;
          userEnd_ = next;
          hasUser = true;
        }
      } else if (c0 == 0x41) {
        // A=name[:id[:authenticated sender]]; the id and the sender are addresses.
        let nameEnd = pos + 2;
        while (nameEnd < e && byteAt(nameEnd) != 0x3a && byteAt(nameEnd) != SP) nameEnd++;
        let end = nameEnd;
        let idEnd = nameEnd;
        if (nameEnd < e && byteAt(nameEnd) == 0x3a) {
          end = idEnd = addressEnd(nameEnd + 1, e, true);
          if (end < e && byteAt(end) == 0x3a) end = addressEnd(end + 1, e, false);
        }
        if (!hasAuth && nameEnd > pos + 2) {
          authStart = pos + 2;
          authNameEnd = nameEnd;
          authIdStart = nameEnd + 1;
          authIdEnd = idEnd;
          hasAuth = true;
          hasAuthId = idEnd > nameEnd + 1;
        }
        next = end;
      }
    } else if (c0 == 0x69 && c1 == 0x64 && (byteAt(pos + 2) == 0x3d || (byteAt(pos + 2) == 0x2a && byteAt(pos + 3) == 0x3d))) {
      next = addressEnd(pos, e, false); // id= / id*=: the Message-ID, an address
    }
    pos = next + 1;
  }

  aSenderEnd = sp;
  aBounce = bounce;
  aHostSeen = hostSeen;
  aIpStart = ipStart;
  aIpEnd = ipEnd;
  aHasIp = hasIp;
  aUserStart = userStart;
  aUserEnd = userEnd_;
  aHasUser = hasUser;
  aAuthStart = authStart;
  aAuthNameEnd = authNameEnd;
  aAuthIdStart = authIdStart;
  aAuthIdEnd = authIdEnd;
  aHasAuth = hasAuth;
  aHasAuthId = hasAuthId;
  aSubjStart = subjStart;
  aSubjEnd = subjEnd;
  aHasSubject = hasSubject;
  aRcpts = rcpts;
}

function arrival(lineStart: usize, p: usize, e: usize, id: usize, idLen: usize): void {
  arrivals++;
  parseArrival(p, e);
  const sp = aSenderEnd, bounce = aBounce, hostSeen = aHostSeen, hasAuth = aHasAuth;
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
  let ip: i32 = -1;
  if (aHasIp) {
    // Addresses are counted too, so that one that did not fit is counted as dropped.
    const ips = table(T_IPS);
    ip = keyId(ips, aIpStart, aIpEnd - aIpStart);
    if (ip < 0) dropped++;
    else countKey(ips, ip);
  }
  let auth: i32 = -1;
  if (hasAuth) {
    authArrivals++;
    if (!aHasAuthId) authWithoutId++;
    else {
      const authTable = table(T_AUTH);
      auth = keyId(authTable, aAuthIdStart, aAuthIdEnd - aAuthIdStart);
      if (auth < 0) dropped++;
      else countKey(authTable, auth);
    }
  }
  if (ip >= 0) {
    // Usually the sender is the AUTH id it logged in with: then one (AUTH id, address) pair
    // serves both lists, one random access into a big table instead of two (see P_SELF_IPS).
    const authLen = aAuthIdEnd - aAuthIdStart;
    if (sender >= 0 && auth >= 0 && authLen == sp - p && bytesEqual(aAuthIdStart, p, authLen)) queuePair(P_SELF_IPS, auth, ip);
    else {
      if (sender >= 0) queuePair(P_SENDER_IPS, sender, ip);
      if (auth >= 0) queuePair(P_AUTH_IPS, auth, ip);
    }
  }
  if (auth >= 0) {
    const names = table(T_NAMES);
    const name = keyId(names, aAuthStart, aAuthNameEnd - aAuthStart);
    if (name < 0) dropped++;
    else {
      countKey(names, name);
      queuePair(P_AUTH_NAMES, auth, name);
    }
  }
  /** The cwd= directory this arrival came from (its id), or -1. */
  let cwd: i32 = -1;
  if (local) {
    localArrivals++;
    if (aHasUser) {
      const users = table(T_USERS);
      const user = keyId(users, aUserStart, aUserEnd - aUserStart);
      if (user < 0) dropped++;
      else {
        countKey(users, user);
        if (sender >= 0) queuePair(P_USER_SENDERS, user, sender);
      }
    }
    const pending = pendingCwd;
    if (pending >= 0 && !bounce && bytesEqual(lineStart, pendingTime, 19)) {
      if (sender >= 0) queuePair(P_CWD_SENDERS, pending, sender);
      cwd = pending;
      pendingCwd = -1;
    }
  }
  if (!bounce) {
    // A ranked arrival: remembered so that its deferrals and failures find it.
    const key = finishHash(hashBytes(HASH_START, id, idLen, false));
    remember(messages, key, arrivalIds(sender, auth, cwd));
    if (aRcpts > 0) {
      if (sender >= 0) countAs(T_SENDER_RCPTS, T_SENDERS, sender, <f64>aRcpts);
      if (auth >= 0) countAs(T_AUTH_RCPTS, T_AUTH, auth, <f64>aRcpts);
      if (cwd >= 0) countAs(T_CWD_RCPTS, T_CWD, cwd, <f64>aRcpts);
    }
  }
  if (aHasSubject && !bounce) {
    const subjects = table(T_SUBJECTS);
    const subject = keyId(subjects, aSubjStart, aSubjEnd - aSubjStart);
    if (subject < 0) dropped++;
    else {
      countKey(subjects, subject);
      if (sender >= 0) queuePair(P_SUBJECT_SENDERS, subject, sender);
    }
  }
}

/** Totals by number (TOT_* of the registry; every other number is `dropped`). */
export function total(i: i32): f64 {
  switch (i) {
    case TOT_ARRIVALS: return arrivals;
    case TOT_INCOMING: return incoming;
    case TOT_BOUNCES: return bounces;
    case TOT_LOCAL: return localArrivals;
    case TOT_AUTH: return authArrivals;
    case TOT_CWD: return cwdSubmissions;
    case TOT_ADMIN: return adminInvocations;
    case TOT_AUTH_WITHOUT_ID: return authWithoutId;
    case TOT_OUTSIDE: return outside;
    case TOT_DEFERRALS: return deferralLines;
    case TOT_FAILURES: return failureLines;
    case TOT_UNJOINED: return unjoined;
    case TOT_FORGOTTEN: return forgotten;
    default: return dropped;
  }
}

/** Add to a total (numbered as in `total`). */
export function addTotal(i: i32, value: f64): void {
  switch (i) {
    case TOT_ARRIVALS: arrivals += value; break;
    case TOT_INCOMING: incoming += value; break;
    case TOT_BOUNCES: bounces += value; break;
    case TOT_LOCAL: localArrivals += value; break;
    case TOT_AUTH: authArrivals += value; break;
    case TOT_CWD: cwdSubmissions += value; break;
    case TOT_ADMIN: adminInvocations += value; break;
    case TOT_AUTH_WITHOUT_ID: authWithoutId += value; break;
    case TOT_OUTSIDE: outside += value; break;
    case TOT_DEFERRALS: deferralLines += value; break;
    case TOT_FAILURES: failureLines += value; break;
    case TOT_UNJOINED: unjoined += value; break;
    case TOT_FORGOTTEN: addForgotten(value); break;
    default: dropped += value;
  }
}

// The line rules and the fields of the arrival read last, for the history filter (history.ts).
export { timestampPrefix, eximIdLength, parseArrival };
export { aSenderEnd, aBounce, aIpStart, aIpEnd, aHasIp, aAuthIdStart, aAuthIdEnd, aHasAuthId, aSubjStart, aSubjEnd, aHasSubject, aForEnd };
