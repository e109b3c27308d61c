/**
 * One Exim main-log line at a time, as strings. This is the readable reference for the log
 * format (and the reference implementation the fast byte scanner in mainlog-scan.ts is tested
 * against). Field rules are shared with that scanner and must stay in step with it:
 * - tokens are separated by single spaces, except that an address (the sender, `id=`, the
 *   parts of `A=`) runs to the first space outside double quotes: Exim writes a quoted local
 *   part as it came (`<= "spaced user"@example.test`, `"a\"b"@x`), and the sender is chosen
 *   by whoever sends the mail, so words inside the quotes must never be read as fields. An
 *   address whose quote never closes (not something Exim writes) ends at its first space;
 * - `U=` is written raw and may hold spaces (`U=spaced user P=local`): it runs up to the next
 *   field token (`Name=`) or bare `for`, or when none follows, its first space;
 * - `A=authenticator`, `A=authenticator:id` or `A=authenticator:id:authenticated_sender`
 *   (+smtp_mailauth); the id and the sender are addresses as above, the id ends at the first
 *   `:` outside quotes;
 * - the first occurrence of a field wins;
 * - `T="..."` ends at the first `"` not escaped by a backslash; after it only ` for ...` counts;
 * - `H=` gives the client address from the first `[...]` among the H= value and the next two
 *   tokens; `I=[...]` is the server's own interface and is reported separately.
 */
import { isEximId } from './exim-id.js';

export interface LogHost {
  name: string | null;
  helo: string | null;
  ip: string | null;
  port: number | null;
}

export interface ArrivalLine {
  kind: 'arrival';
  time: string;
  id: string;
  /** Envelope sender; empty string for a bounce (`<>`). */
  sender: string;
  bounce: boolean;
  host: LogHost | null;
  /** `I=[ip]:port`: the server's own receiving address, never a client. */
  interfaceIp: string | null;
  user: string | null;
  protocol: string | null;
  /**
   * SMTP AUTH (`A=`); null when the arrival was not authenticated. `id` is null for a login
   * Exim logged without an id (`A=plain`: the authenticator set no server_set_id), which is
   * still an authenticated arrival. `authenticatedSender` is the third part Exim writes with
   * +smtp_mailauth (the client's `MAIL FROM AUTH=`, client-chosen), else null.
   */
  auth: ArrivalAuth | null;
  size: number | null;
  /** Subject with `\"` and `\\` unescaped; other escapes kept as Exim wrote them. */
  subject: string | null;
  recipients: string[];
}

export interface ArrivalAuth {
  authenticator: string;
  id: string | null;
  authenticatedSender: string | null;
}

export interface CwdLine {
  kind: 'cwd';
  time: string;
  cwd: string;
  argc: number;
  /** The logged argument text after `N args: `. */
  args: string;
  /** An administrative Exim run (queue listing, removal, config query, queue runner...). */
  admin: boolean;
}

export interface AddressLine {
  kind: 'delivery' | 'additional' | 'cutthrough' | 'suppressed' | 'failure' | 'deferral' | 'fakereject';
  time: string;
  id: string;
  address: string;
  rest: string;
}

export interface SimpleIdLine {
  kind: 'completed' | 'frozen' | 'removed';
  time: string;
  id: string;
  by: string | null;
}

export interface CpanelLine {
  kind: 'cpanel';
  time: string;
  id: string | null;
  what: 'smtp_identification' | 'sender_identification' | 'nobody_identification';
  fields: Record<string, string>;
}

export interface OtherLine {
  kind: 'other';
  time: string;
  id: string | null;
  text: string;
}

export interface InvalidLine {
  kind: 'invalid';
  text: string;
}

export type MainlogLine = ArrivalLine | CwdLine | AddressLine | SimpleIdLine | CpanelLine | OtherLine | InvalidLine;

const TIME_RE = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\.\d+)?(?: ([+-]\d{4}))? (?:\[\d+\] )?/;

/**
 * The zone offset after a line's time (`+0100`, `-0500`: Exim's log_timezone), or null when the
 * line has none (the default: local time without a zone).
 */
