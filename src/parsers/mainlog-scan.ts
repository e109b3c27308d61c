/**
 * One-pass aggregation of an Exim main log, on bytes. The file reader
 * (src/investigate/mainlog-file.ts) and the SSH scan (src/remote/scan.ts) feed complete lines;
 * this module holds no I/O.
 *
 * Why bytes: a cPanel main log is gigabytes. The per-line work runs in a WebAssembly kernel
 * (src/parsers/wasm/mainlog-kernel.ts); strings are made only once per distinct counted key.
 * Field rules are those of exim-mainlog.ts (the reference, tested against this scanner on
 * random and hostile logs).
 *
 * Results are plain JSON.
 */
import { unescapeSubject } from './exim-mainlog.js';
import { COUNTER_FIELDS, KERNEL_RELATIONS, addCounter, noCounters, PAIRS, RELATIONS, TABLE, TABLES, TOTALS, type CounterField, type Counters, type RelationSpec, type TableName, type TableSpec } from './count-registry.js';
import { createKernel, type KernelExports } from './mainlog-kernel.js';
import { keyViews, PairView, type KeyView } from './scan-tables.js';

const TABLE_SPECS: readonly TableSpec[] = TABLES;
const RELATION_SPECS: readonly RelationSpec[] = RELATIONS;

/** A key and how often it was seen. */
export interface RankedItem {
  key: string;
  count: number;
}

/** A directory's counters (see Outcomes): its scripts' mail, joined by message id like a sender's. */
export interface CwdFinding extends Counters {
  /** Working directory of the process that submitted mail (`cwd=` line). */
  path: string;
  count: number;
  /** cPanel account owning the path (under /home or /homeN), if it looks like one. */
  user: string | null;
  /** Envelope senders of the local arrivals logged in the same second right after it. */
  senders: RankedItem[];
}

/** An AUTH id's counters (see Outcomes and count-registry.ts) are fields of it. */
export interface AuthFinding extends Counters {
  /**
   * SMTP AUTH id from `A=dovecot_login:ID` / `A=dovecot_plain:ID` (a mailbox or cPanel user);
   * the third part of `A=name:ID:SENDER` (+smtp_mailauth) is the client's claim, not the id.
   */
  id: string;
  count: number;
  /** Authenticator names (`dovecot_login`, `dovecot_plain`) with counts. */
  authenticators: RankedItem[];
  /** Client addresses (`H=... [ip]`) of the sessions, never the server's `I=[...]`. */
  ips: RankedItem[];
}

/**
 * What became of a sender's (or AUTH id's) mail in the window. `recipients`: addresses after
 * `for` on its arrivals (cPanel logs them; 0 where the log does not). `deferrals`: recipients
 * deferred at least once (`==`, counted once per message and recipient however often retried).
 * `failures`: recipients that failed for good (`**`, logged once each). Both are joined to the
 * arrival by message id, so only messages that arrived in the window count (see
 * totals.unjoined_outcomes); `failures / recipients` is the failure rate. These are counters
 * of count-registry.ts; findings and the partial carry `Counters`, every counter it declares.
 */
export interface Outcomes {
  recipients: number;
  deferrals: number;
  failures: number;
}

/** A sender among those whose mail failed most, whatever its volume. */
export interface FailingSender extends Counters {
  sender: string;
  /** Messages (`<=` lines). */
  count: number;
}

/** An AUTH id among those whose mail failed most (of the AUTH ids the counters kept). */
export interface FailingAuth extends Counters {
  id: string;
  /** Messages (`<=` lines). */
  count: number;
}

