import { isEximId } from './exim-id.js';

/**
 * `exim -bp` / `-bpc` / `-bP` / `-bV` output. Pure: text in, typed data out, never throws.
 * Formats from Exim's queue.c as observed on Exim 4.96 (see the reference notes, 3.3).
 */

export interface QueueRecipient {
  address: string;
  /** `D` marker: already delivered. */
  delivered: boolean;
  /** `+D` line from `-bpa`: an address generated from another one. */
  generated: boolean;
}

export interface QueueMessage {
  id: string;
  /** Age column as printed: `0m`, `3h`, `125d`. Empty when Exim printed none. */
  age: string;
  /** The age column in minutes (hours and days rounded as Exim rounded them). */
  ageMinutes: number;
  /** Size column as printed: `487`, `5.3K`, `30K`, `1.2M`; empty for size 0. */
  size: string;
  /** Approximate size in bytes from the size column. */
  sizeBytes: number;
  /** Envelope sender without the angle brackets; empty string for a bounce (`<>`). */
  sender: string;
  bounce: boolean;
  /** ` (login)` shown when an untrusted local user set the sender. */
  login: string | null;
  frozen: boolean;
  recipients: QueueRecipient[];
  /** `*** spool read error ... ***` or `*** spool format error ***` shown for the message. */
  error: string | null;
}

export interface QueueListing {
  messages: QueueMessage[];
  /** Lines that matched no known shape, with their 1-based line numbers. */
  unparsed: { line: number; text: string }[];
}

const HEADER_RE =
  /^ *(?:(\d+)([mhd]) +)?(?:(\d+(?:\.\d)?[KM]?) +)?([0-9A-Za-z]{6}-[0-9A-Za-z]{6}(?:[0-9A-Za-z]{5})?-[0-9A-Za-z]{2}(?:[0-9A-Za-z]{2})?)(?: <(.*?)>(?: \(([^)]*)\))?( \*\*\* frozen \*\*\*)?)? *$/;
const ERROR_RE = /^\s*(\*\*\* spool (?:read|format) error.*\*\*\*)\s*$/;
const RECIPIENT_RE = /^(?: {7}\+D | {8}D | {8}  |\t {2}|\t[ D] )\s*(\S.*?)\s*$/;

export function ageToMinutes(value: number, unit: string): number {
  if (unit === 'h') return value * 60;
  if (unit === 'd') return value * 1440;
  return value;
}

/** Bytes for Exim's size column (`string_format_size`); approximate above 1 KiB. */
export function sizeColumnToBytes(text: string): number {
  const m = /^(\d+(?:\.\d)?)([KM]?)$/.exec(text);
  if (m === null) return 0;
  const n = Number(m[1]);
  return Math.round(m[2] === 'K' ? n * 1024 : m[2] === 'M' ? n * 1024 * 1024 : n);
}

/** Parse `exim -bp` (also `-bpa`, `-bpu`, `-bpr` and exiqgrep's long format). */
export function parseQueueListing(text: string): QueueListing {
  const messages: QueueMessage[] = [];
  const unparsed: { line: number; text: string }[] = [];
  let current: QueueMessage | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    if (raw.trim() === '') {
      current = null;
      continue;
    }
    const err = ERROR_RE.exec(raw);
    if (err !== null) {
      if (current !== null) current.error = err[1]!;
      else unparsed.push({ line: i + 1, text: raw });
      continue;
    }
    // Recipient lines are indented by 8 spaces (or TAB in exiqgrep); header lines by at most 6.
    if (raw.startsWith('        ') || raw.startsWith('\t') || raw.startsWith('       +D ')) {
      const rcpt = RECIPIENT_RE.exec(raw);
      if (rcpt !== null && current !== null) {
        const generated = raw.startsWith('       +D ');
        const delivered = generated || raw.startsWith('        D ') || raw.startsWith('\tD ');
        current.recipients.push({ address: rcpt[1]!, delivered, generated });
        continue;
      }
    } else {
      const header = HEADER_RE.exec(raw);
      if (header !== null && isEximId(header[4]!)) {
        const sender = header[5];
        current = {
          id: header[4]!,
          age: header[1] !== undefined ? `${header[1]}${header[2]}` : '',
          ageMinutes: header[1] !== undefined ? ageToMinutes(Number(header[1]), header[2]!) : 0,
          size: header[3] ?? '',
          sizeBytes: sizeColumnToBytes(header[3] ?? ''),
          sender: sender ?? '',
          bounce: sender === '',
          login: header[6] ?? null,
          frozen: header[7] !== undefined,
          recipients: [],
          error: null,
        };
        messages.push(current);
        continue;
      }
    }
    unparsed.push({ line: i + 1, text: raw });
  }
  return { messages, unparsed };
}

