/**
 * One-pass aggregation of an Exim main log, on bytes. The file reader
 * (src/investigate/mainlog-file.ts) feeds complete lines; this module holds no I/O.
 *
 * Why bytes: a cPanel main log is gigabytes. Lines are found with Buffer.indexOf (memchr) and
 * classified by looking at a few fixed offsets; strings are made only for the few fields
 * that are counted. Field rules are those of exim-mainlog.ts (the reference, tested against
 * this scanner on random logs).
 *
 * Results are plain JSON (the SSH scan runs the same code on the host and sends them back).
 */
import { eximIdLengthAt } from './exim-id.js';
import { unescapeSubject } from './exim-mainlog.js';
import { ByteTable, PairCounts } from './byte-table.js';

/** A key and how often it was seen. */
export interface RankedItem {
  key: string;
  count: number;
}

export interface CwdFinding {
  /** Working directory of the process that submitted mail (`cwd=` line). */
  path: string;
  count: number;
  /** cPanel account owning the path (under /home or /homeN), if it looks like one. */
  user: string | null;
  /** Envelope senders of the local arrivals logged in the same second right after it. */
  senders: RankedItem[];
}

export interface AuthFinding {
  /** SMTP AUTH id from `A=dovecot_login:ID` / `A=dovecot_plain:ID` (a mailbox or cPanel user). */
  id: string;
  count: number;
  /** Authenticator names (`dovecot_login`, `dovecot_plain`) with counts. */
  authenticators: RankedItem[];
  /** Client addresses (`H=... [ip]`) of the sessions, never the server's `I=[...]`. */
  ips: RankedItem[];
}

export interface SenderFinding {
  /** Envelope sender of `<=` lines (bounces `<>` are counted separately). */
  sender: string;
  count: number;
  ips: RankedItem[];
}

export interface SubjectFinding {
  /** `T="..."` with `\"` unescaped; bounces excluded. */
  subject: string;
  count: number;
  senders: RankedItem[];
}

export interface LocalUserFinding {
  /** `U=` of local submissions (no `H=`): the cPanel account or system user. */
  user: string;
  count: number;
  senders: RankedItem[];
}

export interface MainlogScanResult {
  /** Path scanned (null for in-memory input). */
  file: string | null;
  window: {
    /** The `since` as given, and the first timestamp it resolved to. */
    since: string | null;
    from: string | null;
    start_offset: number;
    end_offset: number;
    bytes_scanned: number;
    first_time: string | null;
    last_time: string | null;
  };
  totals: {
    /** All `<=` lines. */
    arrivals: number;
    /** Unauthenticated arrivals from other servers: inbound mail, not ranked anywhere. */
    incoming_arrivals: number;
    bounces: number;
    local_arrivals: number;
    authenticated_arrivals: number;
    cwd_submissions: number;
    admin_invocations: number;
  };
  cwd: CwdFinding[];
  auth_senders: AuthFinding[];
  senders: SenderFinding[];
  subjects: SubjectFinding[];
  local_users: LocalUserFinding[];
  /** Some keys were not counted because a map reached its cap (memory bound). */
  truncated: boolean;
  dropped_keys: number;
}

export interface ScanLimits {
  /** Entries per top-level list in the result (default 50). */
  limit?: number;
  /** Entries per nested list (ips, senders; default 10). */
  nestedLimit?: number;
  /** Distinct keys kept per top-level map (default 200000). */
  maxKeys?: number;
  /** Distinct keys per nested list before it is pruned to its top half (default 128). */
  maxNestedKeys?: number;
  /** Distinct (key, nested key) pairs counted per relation while scanning (default 4 million). */
  maxPairs?: number;
}

/** Counted key with nested counts. */
export interface ScanBucket {
  count: number;
  /** The first nested key (ip, sender) is kept inline: most buckets never see a second one. */
  k1: string | null;
  n1: number;
  /** Further nested keys, created on the second distinct key. */
  nested: Map<string, number> | null;
  /** Authenticator names, for auth buckets only. */
  extra?: Map<string, number>;
}