/** A sender's counters (see Outcomes and count-registry.ts) are fields of it. */
export interface SenderFinding extends Counters {
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
    /**
     * Lines read but dated before `from` (the log is out of time order there): not counted.
     * Those before the window's first line are not read at all when the log is in order.
     */
    lines_before_window: number;
    /**
     * Lines dated inside the window found before its first line (out of time order); when
     * there are any, the part before the window is read too and they are counted.
     */
    lines_out_of_order: number;
  };
  /** Parts of the input that were not read, and why: a result over them is no "nothing found". */
  left_out: { file: string | null; bytes: number; reason: string }[];
  totals: {
    /** All `<=` lines. */
    arrivals: number;
    /** Unauthenticated arrivals from other servers: inbound mail, not ranked anywhere. */
    incoming_arrivals: number;
    bounces: number;
    local_arrivals: number;
    /** Authenticated arrivals (`A=`), with or without an id. */
    authenticated_arrivals: number;
    /** Of those, logins Exim logged without an id (`A=plain`): authenticated, but not in auth_senders. */
    authenticated_without_id: number;
    cwd_submissions: number;
    admin_invocations: number;
    /** `==` lines in the window (every attempt). */
    deferral_lines: number;
    /** `**` lines in the window. */
    failure_lines: number;
    /**
     * `==`/`**` lines whose message was not found: it arrived before the window, from another
     * server, as a bounce, or was forgotten (messages_forgotten).
     */
    unjoined_outcomes: number;
    /** Messages (and deferred recipients) no longer remembered for joining: a memory cap (ScanLimits.maxMessages). */
    messages_forgotten: number;
  };
  /**
   * Submitting directories, busiest first; after them those whose mail failed most (the top
   * `limit` by failed recipients) that are not among the busiest: a script mailing a harvested
   * list, whatever its volume.
   */
  cwd: CwdFinding[];
  auth_senders: AuthFinding[];
  senders: SenderFinding[];
  subjects: SubjectFinding[];
  local_users: LocalUserFinding[];
  /** Senders ranked by failed recipients (those with any), whatever their volume: the low-and-slow ones too. */
  failing_senders: FailingSender[];
  /**
   * AUTH ids ranked by failed recipients (those with any): the login behind forged envelope
   * senders, none of which fails often alone. Only AUTH ids the counters kept (ranked by volume).
   */
  failing_auth: FailingAuth[];
  /** Some keys were not counted, or messages not remembered for joining, because a map reached its cap (memory bound). */
  truncated: boolean;
  dropped_keys: number;
}

export interface ScanLimits {
  /** Entries per top-level list in the result (default 50). */
  limit?: number;
  /** Entries per nested list (ips, senders; default 10). */
  nestedLimit?: number;
  /** Distinct keys kept per top-level map (default 200000, at most 262143: ids are 18 bits in the kernel). */
  maxKeys?: number;
  /** Distinct (key, nested key) pairs counted per relation while scanning (default 4 million). */
  maxPairs?: number;
  /**
   * Messages remembered to join deferrals and failures to their sender (default 2^18, see
   * DEFAULT_MAX_MESSAGES); past it the oldest half is forgotten and counted (totals.messages_forgotten).
   */
  maxMessages?: number;
}

/** Counted key with nested counts. */
export interface ScanBucket {
  count: number;
  /** Nested keys (ips, senders) with their counts. */
  nested: Map<string, number>;
  /** Authenticator names, for auth buckets only. */
  extra?: Map<string, number>;
}

/** Counted state as string-keyed maps (finishScan turns it into the result). */
export interface ScanPartial {
  arrivals: number;
  incomingArrivals: number;
  bounces: number;
  localArrivals: number;
  authArrivals: number;
  authWithoutIdArrivals: number;
  cwdSubmissions: number;
  adminInvocations: number;
  cwd: Map<string, ScanBucket>;
  auth: Map<string, ScanBucket>;
  senders: Map<string, ScanBucket>;
  subjects: Map<string, ScanBucket>;
  localUsers: Map<string, ScanBucket>;
  /** Counters (count-registry.ts) by sender and by AUTH id; absent keys have none. */
  senderOutcomes: Map<string, Counters>;
  authOutcomes: Map<string, Counters>;
  /** The same by cwd= directory (its local arrivals in the same second). */
  cwdOutcomes: Map<string, Counters>;
  deferralLines: number;
  failureLines: number;
  unjoined: number;
  forgotten: number;
  dropped: number;
  /** Lines dated before the window, left out (see setWindow). */
  outside: number;
  firstTime: string | null;
  lastTime: string | null;
}

