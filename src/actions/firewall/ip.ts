import { BlockList, isIP } from 'node:net';

/** IPv4/IPv6 helpers for firewall actions: validation, CIDR membership, special ranges. */

export type IpFamily = 'ipv4' | 'ipv6';

export interface ParsedIp {
  address: string;
  family: IpFamily;
}

/** A single address (no CIDR), normalised: IPv4 dotted quad, IPv6 lower case. */
export function parseIp(text: string): ParsedIp | undefined {
  const trimmed = text.trim();
  const version = isIP(trimmed);
  if (version === 4) {
    // node accepts only canonical dotted quads; leading zeros are refused (octal ambiguity).
    return { address: trimmed, family: 'ipv4' };
  }
  if (version === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed);
    if (mapped !== null && isIP(mapped[1] ?? '') === 4) return { address: mapped[1] ?? '', family: 'ipv4' };
    return { address: trimmed.toLowerCase(), family: 'ipv6' };
  }
  return undefined;
}

/** Does `entry` (an IP or CIDR, as written in csf.allow) cover `ip`? */
export function coversIp(entry: string, ip: ParsedIp): boolean {
  const [base, bits] = entry.split('/');
  const parsed = parseIp(base ?? '');
  if (parsed === undefined || parsed.family !== ip.family) return false;
  if (bits === undefined) return sameAddress(parsed, ip);
  const prefix = Number(bits);
  const max = ip.family === 'ipv4' ? 32 : 128;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return false;
  const list = new BlockList();
  list.addSubnet(parsed.address, prefix, ip.family);
  return list.check(ip.address, ip.family);
}

export function sameAddress(a: ParsedIp, b: ParsedIp): boolean {
  if (a.family !== b.family) return false;
  const list = new BlockList();
  list.addAddress(a.address, a.family);
  return list.check(b.address, b.family);
}

/** Ranges that are never an attacker's public address (RFC 6890 and friends). */
const SPECIAL: Array<[string, number, IpFamily, string]> = [
  ['0.0.0.0', 8, 'ipv4', 'this network'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'shared address space (CGNAT)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'ipv4', 'documentation (TEST-NET-1)'],
  ['192.88.99.0', 24, 'ipv4', '6to4 relay anycast'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['198.51.100.0', 24, 'ipv4', 'documentation (TEST-NET-2)'],
  ['203.0.113.0', 24, 'ipv4', 'documentation (TEST-NET-3)'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['64:ff9b:1::', 48, 'ipv6', 'local NAT64'],
  ['100::', 64, 'ipv6', 'discard-only'],
  ['2001::', 23, 'ipv6', 'IETF protocol assignments'],
  ['2001:db8::', 32, 'ipv6', 'documentation'],
  ['fc00::', 7, 'ipv6', 'unique local (private)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fec0::', 10, 'ipv6', 'site-local (deprecated)'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

/** Why `ip` is not a public address, or undefined when it is one. */
export function specialRange(ip: ParsedIp): string | undefined {
  for (const [base, prefix, family, label] of SPECIAL) {
    if (family !== ip.family) continue;
    const list = new BlockList();
    list.addSubnet(base, prefix, family);
    if (list.check(ip.address, ip.family)) return `${label} range ${base}/${prefix}`;
  }
  return undefined;
}
