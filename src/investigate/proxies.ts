/**
 * Proxy and CDN ranges: a site behind Cloudflare shows Cloudflare's edges as its web clients
 * (domlog `%h`, X-PHP-Script's REMOTE_ADDR). Those are never an attacker's address; the client
 * is found right to left past trusted proxies. The shipped list is dated; an operator replaces
 * it with a file of their own (one address or CIDR a line, `#` comments).
 */
import { readFile } from 'node:fs/promises';
import { AddressSet, normalIp } from './addresses.js';

/** Cloudflare's published edge ranges (cloudflare.com/ips-v4 and /ips-v6) as of this date. */
export const CLOUDFLARE_RANGES_DATE = '2026-02-11';
export const CLOUDFLARE_RANGES: readonly string[] = [
  '173.245.48.0/20', '103.21.244.0/22', '103.22.200.0/22', '103.31.4.0/22', '141.101.64.0/18',
  '108.162.192.0/18', '190.93.240.0/20', '188.114.96.0/20', '197.234.240.0/22', '198.41.128.0/17',
  '162.158.0.0/15', '104.16.0.0/13', '104.24.0.0/14', '172.64.0.0/13', '131.0.72.0/22',
  '2400:cb00::/32', '2606:4700::/32', '2803:f800::/32', '2405:b500::/32', '2405:8100::/32',
  '2a06:98c0::/29', '2c0f:f248::/32',
];

export interface ProxyRanges {
  /** CDN edges (the shipped Cloudflare list, or the operator's file). */
  cdn: AddressSet;
  /** Where `cdn` came from, for reasons: `Cloudflare (list of 2026-02-11)` or the file. */
  cdnLabel: string;
  /** The operator's own trusted proxies (load balancers, a reverse proxy). */
  trusted: AddressSet;
}

/** Lines of a ranges file: one entry a line, `#` starts a comment. Pure. */
export function parseRangesText(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l !== '');
}

/**
 * The proxies to look past. Malformed entries are errors (a typo must not silently make an
 * edge blockable).
 */
export async function loadProxyRanges(options: { rangesFile?: string; trusted?: string[] } = {}): Promise<ProxyRanges> {
  let cdnEntries: readonly string[] = CLOUDFLARE_RANGES;
  let cdnLabel = `Cloudflare (published ranges of ${CLOUDFLARE_RANGES_DATE})`;
  if (options.rangesFile !== undefined) {
    cdnEntries = parseRangesText(await readFile(options.rangesFile, 'utf8'));
    cdnLabel = `proxy ranges file ${options.rangesFile}`;
  }
  return proxyRanges(cdnEntries, cdnLabel, options.trusted ?? []);
}

export function proxyRanges(cdnEntries: readonly string[] = CLOUDFLARE_RANGES, cdnLabel = `Cloudflare (published ranges of ${CLOUDFLARE_RANGES_DATE})`, trusted: readonly string[] = []): ProxyRanges {
  const cdn = new AddressSet();
  const badCdn = cdn.add(cdnEntries);
  if (badCdn.length > 0) throw new Error(`not an address or CIDR in the proxy ranges (${cdnLabel}): ${badCdn.slice(0, 5).join(', ')}`);
  const t = new AddressSet();
  const badTrusted = t.add(trusted);
  if (badTrusted.length > 0) throw new Error(`not an address or CIDR in trusted_proxies: ${badTrusted.slice(0, 5).join(', ')}`);
  return { cdn, cdnLabel, trusted: t };
}

/** Why `ip` is a proxy, or null. */
export function proxyReason(ranges: ProxyRanges, ip: string): string | null {
  const t = ranges.trusted.entryFor(ip);
  if (t !== null) return `trusted proxy (${t})`;
  const c = ranges.cdn.entryFor(ip);
  if (c !== null) return `${ranges.cdnLabel}: ${c}`;
  return null;
}

/**
 * The client of a request from its address chain (X-Forwarded-For entries, then the peer):
 * walk from the right, past trusted proxies; the first other address is the client. Never the
 * left-most by default (client-controlled). Null when every hop is a proxy.
 */
export function clientOfChain(chain: string[], ranges: ProxyRanges): string | null {
  for (let i = chain.length - 1; i >= 0; i--) {
    const ip = normalIp(chain[i]!);
    if (ip === null) return null;
    if (proxyReason(ranges, ip) === null) return ip;
  }
  return null;
}
