/**
 * The DNS blocklists worth checking a mail server's own addresses against, as reviewed on
 * LISTS_REVIEWED. Lists that are gone (SORBS, emptied by Proofpoint on 2024-06-05) are left out:
 * a dead zone answers "clean" for everything, which is worse than not asking.
 */

export const LISTS_REVIEWED = '2026-12-07';

/** One part of a list told apart by its answer (Spamhaus ZEN: SBL, CSS, XBL, PBL, DROP). */
export interface ListedPart {
  part: string;
  /** Policy lists (PBL) say "do not send direct-to-MX", not "this address spammed". */
  policy?: boolean;
}

export interface Blocklist {
  /** Short stable id for --list and JSON. */
  id: string;
  name: string;
  zone: string;
  ipv6: boolean;
  /** Where to look an address up and ask for removal. */
  removalUrl(ip: string): string;
  /** When and how removal is possible, for the operator once the spam has stopped. */
  delisting: string;
  /** The parts an answer names; undefined: a plain "listed". */
  parts?(answer: string): ListedPart | undefined;
  /** Spamhaus Data Query Service zone (the key goes before it). */
  dqsZone?: string;
}

function spamhausPart(answer: string): ListedPart | undefined {
  if (answer === '127.0.0.2') return { part: 'SBL' };
  if (answer === '127.0.0.3') return { part: 'CSS' };
  if (/^127\.0\.0\.[4-7]$/.test(answer)) return { part: 'XBL' };
  if (answer === '127.0.0.9') return { part: 'DROP' };
  if (answer === '127.0.0.10' || answer === '127.0.0.11') return { part: 'PBL', policy: true };
  return undefined;
}

export const BLOCKLISTS: readonly Blocklist[] = [
  {
    id: 'spamhaus-zen',
    name: 'Spamhaus ZEN',
    zone: 'zen.spamhaus.org',
    dqsZone: 'zen.dq.spamhaus.net',
    ipv6: true,
    removalUrl: (ip) => `https://check.spamhaus.org/query/ip/${ip}`,
    delisting:
      'SBL/CSS: ask through the lookup page once the spam has stopped; XBL: clean the host first, then remove there; PBL is policy (send through your provider\'s relay or ask removal for a static mail server)',
    parts: spamhausPart,
  },
  {
    id: 'spamcop',
    name: 'SpamCop',
    zone: 'bl.spamcop.net',
    ipv6: false,
    removalUrl: (ip) => `https://www.spamcop.net/bl.shtml?${ip}`,
    delisting: 'expires by itself once reports stop; the lookup page says when',
  },
  {
    id: 'barracuda',
    name: 'Barracuda BRBL',
    zone: 'b.barracudacentral.org',
    ipv6: false,
    removalUrl: () => 'https://www.barracudacentral.org/rbl',
    delisting: 'request removal with the form once the spam has stopped (queries need a registered resolver)',
  },
  {
    id: 'uceprotect-1',
    name: 'UCEPROTECT level 1',
    zone: 'dnsbl-1.uceprotect.net',
    ipv6: false,
    removalUrl: () => 'http://www.uceprotect.net/',
    delisting: 'expires automatically (about 7 days) after the spam stops; paid express removal is not needed',
  },
  {
    id: 'uceprotect-2',
    name: 'UCEPROTECT level 2',
    zone: 'dnsbl-2.uceprotect.net',
    ipv6: false,
    removalUrl: () => 'http://www.uceprotect.net/',
    delisting: 'your provider\'s allocation, escalated from level 1: the address owner cannot remove it; ask the provider',
  },
  {
    id: 'uceprotect-3',
    name: 'UCEPROTECT level 3',
    zone: 'dnsbl-3.uceprotect.net',
    ipv6: false,
    removalUrl: () => 'http://www.uceprotect.net/',
    delisting: 'the whole network (ASN): only the provider can act',
  },
  {
    id: 'psbl',
    name: 'PSBL',
    zone: 'psbl.surriel.com',
    ipv6: false,
    removalUrl: () => 'https://psbl.org/',
    delisting: 'anyone may remove an address on the page once the spam has stopped',
  },
  {
    id: 'mailspike',
    name: 'Mailspike',
    zone: 'bl.mailspike.net',
    ipv6: false,
    removalUrl: () => 'https://mailspike.org/',
    delisting: 'reputation-based: it clears as clean mail follows; the site has a lookup',
  },
  {
    id: 's5h',
    name: 's5h',
    zone: 'all.s5h.net',
    ipv6: true,
    removalUrl: () => 'https://www.usenix.org.uk/content/rblremove',
    delisting: 'self-service removal, requested from the cleaned host itself',
  },
];

/** The lists named by id, or all of them; an unknown id is an error naming the known ones. */
export function selectBlocklists(ids: readonly string[] | undefined): Blocklist[] {
  if (ids === undefined || ids.length === 0) return [...BLOCKLISTS];
  return ids.map((id) => {
    const found = BLOCKLISTS.find((l) => l.id === id);
    if (found === undefined) throw new Error(`unknown blocklist '${id}'; known: ${BLOCKLISTS.map((l) => l.id).join(', ')}`);
    return found;
  });
}
