import { describe, expect, it } from 'vitest';
import { parseMailIps, parseMainIp } from '../../../src/actions/rbl/host-addresses.js';
import { BLOCKLISTS, LISTS_REVIEWED, selectBlocklists } from '../../../src/actions/rbl/lists.js';
import { answerMeaning, expandIpv6, reversedAddress } from '../../../src/actions/rbl/query.js';
import { parseDnsServer, PerListRateLimit } from '../../../src/actions/rbl/resolver.js';

describe('DNSBL query names and answers', () => {
  it('reverses IPv4 and IPv6 (the RFC 5782 example)', () => {
    expect(reversedAddress('192.0.2.10')).toBe('10.2.0.192');
    expect(reversedAddress('2001:720:c14:200::10:227')).toBe('7.2.2.0.0.1.0.0.0.0.0.0.0.0.0.0.0.0.2.0.4.1.c.0.0.2.7.0.1.0.0.2');
    expect(expandIpv6('::1')).toBe('0'.repeat(31) + '1');
    expect(expandIpv6('::ffff:127.0.0.2')).toBe('00000000000000000000ffff7f000002');
    expect(() => reversedAddress('nope')).toThrow(/not an IP/);
  });

  it('treats 127.255.255.x and non-loopback answers as errors, not listings', () => {
    expect(answerMeaning('127.0.0.2')).toEqual({ kind: 'listed', answer: '127.0.0.2' });
    for (const code of ['127.255.255.252', '127.255.255.254', '127.255.255.255', '127.255.255.1', '93.184.216.34']) {
      expect(answerMeaning(code).kind).toBe('refused');
    }
  });

  it('names the Spamhaus ZEN parts by return code', () => {
    const zen = BLOCKLISTS.find((l) => l.id === 'spamhaus-zen');
    expect(['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.7', '127.0.0.9', '127.0.0.10', '127.0.0.11'].map((a) => zen?.parts?.(a)?.part)).toEqual(['SBL', 'CSS', 'XBL', 'XBL', 'DROP', 'PBL', 'PBL']);
    expect(zen?.parts?.('127.0.0.10')?.policy).toBe(true);
  });

  it('keeps a dated list without dead lists', () => {
    expect(LISTS_REVIEWED).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(BLOCKLISTS.some((l) => /sorbs/i.test(l.zone))).toBe(false);
    expect(() => selectBlocklists(['sorbs'])).toThrow(/unknown blocklist 'sorbs'; known: spamhaus-zen/);
  });

  it('parses --dns-server forms', () => {
    expect(parseDnsServer('127.0.0.1')).toBe('127.0.0.1');
    expect(parseDnsServer('127.0.0.1:5353')).toBe('127.0.0.1:5353');
    expect(parseDnsServer('[::1]:53')).toBe('[::1]:53');
    expect(parseDnsServer('::1')).toBe('::1');
    expect(parseDnsServer('dns.example:53')).toBeUndefined();
    expect(parseDnsServer('127.0.0.1:70000')).toBeUndefined();
  });

  it('reads cPanel main IP and /etc/mailips', () => {
    expect(parseMainIp('192.0.2.10')).toEqual({ address: '192.0.2.10', family: 'ipv4' });
    expect(parseMainIp('junk')).toBeUndefined();
    expect(parseMailIps('# outgoing\n*: 192.0.2.10\nshop.example: 2001:db8::25\nbroken line\nx.example: not-an-ip\n')).toEqual([
      { domain: '*', ip: { address: '192.0.2.10', family: 'ipv4' } },
      { domain: 'shop.example', ip: { address: '2001:db8::25', family: 'ipv6' } },
    ]);
  });
});

describe('per-list rate limit', () => {
  it('spaces queries to one list and leaves other lists alone', async () => {
    let clock = 1000;
    const slept: Array<[string, number]> = [];
    let current = '';
    const limit = new PerListRateLimit(50, () => clock, async (ms) => {
      slept.push([current, ms]);
    });
    const ask = async (list: string): Promise<void> => {
      current = list;
      await limit.wait(list);
    };
    await ask('spamcop');
    await ask('spamcop');
    await ask('psbl');
    await ask('spamcop');
    clock += 500;
    await ask('spamcop');
    expect(slept).toEqual([
      ['spamcop', 50],
      ['spamcop', 100],
    ]);
  });
});
