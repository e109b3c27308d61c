/**
 * The one declaration of what the main-log scanner counts: its key tables, the relations between
 * them, the per-sender and per-AUTH-id counters and the totals. Everything else reads it:
 *   - the WebAssembly kernel's numbering (src/parsers/wasm/counters.ts, generated from this
 *     module by scripts/gen-counters.mjs at `npm run build`; a test checks it is current),
 *   - the JavaScript reader of the kernel's tables (MainlogScanner.partial in mainlog-scan.ts),
 *   - the native target counter's C driver (a header generated from this module when it is
 *     built: scripts/build-native-counter.mjs), which chooses and prints generically,
 *   - the perl target counter (its table, relation and total names and its choice of what to
 *     send are interpolated from here: src/remote/mainlog-count.pl.ts),
 *   - the decoder of both counters' output (src/remote/count-tables.ts).
 *
 * Adding a per-sender (or per-AUTH-id) counter, e.g. bytes sent by each sender:
 *   1. one entry in TABLES here: `{ name: 'sender_bytes', of: 'senders', field: 'bytes' }` (and
 *      `auth_bytes` with of 'auth' if AUTH ids get it too). The field then appears in
 *      ScanPartial.senderOutcomes, in every sender of the result, and on both target counters'
 *      wire, with no other change to the readers, the C driver or the decoder;
 *   2. its counting in the kernel: `countAs(T_SENDER_BYTES, T_SENDERS, sender, n)` in arrival()
 *      (src/parsers/wasm/scan.ts; T_SENDER_BYTES comes from the generated counters.ts);
 *   3. its twin in the perl counter (the fallback on hosts where the native one cannot run):
 *      `key_id($tid{sender_bytes}, $from_addr, $n * $bytes)` in count_tuples, with the value
 *      carried in the arrival's tuple (src/remote/mainlog-count.pl.ts).
 * The property tests (test/remote/mainlog-count.test.ts, test/remote/native-count.test.ts,
 * test/parsers/count-registry.test.ts) then hold the three to the same numbers.
 *
 * Pure data, no imports: node loads this file as it is (type stripping) to generate the kernel's
 * and the C driver's constants.
 */

/** A key table of the kernel (interned keys with a count each). */
export interface TableSpec {
  /** Name on the target counters' wire (`key\tNAME\t...`), and in TABLE. */
  readonly name: string;
  /** The kernel's constant (T_...) in src/parsers/wasm/counters.ts. */
  readonly constant: string;
  /** Distinct keys kept at most, when not the scan's maxKeys. */
  readonly maxKeys?: number;
  /** Ranked into a list of the result: the ScanPartial map it becomes. */
  readonly list?: 'cwd' | 'senders' | 'auth' | 'subjects' | 'localUsers';
  /** Keys are subjects: `\"` unescaped when decoded, and a backslash may make two keys one. */
  readonly subjects?: boolean;
  /** The ScanPartial map of this table's counters (tables with `of` this one). */
  readonly counters?: 'senderOutcomes' | 'authOutcomes' | 'cwdOutcomes';
  /** A counter: keyed by the same bytes as the keys of table `of`, counted into `field`. */
  readonly of?: string;
  readonly field?: string;
  /** Keys of `of` that can rank among the top by this counter are kept too, whatever their volume (failing senders). */
  readonly ranks?: boolean;
  /**
   * A time, not a sum: counted once, when the key of `of` is made, as the logged time's digits
   * (YYYYMMDDhhmmss); keys that decode alike keep the earliest (addCounter). Logs are read
   * oldest first, so the first line of a key is its first in the window.
   */
  readonly time?: boolean;
}