export function emptyPartial(): ScanPartial {
  return {
    arrivals: 0, incomingArrivals: 0, bounces: 0, localArrivals: 0, authArrivals: 0, authWithoutIdArrivals: 0, cwdSubmissions: 0, adminInvocations: 0,
    cwd: new Map(), auth: new Map(), senders: new Map(), subjects: new Map(), localUsers: new Map(),
    senderOutcomes: new Map(), authOutcomes: new Map(), cwdOutcomes: new Map(), deferralLines: 0, failureLines: 0, unjoined: 0, forgotten: 0,
    dropped: 0, outside: 0, firstTime: null, lastTime: null,
  };
}

const SP = 0x20;
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

/**
 * Messages remembered for joining by default (ScanLimits.maxMessages): failures and first
 * deferrals are logged at the first delivery attempt, seconds to a queue run after the arrival,
 * so days of a busy server's mail are plenty; 8 MB in the kernel, about 35 MB in perl on a target.
 */
export const DEFAULT_MAX_MESSAGES = 2 ** 18;

/** Bytes handed to the kernel at a time when feeding from a caller's buffer. */
const FEED_PIECE = 4 * 1024 * 1024;

/**
 * Feeds complete lines; `partial` gives the counted state as maps. One instance per scan.
 *
 * The per-line work (classifying lines, walking the fields of arrivals, interning keys and
 * counting pairs) runs in a WebAssembly kernel (src/parsers/wasm/mainlog-kernel.ts) that
 * mirrors the field rules of exim-mainlog.ts byte for byte. Keys become strings only here, once
 * per distinct key, when the partial is read.
 *
 * Two ways in: `feed` copies from any buffer; `input` + `feedInput` let a file reader read
 * straight into the kernel's memory (no copy).
 */
export class MainlogScanner {
  readonly #kernel: KernelExports;
  #firstTime: string | null = null;
  #lastTime: string | null = null;

  constructor(limits: ScanLimits = {}) {
    // The kernel takes 32-bit limits (and clamps keys to its 18-bit ids).
    const clamp = (n: number): number => Math.max(0, Math.min(Math.floor(n), 2 ** 31 - 1));
    this.#kernel = createKernel(clamp(limits.maxKeys ?? 200_000), clamp(limits.maxPairs ?? 4_000_000));
    this.#kernel.setJoinCap(clamp(limits.maxMessages ?? DEFAULT_MAX_MESSAGES));
  }

