import type { ActionContext } from '../types.js';
import { parseIp, type ParsedIp } from './ip.js';

/** Addresses from `hostname -I` (space separated). Pure. */
export function parseHostnameI(text: string): ParsedIp[] {
  return text
    .split(/\s+/)
    .map((t) => parseIp(t.replace(/%.*$/, '')))
    .filter((ip): ip is ParsedIp => ip !== undefined);
}

/** Addresses from `ip -o addr show` (`2: eth0    inet 192.0.2.10/24 brd …`). Pure. */
export function parseIpOAddr(text: string): ParsedIp[] {
  const out: ParsedIp[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /\sinet6?\s+([0-9A-Fa-f:.]+)(?:\/\d+)?/.exec(line);
    const ip = m === null ? undefined : parseIp(m[1] ?? '');
    if (ip !== undefined) out.push(ip);
  }
  return out;
}

/** The host's own addresses: never block them. Asks `ip -o addr` first, `hostname -I` after. */
export async function ownAddresses(ctx: ActionContext): Promise<ParsedIp[]> {
  const viaIp = await ctx.exec({ argv: [ctx.host.tools.ip ?? 'ip', '-o', 'addr', 'show'], okExitCodes: [0, 1, 2, 127], timeoutMs: 15_000 }).catch(() => undefined);
  if (viaIp !== undefined && viaIp.exitCode === 0) {
    const found = parseIpOAddr(viaIp.stdout);
    if (found.length > 0) return found;
  }
  const viaHostname = await ctx.exec({ argv: ['hostname', '-I'], okExitCodes: [0, 1], timeoutMs: 15_000 }).catch(() => undefined);
  if (viaHostname !== undefined && viaHostname.exitCode === 0) return parseHostnameI(viaHostname.stdout);
  return [];
}