export interface RankedCount {
  key: string;
  count: number;
}

/** Stable ranking: count descending, then key ascending (code-unit order, locale-free). */
export function rankCounts(counts: Map<string, number>, limit = Infinity): RankedCount[] {
  const out: RankedCount[] = [];
  for (const [key, count] of counts) out.push({ key, count });
  out.sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return Number.isFinite(limit) ? out.slice(0, limit) : out;
}

/**
 * Senders ranked by queued messages; bounces (`<>`) are counted under the key `<>`. Messages
 * whose header could not be read (no sender shown) are left out.
 */
export function queueSenders(listing: QueueListing): RankedCount[] {
  const counts = new Map<string, number>();
  for (const m of listing.messages) {
    if (!m.bounce && m.sender === '') continue;
    const key = m.bounce ? '<>' : m.sender;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return rankCounts(counts);
}

export type CountResult = { ok: true; count: number } | { ok: false; error: string };

/** `exim -bpc`: a single number. */
export function parseQueueCount(text: string): CountResult {
  const t = text.trim();
  if (/^\d+$/.test(t)) return { ok: true, count: Number(t) };
  return { ok: false, error: `expected a message count, got ${JSON.stringify(t.slice(0, 200))}` };
}

/**
 * `exim -bP a b` prints `a = value` lines (`-n` prints bare values). Bare values are matched to
 * the requested names in order. Names Exim did not print are absent.
 */
export function parseConfigValues(text: string, names: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  const bare: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const m = /^([a-z0-9_]+) =(?: (.*))?$/.exec(line);
    if (m !== null) {
      out[m[1]!] = (m[2] ?? '').trim();
      continue;
    }
    // Boolean options print as `name` or `no_name`.
    const b = /^(no_)?([a-z0-9_]+)$/.exec(line.trim());
    if (b !== null && names.includes(b[2]!)) {
      out[b[2]!] = b[1] === undefined ? 'true' : 'false';
      continue;
    }
    if (/^exim:|abandoned|unknown/.test(line)) continue;
    bare.push(line.trim());
  }
  // `-n` prints bare values: give them to the names not printed as `name = value`, in order.
  const open = names.filter((n) => out[n] === undefined);
  for (let i = 0; i < bare.length && i < open.length; i++) out[open[i]!] = bare[i]!;
  return out;
}

/**
 * The main log path from `log_file_path`: the first entry that is not `syslog`, with `%s`
 * replaced by `main`. Empty value (compiled-in default) or syslog-only gives null: the caller
 * falls back to the layout's known default.
 */
export function mainlogPathFromLogFilePath(value: string, spoolDirectory?: string): string | null {
  for (const entry of value.split(':')) {
    const e = entry.trim();
    if (e === '' || e === 'syslog') continue;
    if (!e.includes('%s')) return e;
    return e.replace('%s', 'main');
  }
  if (value.trim() === '' && spoolDirectory !== undefined) return defaultMainlogFor(spoolDirectory);
  return null;
}

/** Known layouts when Exim reports no log path: cPanel, Debian, Exim's own default. */
export function defaultMainlogFor(spoolDirectory: string): string {
  if (spoolDirectory === '/var/spool/exim') return '/var/log/exim_mainlog';
  if (spoolDirectory === '/var/spool/exim4') return '/var/log/exim4/mainlog';
  return `${spoolDirectory.replace(/\/$/, '')}/log/mainlog`;
}

/** `exim -bV` first line: `Exim version 4.96 #2 built ...`. */
export function parseEximVersion(text: string): string | null {
  const m = /Exim version (\S+)/.exec(text);
  return m === null ? null : m[1]!;
}
