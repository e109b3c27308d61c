/**
 * Exim spool header files (`input/[X/]ID-H`) and `exim -Mvh ID` output, which prints the same
 * file. Format: Exim spec, "Format of spool files". Everything here except the first lines'
 * shape is written by the sender or the network, so values are data, never trusted.
 */

export interface SpoolVar {
  value: string | null;
  /** Written with a double hyphen (`--auth_id`): Exim marks the value tainted. */
  tainted: boolean;
}

export interface SpoolHeaderLine {
  /** Header name as written (`X-PHP-Script`). */
  name: string;
  /** Exim's flag: `P` Received, `I` Message-ID, `F` From, `T` To, `*` deleted, ` ` other. */
  flag: string;
  /** The value with folded continuation lines joined by single spaces. */
  value: string;
}

export interface SpoolHeader {
  id: string;
  login: string;
  uid: number | null;
  gid: number | null;
  /** Envelope sender without brackets; empty for a bounce. */
  sender: string;
  bounce: boolean;
  receivedEpoch: number | null;
  vars: Record<string, SpoolVar>;
  authId: string | null;
  authSender: string | null;
  hostAuth: string | null;
  hostAddress: string | null;
  hostPort: number | null;
  ident: string | null;
  frozen: boolean;
  local: boolean;
  recipients: string[];
  headers: SpoolHeaderLine[];
}

export type SpoolHeaderResult = { ok: true; header: SpoolHeader } | { ok: false; error: string };

function fail(error: string): SpoolHeaderResult {
  return { ok: false, error };
}

/** Parse a -H file or `exim -Mvh` output. Never throws. */
export function parseSpoolHeader(text: string): SpoolHeaderResult {
  if (text.startsWith('Failed to open input file')) return fail(text.split('\n')[0]!.trim());
  const lines = text.split('\n');
  let i = 0;
  const first = lines[i++] ?? '';
  const idm = /^(\S+)-H$/.exec(first.trim());
  if (idm === null) return fail('missing the "ID-H" first line');
  const ids = (lines[i++] ?? '').trim().split(/\s+/);
  if (ids.length < 3) return fail('missing the "login uid gid" line');
  const senderLine = (lines[i++] ?? '').trim();
  const sm = /^<(.*)>$/.exec(senderLine);
  if (sm === null) return fail('missing the "<sender>" line');
  const timeLine = (lines[i++] ?? '').trim().split(/\s+/);
  const received = Number(timeLine[0]);

  const vars: Record<string, SpoolVar> = {};
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    const vm = /^(--?)([A-Za-z_][A-Za-z0-9_]*)(?: (.*))?$/.exec(line);
    if (vm === null) break;
    // The first occurrence wins: later duplicates cannot override what Exim wrote first.
    if (vars[vm[2]!] === undefined) vars[vm[2]!] = { value: vm[3] ?? null, tainted: vm[1] === '--' };
  }
  // Non-recipients tree: `XX` (empty) or node lines `YY|YN|NY|NN address`.
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === 'XX') continue;
    if (/^[YN][YN] /.test(line)) continue;
    break;
  }
  const recipients: string[] = [];
  const countLine = lines[i] ?? '';
  if (/^\d+$/.test(countLine.trim())) {
    const n = Number(countLine.trim());
    i++;
    for (let k = 0; k < n && i < lines.length; k++, i++) {
      const r = lines[i]!;
      if (r === '') break;
      // one_time redirect entries carry `addr errors_to len,parent#flags`; the address is first.
      recipients.push(r.split(' ')[0]!);
    }
  }
  while (i < lines.length && lines[i] !== '' && !/^\d{3,}. /.test(lines[i]!)) i++;
  const headers = parseHeaderSection(lines.slice(i));

  const v = (name: string): string | null => vars[name]?.value ?? null;
  const host = parseHostAddress(v('host_address'));
  return {
    ok: true,
    header: {
      id: idm[1]!,
      login: ids[0]!,
      uid: toInt(ids[1]),
      gid: toInt(ids[2]),
      sender: sm[1]!,
      bounce: sm[1] === '',
      receivedEpoch: Number.isFinite(received) ? received : null,
      vars,
      authId: v('auth_id'),
      authSender: v('auth_sender'),
      hostAuth: v('host_auth'),
      hostAddress: host?.ip ?? null,
      hostPort: host?.port ?? null,
      ident: v('ident'),
      frozen: vars['frozen'] !== undefined,
      local: vars['local'] !== undefined,
      recipients,
      headers,
    },
  };
}

