/**
 * The allow-list of known bulk senders (newsletters, a CRM): one entry a line, `#` comments.
 * An entry with `@` is an envelope sender, one starting with `/` a directory (and everything
 * under it), an address or CIDR a client address, anything else a sender domain.
 */
import { readFile } from 'node:fs/promises';
import { parseCidr } from './addresses.js';
import type { AllowList } from './verdict.js';

export function emptyAllowList(): AllowList {
  return { senders: [], domains: [], directories: [], ips: [] };
}

/** Sorts entries into their kinds; a malformed one is an error with its line. Pure. */
export function parseAllowList(entries: string[], origin = 'allow-list'): AllowList {
  const out = emptyAllowList();
  entries.forEach((raw, i) => {
    const e = raw.replace(/#.*/, '').trim();
    if (e === '') return;
    if (e.includes('@')) out.senders.push(e.toLowerCase());
    else if (e.startsWith('/')) out.directories.push(e.replace(/\/+$/, '') || '/');
    else if (parseCidr(e) !== null) out.ips.push(e);
    else if (/^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(e) && e.includes('.')) out.domains.push(e.toLowerCase());
    else throw new Error(`${origin}:${i + 1}: "${e}" is not a sender (x@domain), a domain, a directory (/path) or an address/CIDR`);
  });
  return out;
}

/** Whether an envelope sender (or a mailbox used as an AUTH id) is allow-listed, by address or domain. */
export function allowedSender(sender: string, allow: AllowList | undefined): boolean {
  if (allow === undefined) return false;
  const s = sender.toLowerCase();
  const domain = s.slice(s.lastIndexOf('@') + 1);
  return allow.senders.some((x) => x.toLowerCase() === s) || allow.domains.some((d) => d.toLowerCase() === domain);
}

/** Whether a directory is an allow-listed one or under one. */
export function allowedDirectory(dir: string, allow: AllowList | undefined): boolean {
  return allow?.directories.some((d) => dir === d.replace(/\/+$/, '') || dir.startsWith(`${d.replace(/\/+$/, '')}/`)) ?? false;
}

export function mergeAllowLists(a: AllowList, b: AllowList): AllowList {
  return { senders: [...a.senders, ...b.senders], domains: [...a.domains, ...b.domains], directories: [...a.directories, ...b.directories], ips: [...a.ips, ...b.ips] };
}

export async function loadAllowList(file: string | undefined, entries: string[] = []): Promise<AllowList> {
  const fromEntries = parseAllowList(entries, 'allow');
  if (file === undefined) return fromEntries;
  return mergeAllowLists(parseAllowList((await readFile(file, 'utf8')).split('\n'), file), fromEntries);
}