/** Mergeable partial state (structured-clone friendly for worker threads). */
export interface ScanPartial {
  arrivals: number;
  incomingArrivals: number;
  bounces: number;
  localArrivals: number;
  authArrivals: number;
  cwdSubmissions: number;
  adminInvocations: number;
  cwd: Map<string, ScanBucket>;
  auth: Map<string, ScanBucket>;
  senders: Map<string, ScanBucket>;
  subjects: Map<string, ScanBucket>;
  localUsers: Map<string, ScanBucket>;
  dropped: number;
  firstTime: string | null;
  lastTime: string | null;
}

export function emptyPartial(): ScanPartial {
  return {
    arrivals: 0, incomingArrivals: 0, bounces: 0, localArrivals: 0, authArrivals: 0, cwdSubmissions: 0, adminInvocations: 0,
    cwd: new Map(), auth: new Map(), senders: new Map(), subjects: new Map(), localUsers: new Map(),
    dropped: 0, firstTime: null, lastTime: null,
  };
}

const SP = 0x20;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const NL = 0x0a;

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/**
 * Length of the `YYYY-MM-DD HH:MM:SS[.fff][ +zzzz] [[pid] ]` prefix at `s`, or 0 when the line
 * does not start with a timestamp. Mirrors TIME_RE in exim-mainlog.ts.
 */
export function timestampPrefixLength(buf: Uint8Array, s: number, e: number): number {
  if (e - s < 20) return 0;
  if (buf[s + 4] !== 0x2d || buf[s + 7] !== 0x2d || buf[s + 10] !== SP || buf[s + 13] !== 0x3a || buf[s + 16] !== 0x3a) return 0;
  if (!(isDigit(buf[s]) && isDigit(buf[s + 1]) && isDigit(buf[s + 2]) && isDigit(buf[s + 3]) && isDigit(buf[s + 5]) &&
        isDigit(buf[s + 6]) && isDigit(buf[s + 8]) && isDigit(buf[s + 9]) && isDigit(buf[s + 11]) && isDigit(buf[s + 12]) &&
        isDigit(buf[s + 14]) && isDigit(buf[s + 15]) && isDigit(buf[s + 17]) && isDigit(buf[s + 18]))) return 0;
  let p = s + 19;
  if (buf[p] === 0x2e && isDigit(buf[p + 1])) {
    p++;
    while (p < e && isDigit(buf[p])) p++;
  }
  if (buf[p] === SP && (buf[p + 1] === 0x2b || buf[p + 1] === 0x2d) && isDigit(buf[p + 2]) && isDigit(buf[p + 3]) &&
      isDigit(buf[p + 4]) && isDigit(buf[p + 5]) && p + 6 < e && buf[p + 6] === SP) p += 6;
  if (p >= e || buf[p] !== SP) return 0;
  p++;
  if (buf[p] === LBRACKET && isDigit(buf[p + 1])) {
    let q = p + 1;
    while (q < e && isDigit(buf[q])) q++;
    if (buf[q] === RBRACKET && q + 1 < e && buf[q + 1] === SP) p = q + 2;
  }
  return p - s;
}

function homeUser(path: string): string | null {
  const m = /^\/home\d*\/([^/]+)(?:\/|$)/.exec(path);
  return m === null ? null : m[1]!;
}

const ARRIVAL_NEEDLE = Buffer.from('<= ');
/** `wd=` rather than `cwd=`: a rarer first byte makes the native search skip faster. */
const CWD_NEEDLE = Buffer.from('wd=');

/**
 * Feeds complete lines; `partial` gives the mergeable state. One instance per byte range.
 *
 * Only two kinds of line matter, so instead of visiting every line the scanner lets native
 * substring search find `<= ` and `wd=` and then checks that the hit sits exactly where an
 * arrival flag or a `cwd=` line belongs. A hit inside a subject or a path fails that check.
 * Keys are interned as bytes (ByteTable): a sender seen before costs a hash and a compare,
 * not a string.
 */