export function lineOffset(line: string): string | null {
  return TIME_RE.exec(line)?.[2] ?? null;
}

/** The leading `YYYY-MM-DD HH:MM:SS` of a line, or null. */
export function lineTimestamp(line: string): string | null {
  const m = TIME_RE.exec(line);
  return m === null ? null : m[1]!;
}

const FLAGS: Record<string, AddressLine['kind']> = {
  '=>': 'delivery',
  '->': 'additional',
  '>>': 'cutthrough',
  '*>': 'suppressed',
  '**': 'failure',
  '==': 'deferral',
  '(=': 'fakereject',
};

export function classifyMainlogLine(line: string): MainlogLine {
  const tm = TIME_RE.exec(line);
  if (tm === null) return { kind: 'invalid', text: line };
  const time = tm[1]!;
  let rest = line.slice(tm[0].length);
  if (rest.startsWith('cwd=')) {
    const cwd = parseCwd(time, rest);
    if (cwd !== null) return cwd;
  }
  let id: string | null = null;
  const sp = rest.indexOf(' ');
  const first = sp < 0 ? rest : rest.slice(0, sp);
  if ((first.length === 16 || first.length === 23) && isEximId(first)) {
    id = first;
    rest = sp < 0 ? '' : rest.slice(sp + 1);
  }
  if (id !== null) {
    if (rest.startsWith('<= ')) return parseArrival(time, id, rest.slice(3));
    const flag = FLAGS[rest.slice(0, 2)];
    if (flag !== undefined && rest.charAt(2) === ' ') {
      const body = rest.slice(3);
      const s = body.indexOf(' ');
      return { kind: flag, time, id, address: s < 0 ? body : body.slice(0, s), rest: s < 0 ? '' : body.slice(s + 1) };
    }
    if (rest === 'Completed' || rest.startsWith('Completed ')) return { kind: 'completed', time, id, by: null };
    const by = /^(removed|frozen) by (\S+)/.exec(rest);
    if (by !== null) return { kind: by[1] === 'removed' ? 'removed' : 'frozen', time, id, by: by[2]! };
  }
  const cp = /^(SMTP connection identification|Sender identification|nobody send identification) (.*)$/.exec(rest);
  if (cp !== null) {
    const what = cp[1] === 'Sender identification' ? 'sender_identification' : cp[1] === 'nobody send identification' ? 'nobody_identification' : 'smtp_identification';
    const fields: Record<string, string> = {};
    for (const tok of cp[2]!.split(' ')) {
      const eq = tok.indexOf('=');
      if (eq > 0 && fields[tok.slice(0, eq)] === undefined) fields[tok.slice(0, eq)] = tok.slice(eq + 1);
    }
    return { kind: 'cpanel', time, id, what, fields };
  }
  return { kind: 'other', time, id, text: rest };
}

/**
 * `dovecot_plain authenticator failed for (helo) [ip]:port: 535 Incorrect authentication data
 * (set_id=name)`: the text of an `other` line after its timestamp. `setId` is the login the
 * client tried (client-chosen, may hold anything), null when Exim logged none.
 */
