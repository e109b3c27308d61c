/** The sending addresses cPanel records: /var/cpanel/mainip and /etc/mailips. Pure parsers. */
import { parseIp, type ParsedIp } from '../firewall/ip.js';

/** `/var/cpanel/mainip` holds the main IP, usually without a newline. */
export function parseMainIp(text: string): ParsedIp | undefined {
  return parseIp(text.trim());
}

/**
 * `/etc/mailips`: `domain: IP` lines (`*: IP` the default) choosing the outgoing address per
 * sending domain. Comments and lines without an address are skipped.
 */
export function parseMailIps(text: string): Array<{ domain: string; ip: ParsedIp }> {
  const out: Array<{ domain: string; ip: ParsedIp }> = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const ip = parseIp(line.slice(colon + 1).trim());
    if (ip !== undefined) out.push({ domain: line.slice(0, colon).trim(), ip });
  }
  return out;
}