export const TABLES = [
  { name: 'cwd', constant: 'T_CWD', list: 'cwd', counters: 'cwdOutcomes' },
  { name: 'senders', constant: 'T_SENDERS', list: 'senders', counters: 'senderOutcomes' },
  { name: 'auth', constant: 'T_AUTH', list: 'auth', counters: 'authOutcomes' },
  { name: 'subjects', constant: 'T_SUBJECTS', list: 'subjects', subjects: true },
  { name: 'users', constant: 'T_USERS', list: 'localUsers' },
  { name: 'ips', constant: 'T_IPS' },
  { name: 'names', constant: 'T_NAMES', maxKeys: 1000 },
  // Per-sender and per-AUTH-id counters: recipients of their arrivals (`for ...`), deferred
  // recipients (`==`, once per message and recipient) and failed ones (`**`), the last two
  // joined to the arrival by message id (src/parsers/wasm/join.ts).
  { name: 'sender_rcpts', constant: 'T_SENDER_RCPTS', of: 'senders', field: 'recipients' },
  { name: 'sender_deferrals', constant: 'T_SENDER_DEFERRALS', of: 'senders', field: 'deferrals' },
  { name: 'sender_failures', constant: 'T_SENDER_FAILURES', of: 'senders', field: 'failures', ranks: true },
  { name: 'auth_rcpts', constant: 'T_AUTH_RCPTS', of: 'auth', field: 'recipients' },
  { name: 'auth_deferrals', constant: 'T_AUTH_DEFERRALS', of: 'auth', field: 'deferrals' },
  { name: 'auth_failures', constant: 'T_AUTH_FAILURES', of: 'auth', field: 'failures', ranks: true },
  // The same of a cwd= directory's local arrivals (a script's mail): a script whose mail mostly
  // fails is a source under the volume threshold, as a sender is, told apart from the other mail
  // its envelope sender carries; the most failing directories are listed whatever their volume.
  { name: 'cwd_rcpts', constant: 'T_CWD_RCPTS', of: 'cwd', field: 'recipients' },
  { name: 'cwd_deferrals', constant: 'T_CWD_DEFERRALS', of: 'cwd', field: 'deferrals' },
  { name: 'cwd_failures', constant: 'T_CWD_FAILURES', of: 'cwd', field: 'failures', ranks: true },
  // When a directory first submitted mail: a script that appears in the middle of the log is a
  // new mailer even when it sends as the account's usual sender (the verdict's new directories).
  { name: 'cwd_first', constant: 'T_CWD_FIRST', of: 'cwd', field: 'first_seen', time: true },
] as const satisfies readonly TableSpec[];

/** A (parent key, child key) count of the kernel (src/parsers/wasm/pair-table.ts). */
export interface KernelRelationSpec {
  readonly name: string;
  readonly constant: string;
  readonly parent: string;
  readonly child: string;
}

/**
 * Relations in the kernel's numbering. Addresses are split three ways: self_ips holds (AUTH id,
 * address) of arrivals whose sender is that AUTH id (one pair, one random access, for both
 * lists), sender_ips and auth_ips those of all others; RELATIONS adds them back up.
 */
export const KERNEL_RELATIONS = [
  { name: 'cwd_senders', constant: 'P_CWD_SENDERS', parent: 'cwd', child: 'senders' },
  { name: 'sender_ips', constant: 'P_SENDER_IPS', parent: 'senders', child: 'ips' },
  { name: 'auth_ips', constant: 'P_AUTH_IPS', parent: 'auth', child: 'ips' },
  { name: 'auth_names', constant: 'P_AUTH_NAMES', parent: 'auth', child: 'names' },
  { name: 'subject_senders', constant: 'P_SUBJECT_SENDERS', parent: 'subjects', child: 'senders' },
  { name: 'user_senders', constant: 'P_USER_SENDERS', parent: 'users', child: 'senders' },
  { name: 'self_ips', constant: 'P_SELF_IPS', parent: 'auth', child: 'ips' },
] as const satisfies readonly KernelRelationSpec[];

/** A relation of the result (and of the target counters' wire). */
export interface RelationSpec {
  readonly name: string;
  readonly parent: string;
  readonly child: string;
  /** Where a parent's children go in its bucket: `nested` (ranked: ips, senders) or `extra` (all: authenticators). */
  readonly into: 'nested' | 'extra';
  /** The kernel relation counted under the same name, plus one whose parent is the key of the same bytes in table `via`. */
  readonly plus?: { readonly relation: string; readonly via: string };
}

export const RELATIONS = [
  { name: 'cwd_senders', parent: 'cwd', child: 'senders', into: 'nested' },
  // A sender's addresses are its sender_ips plus the self_ips of the AUTH id of its name; an
  // AUTH id's are its auth_ips plus its self_ips.
  { name: 'sender_ips', parent: 'senders', child: 'ips', into: 'nested', plus: { relation: 'self_ips', via: 'auth' } },
  { name: 'auth_ips', parent: 'auth', child: 'ips', into: 'nested', plus: { relation: 'self_ips', via: 'auth' } },
  { name: 'auth_names', parent: 'auth', child: 'names', into: 'extra' },
  { name: 'subject_senders', parent: 'subjects', child: 'senders', into: 'nested' },
  { name: 'user_senders', parent: 'users', child: 'senders', into: 'nested' },
] as const satisfies readonly RelationSpec[];