export function parseAuthFailure(text: string): { authenticator: string; ip: string; setId: string | null } | null {
  // `for [name ][(helo) ][ip]:port`: the HELO is the client's choice and may itself be an
  // address literal (`([1.2.3.4])`), so the address is the bracket after it, never the first one.
  const m = /^(\S+) authenticator failed for (?:[^\s(][^\s]* )?(?:\(\S*\) )?\[([0-9A-Fa-f:.]+)\]/.exec(text);
  if (m === null) return null;
  const at = text.lastIndexOf(' (set_id=');
  const setId = at >= 0 && text.endsWith(')') ? text.slice(at + 9, -1) : null;
  return { authenticator: m[1]!, ip: m[2]!, setId: setId === '' ? null : setId };
}

const ARGS_RE = / (\d+) args: /;

/** A `cwd=` line always has ` N args: `; without it the line is not one Exim wrote. */
function parseCwd(time: string, rest: string): CwdLine | null {
  const body = rest.slice(4);
  const m = ARGS_RE.exec(body);
  if (m === null) return null;
  const args = body.slice(m.index + m[0].length);
  return { kind: 'cwd', time, cwd: body.slice(0, m.index), argc: Number(m[1]), args, admin: isAdminInvocation(args) };
}

/**
 * Exim runs that are not a message submission: queue listings (`-bp*`, exiqgrep's `-bpu`),
 * config queries (`-bP`), removals and views (`-M*`), queue runners (`-q*`), `-R`, address
 * tests... Submissions (`-t`, `-i`, `-f`, `-bm`, `-bs`, `-bS`, `-bnq`) are kept.
 */
export function isAdminInvocation(args: string): boolean {
  const tokens = args.split(' ');
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.length < 2 || t.charCodeAt(0) !== 0x2d) continue;
    const c = t.charAt(1);
    if (c === 'M' || c === 'q' || c === 'R') return true;
    if (c === 'b') {
      const d = t.charAt(2);
      if (d !== 'm' && d !== 's' && d !== 'S' && d !== 'n') return true;
    }
  }
  return false;
}

/** End index (exclusive, pointing at the closing quote) of a `T="...` value starting at `start`. */
export function subjectEnd(text: string, start: number): number {
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) return i;
  }
  return -1;
}