function toInt(text: string | undefined): number | null {
  if (text === undefined || !/^\d+$/.test(text)) return null;
  return Number(text);
}

/** Header lines: 3+ digit length, flag char, space, text; continuation lines start with blanks. */
export function parseHeaderSection(lines: readonly string[]): SpoolHeaderLine[] {
  const out: { name: string; flag: string; parts: string[] }[] = [];
  for (const line of lines) {
    const m = /^\d{3,}(.) (.*)$/.exec(line);
    if (m !== null) {
      const body = m[2]!;
      const colon = body.indexOf(':');
      out.push({ name: colon > 0 ? body.slice(0, colon) : body, flag: m[1]!, parts: [colon > 0 ? body.slice(colon + 1) : ''] });
    } else if (/^[ \t]/.test(line) && out.length > 0) {
      out[out.length - 1]!.parts.push(line);
    }
  }
  return out.map((h) => ({ name: h.name, flag: h.flag, value: h.parts.map((p) => p.trim()).filter((p) => p !== '').join(' ') }));
}

/** `[ip]:port` (current Exim) or `ip.port` (older spool files). */
export function parseHostAddress(value: string | null): { ip: string; port: number | null } | null {
  if (value === null) return null;
  const b = /^\[([^\]]+)\](?::(\d+))?$/.exec(value.trim());
  if (b !== null) return { ip: b[1]!, port: b[2] !== undefined ? Number(b[2]) : null };
  const d = /^(.+)\.(\d+)$/.exec(value.trim());
  if (d !== null && (d[1]!.includes(':') || /^\d+\.\d+\.\d+\.\d+$/.test(d[1]!))) return { ip: d[1]!, port: Number(d[2]) };
  return { ip: value.trim(), port: null };
}

/** First header with this name (case-insensitive), skipping ones Exim marked deleted (`*`). */
export function findHeader(header: Pick<SpoolHeader, 'headers'>, name: string): string | null {
  const lower = name.toLowerCase();
  for (const h of header.headers) if (h.flag !== '*' && h.name.toLowerCase() === lower) return h.value;
  return null;
}

export interface PhpScript {
  /** Virtual host part (`SERVER_NAME`). */
  host: string;
  /** URL path of the script (`PHP_SELF`), starting with `/`. */
  path: string;
  /** All addresses after `for`, in order. Earlier ones come from X-Forwarded-For (spoofable). */
  addresses: string[];
  /** The LAST address: REMOTE_ADDR, the real peer (or the proxy in front of the site). */
  clientIp: string | null;
}

/** `X-PHP-Script: <host><path> for [xff, ]<remote_addr>`, possibly folded. */
export function parseXPhpScript(value: string): PhpScript | null {
  const v = value.replace(/\s+/g, ' ').trim();
  const m = /^([^\s/]+)(\/\S*)(?: for (.*))?$/.exec(v);
  if (m === null) return null;
  const addresses = (m[3] ?? '').split(',').map((a) => a.trim()).filter((a) => a !== '');
  return { host: m[1]!, path: m[2]!, addresses, clientIp: addresses.length > 0 ? addresses[addresses.length - 1]! : null };
}

/** `X-PHP-Originating-Script: <uid>:<basename>`. */
export function parseXPhpOriginatingScript(value: string): { uid: number; script: string } | null {
  const m = /^\s*(\d+):(\S.*?)\s*$/.exec(value);
  if (m === null) return null;
  return { uid: Number(m[1]), script: m[2]! };
}
