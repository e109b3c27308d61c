/**
 * Address arithmetic for the verdict: membership in CIDR lists (proxies, allow-lists) and the
 * prefixes that group an attacker's addresses (an IPv6 /64, an IPv4 /24). Pure.
 */
import { BlockList, isIP } from 'node:net';

/** `a.b.c.d` or an IPv6 address (an IPv4-mapped one as IPv4), or null. */
export function normalIp(text: string): string | null {
  const t = text.trim();
  const kind = isIP(t);
  if (kind === 4) return t;
  if (kind !== 6) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(t);
  if (mapped !== null && isIP(mapped[1]!) === 4) return mapped[1]!;
  return t.toLowerCase();
}

/** An address or `address/prefix` as a list can hold it, or null when malformed. */
export function parseCidr(text: string): { base: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const [addr, bits, extra] = text.trim().split('/');
  if (extra !== undefined || addr === undefined) return null;
  const base = normalIp(addr);
  if (base === null) return null;
  const family = isIP(base) === 4 ? 'ipv4' : 'ipv6';
  const max = family === 'ipv4' ? 32 : 128;
  if (bits === undefined) return { base, prefix: max, family };
  if (!/^\d{1,3}$/.test(bits)) return null;
  const prefix = Number(bits);
  return prefix <= max ? { base, prefix, family } : null;
}

/** A set of addresses and ranges; `has` answers for single addresses. */
export class AddressSet {
  readonly #list = new BlockList();
  readonly entries: string[] = [];

  /** Adds each well-formed entry; returns the ones that were not (to report, never ignore). */
  add(items: Iterable<string>): string[] {
    const bad: string[] = [];
    for (const item of items) {
      const c = parseCidr(item);
      if (c === null) {
        bad.push(item);
        continue;
      }
      this.#list.addSubnet(c.base, c.prefix, c.family);
      this.entries.push(item.trim());
    }
    return bad;
  }

  has(ip: string): boolean {
    const n = normalIp(ip);
    if (n === null) return false;
    return this.#list.check(n, isIP(n) === 4 ? 'ipv4' : 'ipv6');
  }

  /** The first entry covering `ip` (for the reason text). */
  entryFor(ip: string): string | null {
    if (!this.has(ip)) return null;
    for (const e of this.entries) {
      const one = new AddressSet();
      one.add([e]);
      if (one.has(ip)) return e;
    }
    return null;
  }
}

function ipv6Groups(ip: string): number[] | null {
  if (isIP(ip) !== 6) return null;
  let text = ip.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0');
  const groups = [...h, ...fill, ...t].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

/**
 * The network an address belongs to for grouping: the /64 of an IPv6 address (one host or
 * customer line; attackers rotate inside it), the /24 of an IPv4 address.
 */
export function groupPrefix(ip: string): string | null {
  const n = normalIp(ip);
  if (n === null) return null;
  if (isIP(n) === 4) return `${n.split('.').slice(0, 3).join('.')}.0/24`;
  const g = ipv6Groups(n);
  if (g === null) return null;
  return `${g.slice(0, 4).map((x) => x.toString(16)).join(':')}::/64`;
}

/** Attacker addresses sharing one prefix collapse to it from this many addresses. */
export const GROUP_MIN = { ipv4: 4, ipv6: 2 } as const;

/**
 * Replaces addresses by their prefix where `GROUP_MIN` of them share it and no address in
 * `legit` (owners, the server, other users' clients) falls inside it. Order: by first member.
 */
export function collapseToPrefixes(attackers: string[], legit: Iterable<string>): { blocks: string[]; members: Map<string, string[]> } {
  const byPrefix = new Map<string, string[]>();
  for (const ip of attackers) {
    const p = groupPrefix(ip);
    if (p === null) continue;
    byPrefix.set(p, [...(byPrefix.get(p) ?? []), ip]);
  }
  const legitPrefixes = new Set<string>();
  for (const ip of legit) {
    const p = groupPrefix(ip);
    if (p !== null) legitPrefixes.add(p);
  }
  const blocks: string[] = [];
  const members = new Map<string, string[]>();
  const done = new Set<string>();
  for (const ip of attackers) {
    const p = groupPrefix(ip);
    if (p === null) {
      blocks.push(ip);
      continue;
    }
    const group = byPrefix.get(p)!;
    const min = isIP(normalIp(ip) ?? '') === 4 ? GROUP_MIN.ipv4 : GROUP_MIN.ipv6;
    if (group.length >= min && !legitPrefixes.has(p)) {
      if (!done.has(p)) {
        done.add(p);
        blocks.push(p);
        members.set(p, group);
      }
    } else {
      blocks.push(ip);
    }
  }
  return { blocks, members };
}
