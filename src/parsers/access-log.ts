/**
 * Apache "combined" log lines (cPanel domlogs):
 * `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"`. Request lines and user agents are
 * written by clients, so they are data; a malformed line yields null, never an exception.
 */

export interface AccessLogEntry {
  ip: string;
  /** The `[12/Oct/2012:11:25:58 +0100]` field converted to ISO 8601 UTC, or null if odd. */
  time: string | null;
  method: string;
  path: string;
  protocol: string;
  status: number | null;
  userAgent: string;
}

const LINE_RE = /^(\S+) \S+ \S+ \[([^\]]*)\] "((?:[^"\\]|\\.)*)" (\d{3}|-) (\S+)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function parseAccessLogLine(line: string): AccessLogEntry | null {
  const m = LINE_RE.exec(line);
  if (m === null) return null;
  const request = m[3]!.split(' ');
  return {
    ip: m[1]!,
    time: parseApacheTime(m[2]!),
    method: request.length >= 2 ? request[0]! : '',
    path: request.length >= 2 ? request[1]! : request[0]!,
    protocol: request.length >= 3 ? request[2]! : '',
    status: m[4] === '-' ? null : Number(m[4]),
    userAgent: m[7] ?? '',
  };
}

/** `12/Oct/2012:11:25:58 +0100` → `2012-10-12T10:25:58.000Z`. */
export function parseApacheTime(text: string): string | null {
  const m = /^(\d\d)\/([A-Z][a-z]{2})\/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$/.exec(text);
  if (m === null) return null;
  const month = MONTHS.indexOf(m[2]!);
  if (month < 0) return null;
  const offset = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
  const ms = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6])) - offset * 60_000;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

const DOMAIN_RE = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$/;

/** A virtual host name, as cPanel names a domain's access logs after it. */
export function isDomainName(text: string): boolean {
  return DOMAIN_RE.test(text);
}

/**
 * A path a logged request line can hold: absolute, without whitespace, a quote or NUL (Apache
 * escapes a quote, and a space ends the path). Any other path was never requested as such.
 */
export function isRequestPath(text: string): boolean {
  return text.startsWith('/') && !/[\s"\0]/.test(text);
}

/** The path without its query string, for matching against an X-PHP-Script path. */
export function pathWithoutQuery(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}
