/** `rbl.check`: are the server's sending addresses on the blocklists that matter? Read-only. */
import { Type } from '@sinclair/typebox';
import { DURATION_PATTERN, parseDuration } from '../../core/duration.js';
import { parseIp } from '../firewall/ip.js';
import { ActionError, defineAction } from '../types.js';
import { checkAddresses, type ListingResult } from './check.js';
import { DqsKeyError, readDqsKeyFile } from './dqs-key.js';
import { LISTS_REVIEWED, selectBlocklists, type Blocklist } from './lists.js';
import type { Secret } from '../../core/secret.js';
import { DnsblResolver, parseDnsServer } from './resolver.js';
import { sendingAddresses, type SendingAddress } from './sending-addresses.js';

/** Least time between two queries to one list: polite to free public mirrors. */
const PER_LIST_INTERVAL_MS = 50;

export interface RblCheckOutputs {
  addresses: SendingAddress[];
  results: ListingResult[];
  listed: ListingResult[];
  /** Unknown (no answer) or not checked (the list refused this resolver). */
  unchecked: ListingResult[];
  /** Every list answered and none lists any address. */
  clean: boolean;
  reviewed: string;
}

/** One line: what is listed where, and what could not be checked. */
export function rblSummary(outputs: Pick<RblCheckOutputs, 'addresses' | 'results' | 'listed' | 'unchecked'>): string {
  if (outputs.addresses.length === 0) return 'no public sending address found (ip -o addr, /var/cpanel/mainip, /etc/mailips): nothing to check';
  if (outputs.results.every((r) => r.status === 'not-applicable')) return `not asked: ${outputs.results[0]?.detail ?? 'no list applies'}`;
  // Where to ask travels with each listing: the end-of-run report is what operators act on.
  const listed = outputs.listed.map((r) => `${r.ip} on ${r.name}${r.parts.some((p) => !p.startsWith('127.')) ? ` (${r.parts.join(', ')})` : ''}, removal ${r.removal}`);
  const parts = [listed.length > 0 ? `listed: ${listed.join('; ')}` : `${outputs.addresses.length} address(es) not listed`];
  if (outputs.unchecked.length > 0) parts.push(`${outputs.unchecked.length} check(s) without an answer`);
  return parts.join('; ');
}

export interface RblCheckParams {
  addresses?: string[];
  dns_server?: string;
  dqs_key_file?: string;
  lists?: string[];
  timeout?: string;
}

/**
 * The check itself, for the action and for `runbook rbl` with addresses already known (no host
 * to ask). Errors are ActionErrors saying what to fix.
 */
export interface PreparedCheck {
  server?: string;
  timeoutMs: number;
  lists: Blocklist[];
  dqsKey?: Secret;
}

/** The parameters checked and resolved (resolver, timeout, lists, DQS key); ActionError when wrong. */
export async function prepareCheck(params: RblCheckParams): Promise<PreparedCheck> {
  let server: string | undefined;
  if (params.dns_server !== undefined && params.dns_server !== '') {
    server = parseDnsServer(params.dns_server);
    if (server === undefined) throw new ActionError(`dns_server '${params.dns_server}' is not IP, IP:PORT or [IPv6]:PORT`);
  }
  const timeoutMs = parseDuration(params.timeout ?? '3s');
  if (timeoutMs === undefined || timeoutMs <= 0) throw new ActionError(`timeout '${params.timeout}' is not a duration such as 3s or 500ms`);
  let lists;
  try {
    lists = selectBlocklists(params.lists);
  } catch (error) {
    throw new ActionError((error as Error).message);
  }
  let dqsKey;
  if (params.dqs_key_file !== undefined && params.dqs_key_file !== '') {
    try {
      dqsKey = await readDqsKeyFile(params.dqs_key_file);
    } catch (error) {
      if (error instanceof DqsKeyError) throw new ActionError(error.message);
      throw error;
    }
  }
  return { ...(server !== undefined ? { server } : {}), timeoutMs, lists, ...(dqsKey !== undefined ? { dqsKey } : {}) };
}

