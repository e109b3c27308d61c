/**
 * Address checks for values taken from logs and headers. `isPublicIp` decides what may be
 * offered for blocking: never private, loopback, link-local, CGNAT, multicast or reserved
 * space. The documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32)
 * count as public here on purpose: examples and test hosts use them as outside clients.
 */
import { isIP } from 'node:net';

function v4(ip: string): number[] | null {
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^(?:0|[1-9]\d{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out.push(n);
  }
  return out;
}

export function isWellFormedIp(text: string): boolean {
  return isIP(text) !== 0 && (isIP(text) === 6 || v4(text) !== null);
}

export function isPublicIp(text: string): boolean {
  const kind = isIP(text);
  if (kind === 4) {
    const o = v4(text);
    if (o === null) return false;
    const [a, b] = o as [number, number, number, number];
    if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
    if (a === 169 && b === 254) return false;
    if (a === 172 && b >= 16 && b <= 31) return false;
    if (a === 192 && b === 168) return false;
    if (a === 100 && b >= 64 && b <= 127) return false;
    return true;
  }
  if (kind === 6) {
    const t = text.toLowerCase();
    if (t === '::' || t === '::1') return false;
    if (/^fe[89ab]/.test(t) || /^f[cd]/.test(t) || /^ff/.test(t)) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(t);
    if (mapped !== null) return isPublicIp(mapped[1]!);
    return true;
  }
  return false;
}
