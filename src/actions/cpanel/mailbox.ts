import { parseUserdomains } from '../../parsers/cpanel-userdomains.js';
import { readHostFile } from '../files/host-read.js';
import { ActionError, type ActionContext } from '../types.js';

export interface Mailbox {
  /** Lower-cased full address. */
  email: string;
  local: string;
  domain: string;
}

// Conservative: what cPanel lets an operator create. Anything else is refused, not escaped.
const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$/;
const DOMAIN = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$/;
const CPANEL_USER = /^[a-z0-9][a-z0-9_.-]{0,31}$/i;

export function parseMailbox(text: string): Mailbox {
  const at = text.lastIndexOf('@');
  const local = text.slice(0, at);
  const domain = text.slice(at + 1).toLowerCase();
  if (at <= 0 || !LOCAL.test(local) || local.startsWith('.') || local.endsWith('.') || !DOMAIN.test(domain)) {
    throw new ActionError(`"${text}" is not a mailbox address runbook will act on (expected local@domain.tld).`);
  }
  return { email: `${local.toLowerCase()}@${domain}`, local: local.toLowerCase(), domain };
}

/** The cPanel account that owns a domain, from /etc/userdomains (read on the host). */
export async function cpanelUserFor(ctx: ActionContext, domain: string): Promise<string> {
  const path = ctx.host.layout.userdomainsFile;
  const text = await readHostFile(ctx, path);
  if (text === null) throw new ActionError(`${path} does not exist on ${ctx.host.name}; is this a cPanel server? Set the layout's userdomainsFile for this host.`);
  const user = parseUserdomains(text).get(domain.toLowerCase());
  if (user === undefined || user === 'nobody') {
    throw new ActionError(`no cPanel account owns ${domain} on ${ctx.host.name} (not in ${path}). Check the address's domain.`);
  }
  if (!CPANEL_USER.test(user)) throw new ActionError(`${path} names an unusable account "${user}" for ${domain}; check the file.`);
  return user;
}

/** UAPI reads argv values URI-decoded: encode every value we put there. */
export function uapiArg(key: string, value: string): string {
  return `${key}=${encodeURIComponent(value)}`;
}