export class MainlogScanner {
  readonly #maxNested: number;
  readonly #cwd: ByteTable;
  readonly #senders: ByteTable;
  readonly #auth: ByteTable;
  readonly #subjects: ByteTable;
  readonly #users: ByteTable;
  readonly #ips: ByteTable;
  readonly #names: ByteTable;
  readonly #cwdSenders: PairCounts;
  readonly #senderIps: PairCounts;
  readonly #authIps: PairCounts;
  readonly #authNames: PairCounts;
  readonly #subjectSenders: PairCounts;
  readonly #userSenders: PairCounts;
  #arrivals = 0;
  #incoming = 0;
  #bounces = 0;
  #localArrivals = 0;
  #authArrivals = 0;
  #cwdSubmissions = 0;
  #adminInvocations = 0;
  #dropped = 0;
  #firstTime: string | null = null;
  #lastTime: string | null = null;
  /** Pending non-admin cwd line (table id), for the next local arrival in the same second. */
  #pendingCwd = -1;
  readonly #pendingTime = new Uint8Array(19);

  constructor(limits: ScanLimits = {}) {
    const maxKeys = limits.maxKeys ?? 200_000;
    this.#maxNested = Math.max(4, limits.maxNestedKeys ?? 128);
    this.#cwd = new ByteTable(maxKeys);
    this.#senders = new ByteTable(maxKeys);
    this.#auth = new ByteTable(maxKeys);
    this.#subjects = new ByteTable(maxKeys);
    this.#users = new ByteTable(maxKeys);
    this.#ips = new ByteTable(maxKeys);
    this.#names = new ByteTable(1000);
    const pairs = (_child: ByteTable): PairCounts => new PairCounts(limits.maxPairs ?? 4_000_000);
    this.#cwdSenders = pairs(this.#senders);
    this.#senderIps = pairs(this.#ips);
    this.#authIps = pairs(this.#ips);
    this.#authNames = pairs(this.#names);
    this.#subjectSenders = pairs(this.#senders);
    this.#userSenders = pairs(this.#senders);
  }

  /** Scan `buf[start, end)`; every line must be complete (a final line without `\n` is fine). */
  feed(buf: Buffer, start: number, end: number): void {
    this.#bounds(buf, start, end);
    let a = buf.indexOf(ARRIVAL_NEEDLE, start);
    let c = buf.indexOf(CWD_NEEDLE, start);
    while (true) {
      if (a >= end) a = -1;
      if (c >= end) c = -1;
      let h: number;
      if (a < 0) {
        if (c < 0) break;
        h = c;
      } else h = c < 0 || a < c ? a : c;
      let ls = h;
      while (ls > start && buf[ls - 1] !== NL) ls--;
      let le = buf.indexOf(NL, h);
      if (le < 0 || le > end) le = end;
      this.#line(buf, ls, le);
      if (a >= 0 && a < le) a = le >= end ? -1 : buf.indexOf(ARRIVAL_NEEDLE, le);
      if (c >= 0 && c < le) c = le >= end ? -1 : buf.indexOf(CWD_NEEDLE, le);
    }
  }

