/**
 * Reads the count tables that the target's perl counter sends back (mainlog-count.pl.ts) into
 * the scanner's partial: the same string-keyed maps MainlogScanner.partial gives, so one
 * finishScan turns either into the result. Pure: bytes in, partial out.
 */
import { unescapeSubject } from '../parsers/exim-mainlog.js';
import { DEFAULT_MAX_MESSAGES, emptyPartial, type Outcomes, type ScanBucket, type ScanLimits, type ScanPartial } from '../parsers/mainlog-scan.js';

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

/** Key strings as the scanner makes them: UTF-8 decoded bytes (subjects with `\"` unescaped). */
function decode(hex: string, subjects: boolean): string {
  const s = Buffer.from(hex, 'hex').toString('utf8');
  return subjects ? unescapeSubject(s) : s;
}

const TOTALS: Record<string, keyof ScanPartial> = {
  arrivals: 'arrivals',
  incoming: 'incomingArrivals',
  bounces: 'bounces',
  local: 'localArrivals',
  auth: 'authArrivals',
  auth_without_id: 'authWithoutIdArrivals',
  cwd: 'cwdSubmissions',
  admin: 'adminInvocations',
  dropped: 'dropped',
  deferrals: 'deferralLines',
  failures: 'failureLines',
  unjoined: 'unjoined',
  forgotten: 'forgotten',
};

/** Outcome tables: which partial map and field their counts go to. */
const OUTCOMES: Record<string, [into: 'senderOutcomes' | 'authOutcomes', field: keyof Outcomes]> = {
  sender_rcpts: ['senderOutcomes', 'recipients'],
  sender_deferrals: ['senderOutcomes', 'deferrals'],
  sender_failures: ['senderOutcomes', 'failures'],
  auth_rcpts: ['authOutcomes', 'recipients'],
  auth_deferrals: ['authOutcomes', 'deferrals'],
  auth_failures: ['authOutcomes', 'failures'],
};

/** Parent table, child table and where the children go, per relation. */
const RELATIONS: Record<string, { parent: string; child: string; into: 'nested' | 'extra' }> = {
  cwd_senders: { parent: 'cwd', child: 'senders', into: 'nested' },
  sender_ips: { parent: 'senders', child: 'ips', into: 'nested' },
  auth_ips: { parent: 'auth', child: 'ips', into: 'nested' },
  auth_names: { parent: 'auth', child: 'names', into: 'extra' },
  subject_senders: { parent: 'subjects', child: 'senders', into: 'nested' },
  user_senders: { parent: 'users', child: 'senders', into: 'nested' },
};

/** The partial's map for each table that becomes a list of the result. */
const LISTED: Record<string, 'cwd' | 'senders' | 'auth' | 'subjects' | 'localUsers'> = {
  cwd: 'cwd',
  senders: 'senders',
  auth: 'auth',
  subjects: 'subjects',
  users: 'localUsers',
};

/** Parse the counter's (decompressed) output. */
export function readCountTables(text: string): CountedWindow {
  const partial = emptyPartial();
  const names = new Map<string, string[]>();
  const counts = new Map<string, number[]>();
  const header = new Map<string, string>();
  const pairs: string[][] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const f = line.split('\t');
    if (f[0] === 'key' && f.length === 5) {
      const table = f[1]!;
      const id = Number(f[2]);
      if (!names.has(table)) {
        names.set(table, []);
        counts.set(table, []);
      }
      names.get(table)![id] = decode(f[3]!, table === 'subjects');
      counts.get(table)![id] = Number(f[4]);
    } else if (f[0] === 'pair' && f.length === 5) {
      pairs.push(f);
    } else if (f[0] === 'total' && f.length === 3) {
      const field = TOTALS[f[1]!];
      if (field === undefined) throw new CountTablesError(`unknown total ${JSON.stringify(f[1])}`);
      (partial[field] as number) = Number(f[2]);
    } else if (f.length === 2) {
      header.set(f[0]!, f[1]!);
    } else {
      throw new CountTablesError(`malformed line ${JSON.stringify(line.slice(0, 80))}`);
    }
  }
  const start = Number(header.get('start'));
  const late = Number(header.get('late'));
  const before = Number(header.get('before'));
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(late) || !Number.isSafeInteger(before)) throw new CountTablesError('incomplete output');
  partial.outside = before;
  partial.firstTime = header.get('first') || null;
  partial.lastTime = header.get('last') || null;

  // Byte-distinct keys can decode to one string: they share a bucket, as in the scanner.
  const bucketOf = (table: string, id: number): ScanBucket | undefined => {
    const list = LISTED[table];
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
    const outcome = OUTCOMES[table];
    if (outcome !== undefined) {
      const [into, field] = outcome;
      list.forEach((n, id) => {
        const key = names.get(table)![id]!;
        const o = partial[into].get(key) ?? { recipients: 0, deferrals: 0, failures: 0 };
        o[field] += n;
        partial[into].set(key, o);
      });
    }
    if (LISTED[table] === undefined) continue;
    list.forEach((n, id) => (bucketOf(table, id)!.count += n));
  }
  for (const [, relation, parent, child, count] of pairs) {
    const r = RELATIONS[relation!];
    if (r === undefined) throw new CountTablesError(`unknown relation ${JSON.stringify(relation)}`);
    const b = bucketOf(r.parent, Number(parent));
    const name = names.get(r.child)?.[Number(child)];
    if (b === undefined || name === undefined) throw new CountTablesError(`pair of unknown keys in ${relation}`);
    const into = r.into === 'nested' ? b.nested : (b.extra ??= new Map());
    into.set(name, (into.get(name) ?? 0) + Number(count));
  }
  // The scanner gives every AUTH id its authenticators map, empty or not.
  for (const b of partial.auth.values()) b.extra ??= new Map();
  return { start, late, partial };
}
