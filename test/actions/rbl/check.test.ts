import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAddresses } from '../../../src/actions/rbl/check.js';
import { BLOCKLISTS, selectBlocklists } from '../../../src/actions/rbl/lists.js';
import { DnsblResolver } from '../../../src/actions/rbl/resolver.js';
import { Secret } from '../../../src/core/secret.js';
import { requireDnsmasq, startDnsServer, type DnsServer } from '../../support/dnsmasq.js';
import {
  BAD_ZONE_IP,
  CLEAN_IP,
  dnsblTestZones,
  LISTED_IP,
  LISTED_IPV6,
  PUBLIC_RESOLVER_IP,
  RATE_LIMITED_IP,
  SBL_TXT,
  SPAMCOP_TXT,
  TEST_DQS_KEY,
  XBL_TXT,
} from '../../support/dnsbl-zones.js';

describe.runIf(requireDnsmasq())('DNSBL checks against a real DNS server on loopback', () => {
  let dns: DnsServer;
  let silent: Socket;
  beforeAll(async () => {
    dns = await startDnsServer(dnsblTestZones());
    // A port that receives queries and never answers: the timeout case.
    silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await dns?.stop();
    silent?.close();
  });

  const resolver = (server?: string): DnsblResolver => new DnsblResolver({ server: server ?? dns.address, timeoutMs: 2000, tries: 1, intervalMs: 0 });
  const find = (results: Awaited<ReturnType<typeof checkAddresses>>, ip: string, list: string) => {
    const r = results.find((x) => x.ip === ip && x.list === list);
    if (r === undefined) throw new Error(`no result for ${ip} on ${list}`);
    return r;
  };

  it('tells listed, clean and the Spamhaus parts apart, with TXT reasons and removal pages', async () => {
    const results = await checkAddresses([LISTED_IP, CLEAN_IP], { resolver: resolver(), lists: BLOCKLISTS, askDocumentation: true });
    const zen = find(results, LISTED_IP, 'spamhaus-zen');
    expect(zen).toMatchObject({ status: 'listed', parts: ['SBL', 'XBL', 'PBL'], answers: ['127.0.0.2', '127.0.0.4', '127.0.0.10'], policyOnly: false });
    expect(zen.reason).toContain(SBL_TXT);
    expect(zen.reason).toContain(XBL_TXT);
    expect(zen.removal).toBe(`https://check.spamhaus.org/query/ip/${LISTED_IP}`);
    expect(find(results, LISTED_IP, 'spamcop')).toMatchObject({ status: 'listed', reason: SPAMCOP_TXT, removal: `https://www.spamcop.net/bl.shtml?${LISTED_IP}` });
    expect(find(results, LISTED_IP, 'barracuda').status).toBe('clean');
    expect(results.filter((r) => r.ip === CLEAN_IP).map((r) => r.status)).toEqual(BLOCKLISTS.map(() => 'clean'));
  });

  it('reports the Spamhaus error codes as could-not-check, never as a listing', async () => {
    const results = await checkAddresses([PUBLIC_RESOLVER_IP, RATE_LIMITED_IP, BAD_ZONE_IP], { resolver: resolver(), lists: selectBlocklists(['spamhaus-zen']), askDocumentation: true });
    expect(results.map((r) => r.status)).toEqual(['not-checked', 'not-checked', 'not-checked']);
    expect(results[0]?.detail).toMatch(/public or open resolvers.*127\.255\.255\.254.*use your own resolver or a DQS key/);
    expect(results[1]?.detail).toMatch(/too many queries.*127\.255\.255\.255/);
    expect(results[2]?.detail).toMatch(/zone name is wrong.*127\.255\.255\.252/);
    expect(results.every((r) => r.parts.length === 0)).toBe(true);
  });

  it('queries IPv6 in nibble form and skips IPv4-only lists', async () => {
    const results = await checkAddresses([LISTED_IPV6], { resolver: resolver(), lists: BLOCKLISTS, askDocumentation: true });
    expect(find(results, LISTED_IPV6, 'spamhaus-zen')).toMatchObject({ status: 'listed', parts: ['CSS'] });
    expect(find(results, LISTED_IPV6, 's5h').status).toBe('listed');
    expect(find(results, LISTED_IPV6, 'spamcop').status).toBe('not-applicable');
  });

  it('answers unknown, not clean, when the server never answers', async () => {
    const { port } = silent.address();
    const slow = new DnsblResolver({ server: `127.0.0.1:${port}`, timeoutMs: 300, tries: 1, intervalMs: 0 });
    const results = await checkAddresses([CLEAN_IP], { resolver: slow, lists: selectBlocklists(['spamcop', 'psbl']), askDocumentation: true });
    expect(results.map((r) => r.status)).toEqual(['unknown', 'unknown']);
    expect(results[0]?.detail).toMatch(/ETIMEOUT/);
  });

  it('never asks about documentation addresses unless told to (no internet for the demo host)', async () => {
    const { port } = silent.address();
    const results = await checkAddresses([LISTED_IP], { resolver: resolver(`127.0.0.1:${port}`), lists: selectBlocklists(['spamcop']) });
    expect(results[0]).toMatchObject({ status: 'not-applicable', detail: expect.stringMatching(/documentation address/) });
    const asked = await checkAddresses([LISTED_IP], { resolver: resolver(), lists: selectBlocklists(['spamcop']), askDocumentation: true });
    expect(asked[0]?.status).toBe('listed');
  });

  it('asks the DQS zone with the key and never shows the key', async () => {
    const results = await checkAddresses([LISTED_IP], { resolver: resolver(), lists: selectBlocklists(['spamhaus-zen']), dqsKey: new Secret(TEST_DQS_KEY), askDocumentation: true });
    expect(results[0]).toMatchObject({ status: 'listed', zone: 'zen.dq.spamhaus.net', parts: ['SBL'] });
    expect(JSON.stringify(results)).not.toContain(TEST_DQS_KEY);
  });

  it('asks each name once per run', async () => {
    const r = resolver();
    const [a, b] = await Promise.all([r.lookupA('spamcop', '10.2.0.192.bl.spamcop.net'), r.lookupA('spamcop', '10.2.0.192.bl.spamcop.net')]);
    expect(a).toEqual({ kind: 'answers', answers: ['127.0.0.2'] });
    expect(b).toBe(a);
  });
});