/** A total of the kernel (`total(i)`, in this order), and the ScanPartial field it feeds. */
export interface TotalSpec {
  /** Name on the target counters' wire (`total\tNAME\tN`). */
  readonly name: string;
  readonly constant: string;
  readonly field: string;
  /** Sent as a header line of this name instead of a `total` line. */
  readonly header?: string;
}

export const TOTALS = [
  { name: 'arrivals', constant: 'TOT_ARRIVALS', field: 'arrivals' },
  { name: 'incoming', constant: 'TOT_INCOMING', field: 'incomingArrivals' },
  { name: 'bounces', constant: 'TOT_BOUNCES', field: 'bounces' },
  { name: 'local', constant: 'TOT_LOCAL', field: 'localArrivals' },
  { name: 'auth', constant: 'TOT_AUTH', field: 'authArrivals' },
  { name: 'cwd', constant: 'TOT_CWD', field: 'cwdSubmissions' },
  { name: 'admin', constant: 'TOT_ADMIN', field: 'adminInvocations' },
  // Keys that did not fit; readers add the pairs that did not fit (once per relation of the result using them).
  { name: 'dropped', constant: 'TOT_DROPPED', field: 'dropped' },
  { name: 'auth_without_id', constant: 'TOT_AUTH_WITHOUT_ID', field: 'authWithoutIdArrivals' },
  { name: 'outside', constant: 'TOT_OUTSIDE', field: 'outside', header: 'before' },
  { name: 'deferrals', constant: 'TOT_DEFERRALS', field: 'deferralLines' },
  { name: 'failures', constant: 'TOT_FAILURES', field: 'failureLines' },
  { name: 'unjoined', constant: 'TOT_UNJOINED', field: 'unjoined' },
  { name: 'forgotten', constant: 'TOT_FORGOTTEN', field: 'forgotten' },
] as const satisfies readonly TotalSpec[];

export type TableName = (typeof TABLES)[number]['name'];
export type RelationName = (typeof RELATIONS)[number]['name'];
export type KernelRelationName = (typeof KERNEL_RELATIONS)[number]['name'];
export type TotalField = (typeof TOTALS)[number]['field'];
/** The fields of the per-sender and per-AUTH-id counters. */
export type CounterField = Extract<(typeof TABLES)[number], { field: string }>['field'];
/** The counter fields that hold a time (TableSpec.time). */
export type TimeField = Extract<(typeof TABLES)[number], { time: true }>['field'];
/**
 * A key's counters: the sums (absent ones are 0) and the times its table has (a directory's
 * first line; absent where the table has none, or nothing was seen).
 */
export type Counters = Record<Exclude<CounterField, TimeField>, number> & Partial<Record<TimeField, number>>;

/** Table number (the kernel's) by name. */
export const TABLE = Object.fromEntries(TABLES.map((t, i) => [t.name, i])) as { readonly [N in TableName]: number };
/** Kernel relation number by name. */
export const PAIRS = Object.fromEntries(KERNEL_RELATIONS.map((r, i) => [r.name, i])) as { readonly [N in KernelRelationName]: number };
/** Every counter field, in registry order. */
export const COUNTER_FIELDS: readonly CounterField[] = [...new Set(TABLES.flatMap((t) => ('field' in t ? [t.field] : [])))];
/** The time fields: merged by addCounter, never added. */
export const TIME_FIELDS: ReadonlySet<CounterField> = new Set(TABLES.flatMap((t) => ('time' in t && t.time ? [t.field] : [])));

/** Add value `n` of counter `field` into `o`: a sum, or for a time the earliest known (0 or absent: none). */
export function addCounter(o: Counters, field: CounterField, n: number | undefined): void {
  if (n === undefined || n === 0) return;
  const a = (o as Record<CounterField, number | undefined>)[field];
  (o as Record<CounterField, number>)[field] = a === undefined || a === 0 ? n : TIME_FIELDS.has(field) ? Math.min(a, n) : a + n;
}

export function noCounters(): Counters {
  return Object.fromEntries(COUNTER_FIELDS.filter((f) => !TIME_FIELDS.has(f)).map((f) => [f, 0])) as Counters;
}