/** `\"` → `"` and `\\` → `\`; other escapes are left as Exim wrote them. */
export function unescapeSubject(raw: string): string {
  if (!raw.includes('\\')) return raw;
  return raw.replace(/\\(["\\])/g, '$1');
}

/**
 * End (exclusive) of an address starting at `start`: the first space outside double quotes
 * (a backslash inside quotes escapes the next character), or with `colon` the first `:`
 * outside quotes if that comes first. An address whose quote is still open at the end of the
 * text ends where it would without quotes.
 */
export function addressEnd(text: string, start: number, colon = false): number {
  let plain = text.indexOf(' ', start);
  if (plain < 0) plain = text.length;
  if (colon) {
    const c = text.indexOf(':', start);
    if (c >= 0 && c < plain) plain = c;
  }
  const q = text.indexOf('"', start);
  if (q < 0 || q >= plain) return plain;
  let quoted = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quoted) {
      if (c === 0x5c) i++;
      else if (c === 0x22) quoted = false;
    } else if (c === 0x22) quoted = true;
    else if (c === 0x20 || (colon && c === 0x3a)) return i;
  }
  return quoted ? plain : text.length;
}

/** Whether `Name=` (letters then `=`) starts at `pos`. */
function isFieldAt(text: string, pos: number): boolean {
  let i = pos;
  while (i < text.length && /[A-Za-z]/.test(text.charAt(i))) i++;
  return i > pos && text.charAt(i) === '=';
}

/** Whether the bare token `for` (recipients follow) starts at `pos`. */
function isForAt(text: string, pos: number): boolean {
  return text.startsWith('for', pos) && (pos + 3 === text.length || text.charCodeAt(pos + 3) === 0x20);
}

/** End of a `U=` value starting at `start` (see the field rules at the top). */
export function userEnd(text: string, start: number): number {
  const first = text.indexOf(' ', start);
  if (first < 0) return text.length;
  for (let sp = first; sp >= 0; sp = text.indexOf(' ', sp + 1)) {
    if (isFieldAt(text, sp + 1) || isForAt(text, sp + 1)) return sp;
  }
  return first;
}

/** `A=...` starting at `start` (right after `A=`): the parts and where the field ends. */
export function parseAuthField(text: string, start: number): { auth: ArrivalAuth | null; end: number } {
  let nameEnd = start;
  while (nameEnd < text.length && text.charCodeAt(nameEnd) !== 0x3a && text.charCodeAt(nameEnd) !== 0x20) nameEnd++;
  let end = nameEnd;
  let id: string | null = null;
  let authenticatedSender: string | null = null;
  if (text.charCodeAt(nameEnd) === 0x3a) {
    end = addressEnd(text, nameEnd + 1, true);
    if (end > nameEnd + 1) id = text.slice(nameEnd + 1, end);
    if (text.charCodeAt(end) === 0x3a) {
      const s = end + 1;
      end = addressEnd(text, s);
      if (end > s) authenticatedSender = text.slice(s, end);
    }
  }
  const auth = nameEnd > start ? { authenticator: text.slice(start, nameEnd), id, authenticatedSender } : null;
  return { auth, end };
}

function parseArrival(time: string, id: string, body: string): ArrivalLine {
  const sp = addressEnd(body, 0);
  const senderToken = body.slice(0, sp);
  const sender = senderToken === '<>' ? '' : senderToken;
  const line: ArrivalLine = {
    kind: 'arrival', time, id, sender, bounce: senderToken === '<>', host: null, interfaceIp: null,
    user: null, protocol: null, auth: null, size: null, subject: null, recipients: [],
  };
  let pos = sp + 1;
  while (pos < body.length) {
    if (body.startsWith('T="', pos)) {
      const end = subjectEnd(body, pos + 3);
      if (end < 0) {
        line.subject ??= unescapeSubject(body.slice(pos + 3));
        break;
      }
      line.subject ??= unescapeSubject(body.slice(pos + 3, end));
      if (body.startsWith(' for ', end + 1)) line.recipients = body.slice(end + 6).split(' ').filter((r) => r !== '');
      break;
    }
    let next = body.indexOf(' ', pos);
    if (next < 0) next = body.length;
    const tok = body.slice(pos, next);
    if (tok === 'for') {
      line.recipients = body.slice(next + 1).split(' ').filter((r) => r !== '');
      break;
    }
    if (tok.startsWith('H=') && line.host === null) {
      line.host = parseHostGroup(body, pos + 2);
    } else if (tok.startsWith('I=') && line.interfaceIp === null) {
      line.interfaceIp = bracketed(tok.slice(2))?.ip ?? null;
    } else if (tok.startsWith('U=')) {
      next = userEnd(body, pos);
      line.user ??= body.slice(pos + 2, next);
    } else if (tok.startsWith('P=')) line.protocol ??= tok.slice(2);
    else if (tok.startsWith('S=') && line.size === null) {
      const n = Number(tok.slice(2));
      line.size = Number.isFinite(n) && tok.length > 2 ? n : null;
    } else if (tok.startsWith('A=')) {
      const field = parseAuthField(body, pos + 2);
      next = field.end;
      line.auth ??= field.auth;
    } else if (tok.startsWith('id=') || tok.startsWith('id*=')) {
      next = addressEnd(body, pos);
    }
    pos = next + 1;
  }
  return line;
}

function bracketed(tok: string): { ip: string; port: number | null } | null {
  if (!tok.startsWith('[')) return null;
  const close = tok.indexOf(']');
  if (close < 0) return null;
  const port = tok.charAt(close + 1) === ':' ? Number(tok.slice(close + 2)) : null;
  return { ip: tok.slice(1, close), port: port !== null && Number.isInteger(port) ? port : null };
}

/** `H=name (helo) [ip]:port` and its shorter forms, starting right after `H=`. */
function parseHostGroup(body: string, start: number): LogHost {
  const host: LogHost = { name: null, helo: null, ip: null, port: null };
  let pos = start;
  for (let k = 0; k < 3 && pos <= body.length; k++) {
    let next = body.indexOf(' ', pos);
    if (next < 0) next = body.length;
    const tok = body.slice(pos, next);
    if (tok.startsWith('[')) {
      const b = bracketed(tok);
      if (b !== null) {
        host.ip = b.ip;
        host.port = b.port;
      }
      break;
    }
    if (k > 0 && /^[A-Za-z]+=/.test(tok)) break;
    if (tok.startsWith('(')) host.helo ??= tok.replace(/^\(|\)$/g, '');
    else if (k === 0) host.name = tok;
    pos = next + 1;
  }
  return host;
}
