/** Check addresses against blocklists: one answer per (address, list), never a guess. */
import { isIP } from 'node:net';
import type { Secret } from '../../core/secret.js';
import { parseIp, specialRange } from '../firewall/ip.js';
import { safeLine } from '../../core/text.js';
import type { Blocklist } from './lists.js';
import { answerMeaning, reversedAddress } from './query.js';
import type { DnsblResolver } from './resolver.js';

/**
 * listed: the list names the address · clean: NXDOMAIN · unknown: no answer (timeout,
 * SERVFAIL, refused) · not-checked: the list answered with an error code (public resolver,
 * rate limit): asking again through your own resolver or with a DQS key is the fix ·
 * not-applicable: an IPv6 address on an IPv4-only list.
 */
export type ListingStatus = 'listed' | 'clean' | 'unknown' | 'not-checked' | 'not-applicable';

export interface ListingResult {
  ip: string;
  list: string;
  name: string;
  /** The zone as shown: the DQS zone without its key. */
  zone: string;
  status: ListingStatus;
  /** Parts named by the answers (SBL, XBL, PBL ...); the answers themselves otherwise. */
  parts: string[];
  answers: string[];
  /** Only policy parts (PBL): not a spam listing. */
  policyOnly: boolean;
  /** The list's TXT reason, made safe for a terminal. */
  reason: string | null;
  removal: string;
  delisting: string;
  /** Why the status is unknown / not-checked. */
  detail: string | null;
}

export interface CheckOptions {
  resolver: DnsblResolver;
  lists: readonly Blocklist[];
  dqsKey?: Secret;
  /**
   * Ask about documentation addresses (192.0.2/24, 2001:db8::/32 ...) too. Only with a resolver
   * chosen on purpose (a lab's): no public list holds them, so the system's resolver (the
   * internet) is never asked about the demo host's addresses.
   */
  askDocumentation?: boolean;
}

function queryZone(list: Blocklist, dqsKey: Secret | undefined): string {
  return list.dqsZone !== undefined && dqsKey !== undefined ? `${dqsKey.reveal()}.${list.dqsZone}` : list.zone;
}

function shownZone(list: Blocklist, dqsKey: Secret | undefined): string {
  return list.dqsZone !== undefined && dqsKey !== undefined ? list.dqsZone : list.zone;
}

export async function checkOne(ip: string, list: Blocklist, options: CheckOptions): Promise<ListingResult> {
  const base = {
    ip,
    list: list.id,
    name: list.name,
    zone: shownZone(list, options.dqsKey),
    parts: [] as string[],
    answers: [] as string[],
    policyOnly: false,
    reason: null,
    removal: list.removalUrl(ip),
    delisting: list.delisting,
    detail: null,
  };
  if (isIP(ip) === 6 && !list.ipv6) return { ...base, status: 'not-applicable', detail: 'the list has no IPv6 zone' };
  const parsed = parseIp(ip);
  if (options.askDocumentation !== true && parsed !== undefined && specialRange(parsed)?.startsWith('documentation') === true) {
    return { ...base, status: 'not-applicable', detail: 'a documentation address: asked only of a resolver given with --dns-server (dns_server in a playbook)' };
  }
  const name = `${reversedAddress(ip)}.${queryZone(list, options.dqsKey)}`;
  const a = await options.resolver.lookupA(list.id, name);
  if (a.kind === 'absent') return { ...base, status: 'clean' };
  if (a.kind === 'failed') return { ...base, status: 'unknown', detail: `no answer (${a.code}): the list could not be asked` };
  const meanings = a.answers.map(answerMeaning);
  const listed = meanings.filter((m) => m.kind === 'listed').map((m) => m.answer);
  const refused = meanings.find((m) => m.kind === 'refused');
  if (listed.length === 0) {
    return {
      ...base,
      status: 'not-checked',
      answers: a.answers,
      detail: `could not check: ${refused?.kind === 'refused' ? refused.why : 'error answer'} (${a.answers.join(', ')}); use your own resolver or a DQS key`,
    };
  }
  const named = listed.map((answer) => list.parts?.(answer));
  const parts = [...new Set(named.map((p, i) => p?.part ?? listed[i] ?? ''))];
  const txt = await options.resolver.lookupTxt(list.id, name);
  return {
    ...base,
    status: 'listed',
    answers: listed,
    parts,
    policyOnly: named.every((p) => p?.policy === true),
    reason: txt.length > 0 ? safeLine(txt.join(' | ')) : null,
  };
}

/** Every address against every list; results in address order, then list order. */
export async function checkAddresses(ips: readonly string[], options: CheckOptions): Promise<ListingResult[]> {
  const jobs = ips.flatMap((ip) => options.lists.map((list) => checkOne(ip, list, options)));
  return Promise.all(jobs);
}