  /** First and last timestamps of the scanned ranges. */
  #bounds(buf: Buffer, start: number, end: number): void {
    if (this.#firstTime === null) {
      let s = start;
      while (s < end) {
        let nl = buf.indexOf(NL, s);
        if (nl < 0 || nl > end) nl = end;
        if (timestampPrefixLength(buf, s, nl) > 0) {
          this.#firstTime = buf.toString('latin1', s, s + 19);
          break;
        }
        s = nl + 1;
      }
    }
    let e = end;
    while (e > start) {
      const lineEnd = buf[e - 1] === NL ? e - 1 : e;
      let s = lineEnd;
      while (s > start && buf[s - 1] !== NL) s--;
      if (timestampPrefixLength(buf, s, lineEnd) > 0) {
        this.#lastTime = buf.toString('latin1', s, s + 19);
        return;
      }
      if (s === start) return;
      e = s;
    }
  }

  #line(buf: Buffer, s: number, e: number): void {
    const tl = timestampPrefixLength(buf, s, e);
    if (tl === 0) return;
    const p = s + tl;
    // cwd=
    if (buf[p] === 0x63 && buf[p + 1] === 0x77 && buf[p + 2] === 0x64 && buf[p + 3] === 0x3d) {
      this.#cwdLine(buf, s, p + 4, e);
      return;
    }
    const idLen = eximIdLengthAt(buf, p, e);
    if (idLen === 0) return;
    const q = p + idLen + 1;
    if (q + 2 < e && buf[q] === 0x3c && buf[q + 1] === 0x3d && buf[q + 2] === SP) this.#arrival(buf, s, q + 3, e);
  }

  #cwdLine(buf: Buffer, lineStart: number, p: number, e: number): void {
    // The path ends at the first " N args: ".
    let argsStart = -1;
    let pathEnd = -1;
    for (let sp = p; sp < e; sp++) {
      if (buf[sp] !== SP) continue;
      let d = sp + 1;
      while (d < e && isDigit(buf[d])) d++;
      if (d > sp + 1 && d + 7 <= e && buf[d] === SP && buf[d + 1] === 0x61 && buf[d + 2] === 0x72 && buf[d + 3] === 0x67 &&
          buf[d + 4] === 0x73 && buf[d + 5] === 0x3a && buf[d + 6] === SP) {
        pathEnd = sp;
        argsStart = d + 7;
        break;
      }
    }
    if (argsStart < 0) return;
    if (isAdminArgs(buf, argsStart, e)) {
      this.#adminInvocations++;
      this.#pendingCwd = -1;
      return;
    }
    this.#cwdSubmissions++;
    const id = this.#cwd.id(buf, p, pathEnd);
    if (id < 0) {
      this.#dropped++;
      this.#pendingCwd = -1;
      return;
    }
    this.#cwd.counts[id]!++;
    this.#pendingCwd = id;
    buf.copy(this.#pendingTime, 0, lineStart, lineStart + 19);
  }

  #arrival(buf: Buffer, lineStart: number, p: number, e: number): void {
    this.#arrivals++;
    let sp = p;
    while (sp < e && buf[sp] !== SP) sp++;
    const bounce = sp - p === 2 && buf[p] === 0x3c && buf[p + 1] === 0x3e;
    let ipStart = -1, ipEnd = -1, hostSeen = false;
    let userStart = -1, userEnd = -1;
    let authStart = -1, authColon = -1, authEnd = -1;
    let subjStart = -1, subjEnd = -1;
    let pos = sp + 1;
    while (pos < e) {
      const c0 = buf[pos]!;
      const c1 = buf[pos + 1];
      if (c0 === 0x54 && c1 === 0x3d && buf[pos + 2] === QUOTE) {
        // T="...": ends at the first unescaped quote; nothing but " for ..." follows.
        let i = pos + 3;
        let endq = -1;
        while (i < e) {
          const c = buf[i]!;
          if (c === BACKSLASH) {
            i += 2;
            continue;
          }
          if (c === QUOTE) {
            endq = i;
            break;
          }
          i++;
        }
        subjStart = pos + 3;
        subjEnd = endq < 0 ? e : endq;
        break;
      }
      let next = pos;
      while (next < e && buf[next] !== SP) next++;
      if (next - pos === 3 && c0 === 0x66 && c1 === 0x6f && buf[pos + 2] === 0x72) break; // "for"
      if (c1 === 0x3d) {
        if (c0 === 0x48 && !hostSeen) {
          // H=name (helo) [ip]:port: the first [..] among this value and the next two tokens.
          hostSeen = true;
          let t = pos + 2;
          for (let k = 0; k < 3 && t <= e; k++) {
            let tn = t;
            while (tn < e && buf[tn] !== SP) tn++;
            if (buf[t] === LBRACKET) {
              let close = t + 1;
              while (close < tn && buf[close] !== RBRACKET) close++;
              if (close < tn) {
                ipStart = t + 1;
                ipEnd = close;
              }
              break;
            }
            if (k > 0 && isFieldToken(buf, t, tn)) break;
            t = tn + 1;
          }
        } else if (c0 === 0x55 && userStart < 0) {
          userStart = pos + 2;
          userEnd = next;
        } else if (c0 === 0x41 && authStart < 0) {
          let colon = pos + 2;
          while (colon < next && buf[colon] !== 0x3a) colon++;
          if (colon > pos + 2 && colon < next) {
            authStart = pos + 2;
            authColon = colon;
            authEnd = next;
          }
        }
      }
      pos = next + 1;
    }

    if (bounce) this.#bounces++;
    const local = !hostSeen;
    if (!local && authStart < 0) {
      // Unauthenticated mail from another server: inbound, not what this scan ranks.
      this.#incoming++;
      return;
    }
    let sender = -1;
    if (!bounce) {
      sender = this.#senders.id(buf, p, sp);
      if (sender < 0) this.#dropped++;
      else this.#senders.counts[sender]!++;
    }
    const ip = ipStart >= 0 ? this.#ips.id(buf, ipStart, ipEnd) : -1;
    if (sender >= 0 && ip >= 0) this.#senderIps.add(sender, ip);
    if (authStart >= 0) {
      this.#authArrivals++;
      const auth = this.#auth.id(buf, authColon + 1, authEnd);
      if (auth < 0) this.#dropped++;
      else {
        this.#auth.counts[auth]!++;
        if (ip >= 0) this.#authIps.add(auth, ip);
        const name = this.#names.id(buf, authStart, authColon);
        if (name >= 0) this.#authNames.add(auth, name);
      }
    }
    if (local) {
      this.#localArrivals++;
      if (userStart >= 0) {
        const user = this.#users.id(buf, userStart, userEnd);
        if (user < 0) this.#dropped++;
        else {
          this.#users.counts[user]!++;
          if (sender >= 0) this.#userSenders.add(user, sender);
        }
      }
      const pending = this.#pendingCwd;
      if (pending >= 0 && !bounce && sameTime(buf, lineStart, this.#pendingTime)) {
        if (sender >= 0) this.#cwdSenders.add(pending, sender);
        this.#pendingCwd = -1;
      }
    }
    if (subjStart >= 0 && !bounce) {
      const subject = this.#subjects.id(buf, subjStart, subjEnd);
      if (subject < 0) this.#dropped++;
      else {
        this.#subjects.counts[subject]!++;
        if (sender >= 0) this.#subjectSenders.add(subject, sender);
      }
    }
  }

  /** The state so far as string-keyed maps (made once per distinct key). */
  get partial(): ScanPartial {
    const max = this.#maxNested;
    let dropped = this.#dropped;
    const build = (table: ByteTable, pairs: PairCounts, child: ByteTable, keyOf: (id: number) => string = (id) => table.key(id)): Map<string, ScanBucket> => {
      const out = new Map<string, ScanBucket>();
      // Children past `max` are cut here by count (ties by first seen): bounded work and memory.
      const top = pairs.topChildren(table.size, max - 1);
      for (let id = 0; id < table.size; id++) {
        const count = table.counts[id]!;
        // Byte-distinct keys can decode to one string (invalid UTF-8, escapes): they merge here.
        const key = keyOf(id);
        let b = out.get(key);
        if (b === undefined) {
          b = { count: 0, k1: null, n1: 0, nested: null };
          out.set(key, b);
        }
        b.count += count;
        for (let k = top.starts[id]!; k < top.ends[id]!; k++) dropped += nestedAdd(b, child.key(top.children[k]!), top.counts[k]!, max);
      }
      dropped += pairs.dropped;
      return out;
    };
    const auth = build(this.#auth, this.#authIps, this.#ips);
    const names = this.#authNames.topChildren(this.#auth.size, 1000);
    for (let id = 0; id < this.#auth.size; id++) {
      const b = auth.get(this.#auth.key(id))!;
      b.extra ??= new Map();
      for (let k = names.starts[id]!; k < names.ends[id]!; k++) {
        const name = this.#names.key(names.children[k]!);
        b.extra.set(name, (b.extra.get(name) ?? 0) + names.counts[k]!);
      }
    }
    return {
      arrivals: this.#arrivals,
      incomingArrivals: this.#incoming,
      bounces: this.#bounces,
      localArrivals: this.#localArrivals,
      authArrivals: this.#authArrivals,
      cwdSubmissions: this.#cwdSubmissions,
      adminInvocations: this.#adminInvocations,
      cwd: build(this.#cwd, this.#cwdSenders, this.#senders),
      auth,
      senders: build(this.#senders, this.#senderIps, this.#ips),
      subjects: build(this.#subjects, this.#subjectSenders, this.#senders, (id) => unescapeSubject(this.#subjects.key(id))),
      localUsers: build(this.#users, this.#userSenders, this.#senders),
      dropped,
      firstTime: this.#firstTime,
      lastTime: this.#lastTime,
    };
  }
}

/**
 * Add to a bucket's nested counts. When a bucket holds `max` keys it is pruned to its top
 * half by count, so memory stays bounded and the keys that matter (the heavy hitters) stay;
 * counts are exact while a bucket has fewer than `max` distinct keys. Returns the number of
 * key occurrences dropped by pruning (0 normally).
 */
function nestedAdd(b: ScanBucket, key: string, n: number, max: number): number {
  if (b.k1 === null) {
    b.k1 = key;
    b.n1 = n;
    return 0;
  }
  if (b.k1 === key) {
    b.n1 += n;
    return 0;
  }
  b.nested ??= new Map();
  const cur = b.nested.get(key);
  if (cur !== undefined) {
    b.nested.set(key, cur + n);
    return 0;
  }
  b.nested.set(key, n);
  if (b.nested.size + 1 < max) return 0;
  // Prune: keep the top half (ties broken by key, so the result does not depend on order).
  const all = [...nestedCounts(b)].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const keep = all.slice(0, Math.max(1, Math.floor(max / 2)));
  let dropped = 0;
  for (let i = keep.length; i < all.length; i++) dropped += all[i]![1];
  b.k1 = keep[0]![0];
  b.n1 = keep[0]![1];
  b.nested = new Map(keep.slice(1));
  return dropped;
}

/** All nested counts of a bucket. */
function nestedCounts(b: ScanBucket): Map<string, number> {
  const out = new Map(b.nested ?? []);
  if (b.k1 !== null) out.set(b.k1, b.n1);
  return out;
}

function sameTime(buf: Uint8Array, s: number, ts: Uint8Array): boolean {
  for (let i = 0; i < 19; i++) if (buf[s + i] !== ts[i]) return false;
  return true;
}

/** `Name=` at the start of a token (letters then `=`), as /^[A-Za-z]+=/ in the reference. */
function isFieldToken(buf: Uint8Array, s: number, e: number): boolean {
  let i = s;
  while (i < e) {
    const c = buf[i]!;
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) i++;
    else break;
  }
  return i > s && i < e && buf[i] === 0x3d;
}

/** Byte version of isAdminInvocation (exim-mainlog.ts): skip argv[0], look at option tokens. */
function isAdminArgs(buf: Uint8Array, s: number, e: number): boolean {
  let i = s;
  let first = true;
  while (i <= e) {
    let next = i;
    while (next < e && buf[next] !== SP) next++;
    if (!first && next - i >= 2 && buf[i] === 0x2d) {
      const c = buf[i + 1];
      if (c === 0x4d || c === 0x71 || c === 0x52) return true;
      if (c === 0x62) {
        const d = next - i > 2 ? buf[i + 2] : -1;
        if (d !== 0x6d && d !== 0x73 && d !== 0x53 && d !== 0x6e) return true;
      }
    }
    first = false;
    i = next + 1;
  }
  return false;
}

/** Sum `b` into `a` (worker results). Caps are applied again so memory stays bounded. */
export function mergePartials(a: ScanPartial, b: ScanPartial, limits: ScanLimits = {}): ScanPartial {
  const maxKeys = limits.maxKeys ?? 200_000;
  const maxNested = Math.max(4, limits.maxNestedKeys ?? 128);
  a.arrivals += b.arrivals;
  a.incomingArrivals += b.incomingArrivals;
  a.bounces += b.bounces;
  a.localArrivals += b.localArrivals;
  a.authArrivals += b.authArrivals;
  a.cwdSubmissions += b.cwdSubmissions;
  a.adminInvocations += b.adminInvocations;
  a.dropped += b.dropped;
  a.firstTime ??= b.firstTime;
  a.lastTime = b.lastTime ?? a.lastTime;
  const mergeExtra = (x: Map<string, number>, y: Map<string, number>): void => {
    for (const [k, n] of y) x.set(k, (x.get(k) ?? 0) + n);
  };
  for (const key of ['cwd', 'auth', 'senders', 'subjects', 'localUsers'] as const) {
    const into = a[key];
    for (const [k, bucket] of b[key]) {
      const cur = into.get(k);
      if (cur === undefined) {
        if (into.size >= maxKeys) {
          a.dropped += bucket.count;
          continue;
        }
        into.set(k, bucket);
        continue;
      }
      cur.count += bucket.count;
      for (const [k, n] of nestedCounts(bucket)) a.dropped += nestedAdd(cur, k, n, maxNested);
      if (bucket.extra !== undefined) {
        cur.extra ??= new Map();
        mergeExtra(cur.extra, bucket.extra);
      }
    }
  }
  return a;
}

function compareRanked(a: { key: string; count: number }, b: { key: string; count: number }): number {
  return b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** Deterministic top-N: count descending, then key in code-unit order. */
export function topOf(map: Map<string, number>, limit: number): RankedItem[] {
  const out: RankedItem[] = [];
  for (const [key, count] of map) out.push({ key, count });
  out.sort(compareRanked);
  return out.slice(0, limit);
}

function topBuckets(map: Map<string, ScanBucket>, limit: number): [string, ScanBucket][] {
  const items: { key: string; count: number; b: ScanBucket }[] = [];
  for (const [key, b] of map) items.push({ key, count: b.count, b });
  items.sort(compareRanked);
  return items.slice(0, limit).map((x) => [x.key, x.b]);
}

export interface FinishInfo {
  file?: string | null;
  since?: string | null;
  from?: string | null;
  startOffset?: number;
  endOffset?: number;
}

/** Turn a partial into the JSON result. */
export function finishScan(part: ScanPartial, info: FinishInfo = {}, limits: ScanLimits = {}): MainlogScanResult {
  const limit = limits.limit ?? 50;
  const nl = limits.nestedLimit ?? 10;
  const start = info.startOffset ?? 0;
  const end = info.endOffset ?? 0;
  return {
    file: info.file ?? null,
    window: {
      since: info.since ?? null,
      from: info.from ?? null,
      start_offset: start,
      end_offset: end,
      bytes_scanned: Math.max(0, end - start),
      first_time: part.firstTime,
      last_time: part.lastTime,
    },
    totals: {
      arrivals: part.arrivals,
      incoming_arrivals: part.incomingArrivals,
      bounces: part.bounces,
      local_arrivals: part.localArrivals,
      authenticated_arrivals: part.authArrivals,
      cwd_submissions: part.cwdSubmissions,
      admin_invocations: part.adminInvocations,
    },
    cwd: topBuckets(part.cwd, limit).map(([path, b]) => ({ path, count: b.count, user: homeUser(path), senders: topOf(nestedCounts(b), nl) })),
    auth_senders: topBuckets(part.auth, limit).map(([id, b]) => ({
      id, count: b.count, authenticators: topOf(b.extra ?? new Map(), nl), ips: topOf(nestedCounts(b), nl),
    })),
    senders: topBuckets(part.senders, limit).map(([sender, b]) => ({ sender, count: b.count, ips: topOf(nestedCounts(b), nl) })),
    subjects: topBuckets(part.subjects, limit).map(([subject, b]) => ({ subject, count: b.count, senders: topOf(nestedCounts(b), nl) })),
    local_users: topBuckets(part.localUsers, limit).map(([user, b]) => ({ user, count: b.count, senders: topOf(nestedCounts(b), nl) })),
    truncated: part.dropped > 0,
    dropped_keys: part.dropped,
  };
}

/** Scan an in-memory log (tests, small inputs). */
export function scanMainlogBuffer(buf: Buffer, limits: ScanLimits = {}): MainlogScanResult {
  const scanner = new MainlogScanner(limits);
  scanner.feed(buf, 0, buf.length);
  return finishScan(scanner.partial, { startOffset: 0, endOffset: buf.length }, limits);
}
