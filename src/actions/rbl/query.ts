/** DNSBL query names and the meaning of answers (RFC 5782). Pure. */
import { isIP } from 'node:net';

/** `192.0.2.10` → `10.2.0.192`; IPv6 → 32 reversed nibbles, dot separated. */
export function reversedAddress(ip: string): string {
  const version = isIP(ip);
  if (version === 4) return ip.split('.').reverse().join('.');
  if (version !== 6) throw new Error(`not an IP address: ${JSON.stringify(ip)}`);
  return expandIpv6(ip).split('').reverse().join('.');
}

/** 32 hex digits, no colons. Handles `::`, and an embedded dotted quad (`::ffff:1.2.3.4`). */
export function expandIpv6(ip: string): string {
  let text = ip.toLowerCase();
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = (quad[1] ?? '').split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, quad.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head === '' || head === undefined ? [] : head.split(':');
  const right = tail === undefined ? [] : tail === '' ? [] : tail.split(':');
  const missing = 8 - left.length - right.length;
  const groups = tail === undefined ? left : [...left, ...Array<string>(missing).fill('0'), ...right];
  return groups.map((g) => g.padStart(4, '0')).join('');
}

export type AnswerMeaning =
  | { kind: 'listed'; answer: string }
  /** Not a listing: the list refuses to answer this resolver (public resolver, rate, bad name). */
  | { kind: 'refused'; answer: string; why: string };

/**
 * Spamhaus reserves 127.255.255.0/24 for errors (.252 bad zone name, .254 public/open resolver,
 * .255 too many queries); other lists have used it the same way. Anything outside 127/8 is not
 * a DNSBL answer at all (a resolver that rewrites NXDOMAIN to an ad server).
 */
export function answerMeaning(answer: string): AnswerMeaning {
  if (answer === '127.255.255.252') return { kind: 'refused', answer, why: 'the list says the zone name is wrong' };
  if (answer === '127.255.255.254') return { kind: 'refused', answer, why: 'the list refuses queries through public or open resolvers' };
  if (answer === '127.255.255.255') return { kind: 'refused', answer, why: 'the list says too many queries came from this resolver' };
  if (answer.startsWith('127.255.255.')) return { kind: 'refused', answer, why: 'the list answered with an error code' };
  if (!answer.startsWith('127.')) return { kind: 'refused', answer, why: 'the resolver answered with an address outside 127.0.0.0/8 (NXDOMAIN rewriting?)' };
  return { kind: 'listed', answer };
}
