/**
 * Reads the count tables that the target's counters send back (mainlog-count.pl.ts, and the
 * native one), named as src/parsers/count-registry.ts declares them, into the scanner's partial: the same string-keyed maps MainlogScanner.partial gives, so one
 * finishScan turns either into the result. Pure: bytes in, partial out.
 */
import { unescapeSubject } from '../parsers/exim-mainlog.js';
import { addCounter, noCounters, RELATIONS, TABLES, TOTALS, type CounterField, type RelationSpec, type TableSpec, type TotalField, type TotalSpec } from '../parsers/count-registry.js';
import { DEFAULT_MAX_MESSAGES, emptyPartial, type ScanBucket, type ScanLimits, type ScanPartial } from '../parsers/mainlog-scan.js';

/**
 * The counter's LIMITS argument (`MAXKEYS:LIMIT:NESTED:MESSAGES`): keys kept per table as the
 * kernel keeps them (at most 2^18 - 1), the result's list lengths, so that only what can reach
 * the lists is sent back, and the messages remembered for joining deferrals and failures.
 */
export function countLimits(limits: ScanLimits): string {
  const keys = Math.min(Math.max(0, Math.floor(limits.maxKeys ?? 200_000)), 262_143);
  const messages = Math.min(Math.max(0, Math.floor(limits.maxMessages ?? DEFAULT_MAX_MESSAGES)), 2 ** 31 - 1);
  return `${keys}:${limits.limit ?? 50}:${limits.nestedLimit ?? 10}:${messages}`;
}

/** What the counter reports beside the tables. */
export interface CountedWindow {
  /** Offset the window started at (0 when the whole log was read). */
  start: number;
  /** Lines of the window found before its start (then the whole log was read). */
  late: number;
  partial: ScanPartial;
}

export class CountTablesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CountTablesError';
  }
}

/**
 * A count or id of the output: decimal digits only. Anything else (NaN, a sign, a fraction, an
 * exponent) is refused: it would reach the thresholds as NaN or a negative and hide a sender.
 */
function whole(text: string | undefined, what: string): number {
  const n = Number(text);
  if (text === undefined || !/^\d{1,16}$/.test(text) || !Number.isSafeInteger(n)) throw new CountTablesError(`${what} ${JSON.stringify((text ?? '').slice(0, 40))} is not a whole number`);
  return n;
}

/** Key strings as the scanner makes them: UTF-8 decoded bytes (subjects with `\"` unescaped). */
function decode(hex: string, subjects: boolean): string {
  // Buffer.from drops what is not hex silently: a key would come back as another one.
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new CountTablesError(`key ${JSON.stringify(hex.slice(0, 40))} is not hex`);
  const s = Buffer.from(hex, 'hex').toString('utf8');
  return subjects ? unescapeSubject(s) : s;
}

// What each line names, as count-registry.ts declares it.
const TOTALS_BY_NAME = new Map<string, TotalSpec>(TOTALS.map((t) => [t.name, t]));
const TABLES_BY_NAME = new Map<string, TableSpec>(TABLES.map((t) => [t.name, t]));
const RELATIONS_BY_NAME = new Map<string, RelationSpec>(RELATIONS.map((r) => [r.name, r]));
/** Tables whose keys are parents of an `extra` relation: every bucket of theirs has its extra map, as in the scanner. */
const WITH_EXTRA = new Set<string>(RELATIONS.filter((r) => r.into === 'extra').map((r) => r.parent));