export async function checkListings(
  params: RblCheckParams,
  io: { signal: AbortSignal; progress(message: string): void; askHost?: () => Promise<SendingAddress[]>; hostName?: string },
): Promise<RblCheckOutputs> {
  const { server, timeoutMs, lists, dqsKey } = await prepareCheck(params);
  let addresses: SendingAddress[];
  if (params.addresses !== undefined && params.addresses.length > 0) {
    addresses = params.addresses.map((text) => {
      const ip = parseIp(text);
      if (ip === undefined) throw new ActionError(`'${text}' is not an IP address`);
      return { ip: ip.address, sources: ['given'] };
    });
  } else if (io.askHost !== undefined) {
    // None (a host behind NAT): nothing to ask; the summary says so and `clean` stays false.
    addresses = await io.askHost();
  } else {
    throw new ActionError('no address to check');
  }
  const resolver = new DnsblResolver({ ...(server !== undefined ? { server } : {}), timeoutMs, tries: 2, intervalMs: PER_LIST_INTERVAL_MS });
  const onAbort = (): void => resolver.cancel();
  io.signal.addEventListener('abort', onAbort, { once: true });
  let results: ListingResult[];
  try {
    io.progress(`asking ${lists.length} blocklists about ${addresses.length} address(es)`);
    results = await checkAddresses(
      addresses.map((a) => a.ip),
      { resolver, lists, askDocumentation: server !== undefined, ...(dqsKey !== undefined ? { dqsKey } : {}) },
    );
  } finally {
    io.signal.removeEventListener('abort', onAbort);
  }
  const listed = results.filter((r) => r.status === 'listed');
  const unchecked = results.filter((r) => r.status === 'unknown' || r.status === 'not-checked');
  const asked = results.some((r) => r.status === 'clean');
  return { addresses, results, listed, unchecked, clean: asked && listed.length === 0 && unchecked.length === 0, reviewed: LISTS_REVIEWED };
}

export const rblCheck = defineAction({
  name: 'rbl.check',
  description: `The server's sending addresses (interfaces, cPanel main IP, /etc/mailips) against DNS blocklists reviewed ${LISTS_REVIEWED}: listed (with reason and removal page), clean, or could not check. DNS is asked from the control host.`,
  mutates: false,
  params: Type.Object({
    addresses: Type.Optional(Type.Array(Type.String(), { description: 'check these instead of asking the host' })),
    dns_server: Type.Optional(Type.String({ description: "resolver IP[:PORT]; '' for the system's" })),
    dqs_key_file: Type.Optional(Type.String({ description: 'Spamhaus DQS key file (mode 0600) on the control host' })),
    lists: Type.Optional(Type.Array(Type.String(), { description: 'blocklist ids; all by default' })),
    timeout: Type.Optional(Type.String({ pattern: DURATION_PATTERN, default: '3s' })),
  }),
  outputs: {
    addresses: 'list of {ip, sources}',
    results: 'every (address, list) answer: {ip, list, name, zone, status, parts, reason, removal, delisting, detail}',
    listed: 'the results with status listed',
    unchecked: "the results with status unknown or not-checked (no answer is never 'clean')",
    clean: 'true when every list asked answered and none lists any address',
    reviewed: 'date the blocklist selection was reviewed',
  },
  async run(ctx, params) {
    const outputs = await checkListings(params, { signal: ctx.signal, progress: (m) => ctx.progress(m), askHost: () => sendingAddresses(ctx), hostName: ctx.host.name });
    const summary = rblSummary(outputs);
    await ctx.note(`blocklists: ${summary}`, { listed: outputs.listed.map((r) => ({ ip: r.ip, list: r.list, parts: r.parts, reason: r.reason, removal: r.removal, delisting: r.delisting })) });
    return { changed: false, outputs: outputs as unknown as Record<string, unknown>, summary };
  },
});