  /**
   * The kernel's input area as a Buffer of at least `size` bytes; bytes already there are kept
   * when it grows. The view is only valid until the next call on this scanner.
   */
  input(size: number): Buffer {
    const at = this.#kernel.inputBuffer(size);
    return Buffer.from(this.#kernel.memory.buffer, at, size);
  }

  /** Tests only: a tiny per-slot count limit (2^k - 1, k >= 2) exercises the kernel's overflow path. */
  setPairCountLimitForTests(limit: number): void {
    if (!(limit >= 3 && Number.isInteger(Math.log2(limit + 1)))) throw new Error(`pair count limit must be 2^k - 1 with k >= 2, got ${limit}`);
    this.#kernel.setPairCountLimit(limit);
  }

  /** From now on leave out lines dated before `from` (`YYYY-MM-DD HH:MM:SS`), counting them. */
  setWindow(from: string): void {
    const at = this.#kernel.alloc(32);
    Buffer.from(this.#kernel.memory.buffer, at, 19).write(from.slice(0, 19).padEnd(19, '0'), 'latin1');
    this.#kernel.setWindow(at);
    this.#kernel.release(at);
  }

  /**
   * Lines of input[start, end) dated at or after the window's start (see setWindow), without
   * counting anything else: a look at a part skipped because the log was taken to be in order.
   */
  countInWindowInput(start: number, end: number): number {
    if (end <= start) return 0;
    this.input(end);
    return this.#kernel.countInWindow(start, end);
  }

  /** Scan input[start, end) (see `input`): complete lines; a final line without `\n` is fine. */
  feedInput(start: number, end: number): void {
    if (end <= start) return;
    this.#bounds(this.input(end), start, end);
    this.#kernel.feed(start, end);
  }

  /** Scan `buf[start, end)`; every line must be complete (a final line without `\n` is fine). */
  feed(buf: Buffer, start: number, end: number): void {
    let s = start;
    while (s < end) {
      let e = Math.min(end, s + FEED_PIECE);
      if (e < end) {
        // Cut after the last newline in the piece, or after the end of a line longer than it.
        const nl = buf.lastIndexOf(NL, e - 1);
        if (nl >= s) e = nl + 1;
        else {
          const next = buf.indexOf(NL, e);
          e = next < 0 || next >= end ? end : next + 1;
        }
      }
      const input = this.input(e - s);
      buf.copy(input, 0, s, e);
      this.feedInput(0, e - s);
      s = e;
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

  /** The state so far as string-keyed maps (made once per distinct key). */
  get partial(): ScanPartial {
    return this.#partial(null, null);
  }

  /**
   * The result of this scanner alone: `finishScan(scanner.partial, info, limits)`, except that
   * only keys that can reach the top `limit` become strings and buckets.
   */
  result(info: FinishInfo = {}, limits: ScanLimits = {}): MainlogScanResult {
    return finishScan(this.#partial(limits.limit ?? 50, limits.nestedLimit ?? 10), info, limits);
  }

  /**
   * The partial, holding every key (`keep` null) or only those that can rank in the top `keep`.
   * Nested counts are exact and complete: the kernel's pair tables are bounded by maxPairs, so
   * nothing needs cutting here.
   */
  #partial(keep: number | null, keepNested: number | null): ScanPartial {
    const kernel = this.#kernel;
    const keys = keyViews(kernel);
    const part = emptyPartial();
    // Every table, relation, counter and total is read as count-registry.ts declares it.
    TOTALS.forEach((t, i) => ((part[t.field] as number) = kernel.total(i)));
    part.firstTime = this.#firstTime;
    part.lastTime = this.#lastTime;

    // Keys that can reach a list (all when `keep` is null).
    const kept = new Map<string, Uint8Array | null>();
    for (const t of TABLE_SPECS) if (t.list !== undefined || t.ranks) kept.set(t.name, keep === null ? null : rankable(keys[t.name as TableName], keep, t.subjects === true));
    // Keys that can rank by a counter (the most failing senders) are kept too, whatever their volume.
    for (const t of TABLE_SPECS) {
      const parentKept = t.ranks && t.of !== undefined ? kept.get(t.of) : null;
      if (parentKept === null || parentKept === undefined) continue;
      const own = kept.get(t.name) ?? null;
      for (let id = 0; id < keys[t.name as TableName].size; id++) {
        if (own !== null && own[id] === 0) continue;
        const k = kernel.findKeyOf(TABLE[t.of as TableName], TABLE[t.name as TableName], id);
        if (k >= 0) parentKept[k] = 1;
      }
    }

    // The kernel relations each relation of the result reads: its own, plus one whose parent is
    // the key of the same bytes in another table (the self pairs of an AUTH id, see
    // KERNEL_RELATIONS). Each kernel relation is read once, for the union of the parents wanted.
    const viaOf = new Map<string, Int32Array | null>();
    const via = (parent: string, table: string): Int32Array | null => {
      if (parent === table) return null;
      const cached = viaOf.get(`${parent}/${table}`);
      if (cached !== undefined) return cached;
      const pk = kept.get(parent) ?? null;
      const map = new Int32Array(keys[parent as TableName].size).fill(-1);
      for (let id = 0; id < map.length; id++) if (pk === null || pk[id] !== 0) map[id] = kernel.findKeyOf(TABLE[table as TableName], TABLE[parent as TableName], id);
      viaOf.set(`${parent}/${table}`, map);
      return map;
    };
    const wanted = new Map<string, Uint8Array | null>();
    const want = (relation: string, parents: number, marks: Uint8Array | null | ((add: Uint8Array) => void)): void => {
      const had = wanted.get(relation);
      if (had === null) return;
      if (marks === null || (typeof marks !== 'function' && had === undefined)) {
        wanted.set(relation, marks === null ? null : marks.slice());
        return;
      }
      const into = had ?? new Uint8Array(parents);
      if (typeof marks === 'function') marks(into);
      else for (let i = 0; i < parents; i++) into[i] ||= marks[i]!;
      wanted.set(relation, into);
    };
    for (const r of RELATION_SPECS) {
      const parents = keys[r.parent as TableName].size;
      want(r.name, parents, kept.get(r.parent) ?? null);
      if (r.plus === undefined) continue;
      const map = via(r.parent, r.plus.via);
      const viaParents = keys[r.plus.via as TableName].size;
      if (map === null) want(r.plus.relation, viaParents, kept.get(r.parent) ?? null);
      else want(r.plus.relation, viaParents, (add) => map.forEach((q) => q >= 0 && (add[q] = 1)));
    }
    const views = new Map<string, PairView>();
    for (const r of KERNEL_RELATIONS) {
      const marks = wanted.get(r.name);
      if (marks === undefined) continue;
      views.set(r.name, new PairView(kernel, PAIRS[r.name], keys[r.parent].size, marks));
    }
    // Pairs that did not fit are missing from every list that reads them.
    for (const r of RELATION_SPECS) {
      part.dropped += views.get(r.name)!.dropped;
      if (r.plus !== undefined) part.dropped += views.get(r.plus.relation)!.dropped;
    }
    const childrenOf = (r: RelationSpec): ((id: number) => Children) => {
      const own = views.get(r.name)!;
      if (r.plus === undefined) return (id) => own.children(id);
      const plus = views.get(r.plus.relation)!;
      const map = via(r.parent, r.plus.via);
      return (id) => {
        const q = map === null ? id : map[id]!;
        return q < 0 ? own.children(id) : sumChildren(own.children(id), plus.children(q));
      };
    };

    const build = (table: KeyView, kept: Uint8Array | null, childrenOf: ((id: number) => Children) | null, child: KeyView | null, subjects: boolean): Map<string, ScanBucket> => {
      const out = new Map<string, ScanBucket>();
      // Byte-distinct keys can decode to one string (invalid UTF-8, escapes): they share a
      // bucket, so the strings come first and each counts the keys it holds.
      const ids: number[] = [];
      const names: string[] = [];
      const members = new Map<string, number>();
      for (let id = 0; id < table.size; id++) {
        if (kept !== null && kept[id] === 0) continue;
        const key = subjects ? unescapeSubject(table.key(id)) : table.key(id);
        ids.push(id);
        names.push(key);
        members.set(key, (members.get(key) ?? 0) + 1);
      }
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        const key = names[i]!;
        let b = out.get(key);
        if (b === undefined) {
          b = { count: 0, nested: new Map() };
          out.set(key, b);
        }
        b.count += table.count(id);
        if (childrenOf === null || child === null) continue;
        const nested = b.nested;
        const { children, counts } = childrenOf(id);
        // A key alone in its bucket: only its top children can reach the nested list. A
        // bucket of several keys adds their children up first, so it keeps all of them.
        const some = keepNested === null || members.get(key)! > 1 ? null : rankableAmong(children, (k) => counts[k]!, child, keepNested, false);
        const add = (k: number): void => {
          const name = child.key(children[k]!);
          nested.set(name, (nested.get(name) ?? 0) + counts[k]!);
        };
        if (some === null) for (let k = 0; k < children.length; k++) add(k);
        else for (const k of some) add(k);
      }
      return out;
    };

    for (const t of TABLE_SPECS) {
      if (t.list === undefined) continue;
      const table = keys[t.name as TableName];
      const tableKept = kept.get(t.name) ?? null;
      const nested = RELATION_SPECS.find((r) => r.parent === t.name && r.into === 'nested');
      const buckets = build(table, tableKept, nested === undefined ? null : childrenOf(nested), nested === undefined ? null : keys[nested.child as TableName], t.subjects === true);
      part[t.list] = buckets;
      // Relations whose children are all kept beside the ranked ones (an AUTH id's authenticators).
      for (const r of RELATION_SPECS) {
        if (r.parent !== t.name || r.into !== 'extra') continue;
        const children = childrenOf(r);
        const child = keys[r.child as TableName];
        for (const b of buckets.values()) b.extra ??= new Map();
        for (let id = 0; id < table.size; id++) {
          if (tableKept !== null && tableKept[id] === 0) continue;
          const extra = buckets.get(t.subjects === true ? unescapeSubject(table.key(id)) : table.key(id))!.extra!;
          const { children: ids, counts } = children(id);
          for (let k = 0; k < ids.length; k++) {
            const name = child.key(ids[k]!);
            extra.set(name, (extra.get(name) ?? 0) + counts[k]!);
          }
        }
      }
      // Counters of the kept keys, by their strings: keys that decode alike add up.
      if (t.counters === undefined) continue;
      const counters = TABLE_SPECS.filter((c) => c.of === t.name);
      const out = part[t.counters];
      const from = TABLE[t.name as TableName];
      for (let id = 0; id < table.size; id++) {
        if (tableKept !== null && tableKept[id] === 0) continue;
        let values: Counters | null = null;
        for (const c of counters) {
          const k = kernel.findKeyOf(TABLE[c.name as TableName], from, id);
          const n = k < 0 ? 0 : keys[c.name as TableName].count(k);
          if (n === 0) continue;
          values ??= noCounters();
          addCounter(values, c.field as CounterField, n);
        }
        if (values === null) continue;
        const key = table.key(id);
        const o = out.get(key);
        if (o === undefined) out.set(key, values);
        else for (const f of COUNTER_FIELDS) addCounter(o, f, values[f]);
      }
    }
    return part;
  }
}

/** A parent's children with their counts. */
interface Children {
  children: Int32Array;
  counts: Float64Array;
}

/** The children of two sources added up, each child once. */
function sumChildren(a: Children, b: Children): Children {
  if (b.children.length === 0) return a;
  if (a.children.length === 0) return b;
  const sum = new Map<number, number>();
  for (const { children, counts } of [a, b]) for (let k = 0; k < children.length; k++) sum.set(children[k]!, (sum.get(children[k]!) ?? 0) + counts[k]!);
  return { children: Int32Array.from(sum.keys()), counts: Float64Array.from(sum.values()) };
}

/**
 * Ids that can be among the top `limit` keys of a table once decoded (1 = keep), or null when
 * all can. A key of plain ASCII (and, for subjects, without a backslash) decodes to a string no
 * other key decodes to, so it ranks on its own count: it can only reach the top if its count is
 * at least the `limit`-th largest such count. Other keys may merge after decoding and are all
 * kept (they are rare: invalid UTF-8, escaped quotes).
 */
function rankable(table: KeyView, limit: number, subjects: boolean): Uint8Array | null {
  const ids = new Int32Array(table.size);
  for (let id = 0; id < ids.length; id++) ids[id] = id;
  const at = rankableAmong(ids, (id) => table.count(id), table, limit, subjects);
  if (at === null) return null;
  const kept = new Uint8Array(table.size);
  for (const i of at) kept[i] = 1;
  return kept;
}

/**
 * Indices into `ids` of the keys that can be among the top `limit` once decoded (see
 * rankable), or null when all can.
 */
function rankableAmong(ids: Int32Array, countOf: (id: number) => number, table: KeyView, limit: number, subjects: boolean): number[] | null {
  if (ids.length <= limit) return null;
  const out: number[] = [];
  const plain = new Float64Array(ids.length);
  let n = 0;
  for (let i = 0; i < ids.length; i++) {
    if (table.mayMerge(ids[i]!, subjects)) out.push(i);
    else plain[n++] = countOf(i);
  }
  if (n <= limit) return null;
  const threshold = plain.subarray(0, n).sort()[n - limit]!;
  for (let i = 0; i < ids.length; i++) if (countOf(i) >= threshold && !table.mayMerge(ids[i]!, subjects)) out.push(i);
  return out;
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
  /** Lines dated inside the window found before its first line (and then read). */
  linesOutOfOrder?: number;
  /** Lines dated before the window counted where they were read (a host's filter), instead of here. */
  linesBeforeWindow?: number;
  leftOut?: { file: string | null; bytes: number; reason: string }[];
}

function outcomesOf(map: Map<string, Counters>, key: string): Counters {
  return { ...noCounters(), ...map.get(key) };
}

/** The busiest directories, then the most failing ones not among them (see MainlogScanResult.cwd). */
function cwdList(part: ScanPartial, limit: number): [string, ScanBucket][] {
  const busiest = topBuckets(part.cwd, limit);
  const listed = new Set(busiest.map(([path]) => path));
  const failing = topOf(new Map([...part.cwdOutcomes].filter(([k, o]) => o.failures > 0 && part.cwd.has(k)).map(([k, o]) => [k, o.failures])), limit);
  return [...busiest, ...failing.filter(({ key }) => !listed.has(key)).map(({ key }): [string, ScanBucket] => [key, part.cwd.get(key)!])];
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
      lines_before_window: info.linesBeforeWindow ?? part.outside,
      lines_out_of_order: info.linesOutOfOrder ?? 0,
    },
    left_out: info.leftOut ?? [],
    totals: {
      arrivals: part.arrivals,
      incoming_arrivals: part.incomingArrivals,
      bounces: part.bounces,
      local_arrivals: part.localArrivals,
      authenticated_arrivals: part.authArrivals,
      authenticated_without_id: part.authWithoutIdArrivals,
      cwd_submissions: part.cwdSubmissions,
      admin_invocations: part.adminInvocations,
      deferral_lines: part.deferralLines,
      failure_lines: part.failureLines,
      unjoined_outcomes: part.unjoined,
      messages_forgotten: part.forgotten,
    },
    cwd: cwdList(part, limit).map(([path, b]) => ({ path, count: b.count, user: homeUser(path), senders: topOf(b.nested, nl), ...outcomesOf(part.cwdOutcomes, path) })),
    auth_senders: topBuckets(part.auth, limit).map(([id, b]) => ({
      id, count: b.count, authenticators: topOf(b.extra ?? new Map(), nl), ips: topOf(b.nested, nl), ...outcomesOf(part.authOutcomes, id),
    })),
    senders: topBuckets(part.senders, limit).map(([sender, b]) => ({ sender, count: b.count, ips: topOf(b.nested, nl), ...outcomesOf(part.senderOutcomes, sender) })),
    subjects: topBuckets(part.subjects, limit).map(([subject, b]) => ({ subject, count: b.count, senders: topOf(b.nested, nl) })),
    local_users: topBuckets(part.localUsers, limit).map(([user, b]) => ({ user, count: b.count, senders: topOf(b.nested, nl) })),
    failing_senders: topOf(new Map([...part.senderOutcomes].filter(([, o]) => o.failures > 0).map(([k, o]) => [k, o.failures])), limit)
      .map(({ key }) => ({ sender: key, count: part.senders.get(key)?.count ?? 0, ...outcomesOf(part.senderOutcomes, key) })),
    failing_auth: topOf(new Map([...part.authOutcomes].filter(([, o]) => o.failures > 0).map(([k, o]) => [k, o.failures])), limit)
      .map(({ key }) => ({ id: key, count: part.auth.get(key)?.count ?? 0, ...outcomesOf(part.authOutcomes, key) })),
    truncated: part.dropped > 0 || part.forgotten > 0,
    dropped_keys: part.dropped,
  };
}

/** Scan an in-memory log (tests, small inputs). */
export function scanMainlogBuffer(buf: Buffer, limits: ScanLimits = {}): MainlogScanResult {
  const scanner = new MainlogScanner(limits);
  scanner.feed(buf, 0, buf.length);
  return scanner.result({ startOffset: 0, endOffset: buf.length }, limits);
}