/** Parse the counter's (decompressed) output. */
export function readCountTables(text: string): CountedWindow {
  const partial = emptyPartial();
  const names = new Map<string, string[]>();
  const counts = new Map<string, number[]>();
  const header = new Map<string, string>();
  const pairs: string[][] = [];
  const totalsSeen = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const f = line.split('\t');
    if (f[0] === 'key' && f.length === 5) {
      const table = f[1]!;
      const id = whole(f[2], `id in ${table}`);
      if (!names.has(table)) {
        names.set(table, []);
        counts.set(table, []);
      }
      if (names.get(table)![id] !== undefined) throw new CountTablesError(`key ${id} of ${JSON.stringify(table)} given twice`);
      names.get(table)![id] = decode(f[3]!, TABLES_BY_NAME.get(table)?.subjects === true);
      counts.get(table)![id] = whole(f[4], `count in ${table}`);
    } else if (f[0] === 'pair' && f.length === 5) {
      pairs.push(f);
    } else if (f[0] === 'total' && f.length === 3) {
      const total = TOTALS_BY_NAME.get(f[1]!);
      if (total === undefined || total.header !== undefined) throw new CountTablesError(`unknown total ${JSON.stringify(f[1])}`);
      if (totalsSeen.has(total.name)) throw new CountTablesError(`total ${total.name} given twice`);
      totalsSeen.add(total.name);
      (partial[total.field as TotalField] as number) = whole(f[2], `total ${f[1]}`);
    } else if (f.length === 2) {
      header.set(f[0]!, f[1]!);
    } else {
      throw new CountTablesError(`malformed line ${JSON.stringify(line.slice(0, 80))}`);
    }
  }
  const start = Number(header.get('start'));
  const late = Number(header.get('late'));
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(late)) throw new CountTablesError('incomplete output');
  // Both counters print every declared total: one missing is a counter that does not know it.
  const missing = (TOTALS as readonly TotalSpec[]).find((t) => t.header === undefined && !totalsSeen.has(t.name));
  if (missing !== undefined) throw new CountTablesError(`incomplete output: no total ${missing.name}`);
  for (const t of TOTALS as readonly TotalSpec[]) {
    if (t.header === undefined) continue;
    const n = Number(header.get(t.header));
    if (!Number.isSafeInteger(n)) throw new CountTablesError('incomplete output');
    (partial[t.field as TotalField] as number) = n;
  }
  partial.firstTime = header.get('first') || null;
  partial.lastTime = header.get('last') || null;

  // Byte-distinct keys can decode to one string: they share a bucket, as in the scanner.
  const bucketOf = (table: string, id: number): ScanBucket | undefined => {
    const list = TABLES_BY_NAME.get(table)?.list;
    const key = names.get(table)?.[id];
    if (list === undefined || key === undefined) return undefined;
    const map = partial[list];
    let b = map.get(key);
    if (b === undefined) {
      b = { count: 0, nested: new Map() };
      map.set(key, b);
    }
    return b;
  };
  for (const [table, list] of counts) {
    const spec = TABLES_BY_NAME.get(table);
    if (spec === undefined) throw new CountTablesError(`unknown table ${JSON.stringify(table)}`);
    const into = spec.of === undefined ? undefined : TABLES_BY_NAME.get(spec.of)?.counters;
    if (into !== undefined) {
      const field = spec.field as CounterField;
      list.forEach((n, id) => {
        const key = names.get(table)![id]!;
        const o = partial[into].get(key) ?? noCounters();
        addCounter(o, field, n);
        partial[into].set(key, o);
      });
    }
    if (spec.list === undefined) continue;
    list.forEach((n, id) => (bucketOf(table, id)!.count += n));
  }
  for (const [, relation, parent, child, count] of pairs) {
    const r = RELATIONS_BY_NAME.get(relation!);
    if (r === undefined) throw new CountTablesError(`unknown relation ${JSON.stringify(relation)}`);
    const n = whole(count, `count in ${relation}`);
    const b = bucketOf(r.parent, whole(parent, `parent in ${relation}`));
    const name = names.get(r.child)?.[whole(child, `child in ${relation}`)];
    if (b === undefined || name === undefined) throw new CountTablesError(`pair of unknown keys in ${relation}`);
    const into = r.into === 'nested' ? b.nested : (b.extra ??= new Map());
    into.set(name, (into.get(name) ?? 0) + n);
  }
  // The scanner gives every AUTH id its authenticators map, empty or not.
  for (const table of WITH_EXTRA) {
    const list = TABLES_BY_NAME.get(table)?.list;
    if (list !== undefined) for (const b of partial[list].values()) b.extra ??= new Map();
  }
  return { start, late, partial };
}
