/**
 * The classes an address gets without any history: this server's own, loopback, private or
 * reserved, a proxy/CDN edge, allow-listed. What is left needs the mailbox's history (owner
 * or attacker). The verdict's classifier and the watcher's trigger evidence both start with
 * these checks, in this order. Pure.
 */
import { isPublicIp } from '../parsers/ip.js';
import type { AddressSet } from './addresses.js';
import { proxyReason, type ProxyRanges } from './proxies.js';

export type FixedAddressClass = 'server' | 'private' | 'proxy' | 'allowed';

export interface FixedAddressContext {
  /** This server's addresses (interfaces, `I=` in the main log), normalised. */
  server: ReadonlySet<string>;
  proxies: ProxyRanges;
  allow: Pick<AddressSet, 'has'>;
  /** Why an address of `server` is the server's (where it was learnt), when the caller knows. */
  serverReason?: (ip: string) => string;
}

/** The class `ip` (normalised) has whatever its history, with the reason; null when its history decides. */
export function fixedAddressClass(ip: string, ctx: FixedAddressContext): { cls: FixedAddressClass; reason: string } | null {
  if (ctx.server.has(ip)) return { cls: 'server', reason: ctx.serverReason?.(ip) ?? "this server's own address" };
  if (ip === '::1' || ip.startsWith('127.')) return { cls: 'server', reason: 'loopback: webmail or a site on this server logged in' };
  if (!isPublicIp(ip)) return { cls: 'private', reason: 'private or reserved address, not routable from outside' };
  const proxy = proxyReason(ctx.proxies, ip);
  if (proxy !== null) return { cls: 'proxy', reason: `proxy/CDN edge: ${proxy}` };
  if (ctx.allow.has(ip)) return { cls: 'allowed', reason: 'in the allow-list' };
  return null;
}

/**
 * One or two logins to read a mailbox, then its mail sent in bulk from the same address: the
 * attacker checking the stolen password over IMAP before a run, not the owner reading mail.
 * `bulk`: sent at least the burst's worth that counts as bulk where it is asked.
 */
export function checkedThenSent(reads: number, bulk: boolean): boolean {
  return reads <= 2 && bulk;
}
