/** The addresses a host sends mail from, asked of the host itself. */
import { ownAddresses } from '../firewall/own-addresses.js';
import { specialRange, type ParsedIp } from '../firewall/ip.js';
import { readHostFile } from '../files/host-read.js';
import type { ActionContext } from '../types.js';
import { parseMailIps, parseMainIp } from './host-addresses.js';

export interface SendingAddress {
  ip: string;
  /** Where it was found: `interface`, `cPanel main IP`, `/etc/mailips (*)` ... */
  sources: string[];
}

/**
 * Interface addresses (`ip -o addr`), cPanel's main IP and /etc/mailips, merged. Addresses no
 * blocklist can hold (loopback, private, link-local) are left out; documentation ranges only
 * stay on hosts that allow them (the demo host).
 */
export async function sendingAddresses(ctx: ActionContext): Promise<SendingAddress[]> {
  const found = new Map<string, SendingAddress>();
  const allowDocumentation = ctx.host.vars.allow_documentation_ips === true;
  const add = (ip: ParsedIp, source: string): void => {
    const special = specialRange(ip);
    if (special !== undefined && !(allowDocumentation && special.startsWith('documentation'))) return;
    const entry = found.get(ip.address) ?? { ip: ip.address, sources: [] };
    if (!entry.sources.includes(source)) entry.sources.push(source);
    found.set(ip.address, entry);
  };
  for (const ip of await ownAddresses(ctx)) add(ip, 'interface');
  const mainIpFile = ctx.host.layout.mainIpFile ?? '/var/cpanel/mainip';
  const main = await readHostFile(ctx, mainIpFile);
  const mainIp = main === null ? undefined : parseMainIp(main);
  if (mainIp !== undefined) add(mainIp, 'cPanel main IP');
  const mailIpsFile = ctx.host.layout.mailIpsFile ?? '/etc/mailips';
  const mailips = await readHostFile(ctx, mailIpsFile);
  for (const entry of mailips === null ? [] : parseMailIps(mailips)) add(entry.ip, `/etc/mailips (${entry.domain})`);
  return [...found.values()];
}
