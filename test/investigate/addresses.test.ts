import { describe, expect, it } from 'vitest';
import { ActivityCollector, parseDovecotLogin } from '../../src/investigate/activity.js';
import { collapseToPrefixes, groupPrefix } from '../../src/investigate/addresses.js';
import { clientOfChain, proxyRanges } from '../../src/investigate/proxies.js';
import { parseAllowList } from '../../src/investigate/allow-list.js';

describe('attacker prefixes', () => {
  it('groups IPv6 by /64 (compressed or not) and IPv4 by /24', () => {
    expect(groupPrefix('2a0b:4140:d00:7::1')).toBe('2a0b:4140:d00:7::/64');
    expect(groupPrefix('2a0b:4140:0d00:0007:0:0:0:ffff')).toBe('2a0b:4140:d00:7::/64');
    expect(groupPrefix('::ffff:91.200.12.5')).toBe('91.200.12.0/24');
    expect(groupPrefix('nonsense')).toBeNull();
  });

  it('collapses a network only when enough attackers share it and nothing legitimate does', () => {
    const v6 = ['2a0b:4140:d00:7::1', '2a0b:4140:d00:7::2'];
    const v4 = ['91.200.12.1', '91.200.12.2', '91.200.12.3', '91.200.12.4'];
    expect(collapseToPrefixes([...v6, ...v4, '45.33.1.1'], []).blocks).toEqual(['2a0b:4140:d00:7::/64', '91.200.12.0/24', '45.33.1.1']);
    // The owner's office shares the /24: every attacker stays a single address.
    expect(collapseToPrefixes(v4, ['91.200.12.200']).blocks).toEqual(v4);
    // Three IPv4 attackers are not "many".
    expect(collapseToPrefixes(v4.slice(0, 3), []).blocks).toEqual(v4.slice(0, 3));
  });
});

describe('proxies', () => {
  it('walks the chain right to left past Cloudflare and trusted proxies', () => {
    const ranges = proxyRanges(undefined, undefined, ['10.0.0.0/8']);
    expect(clientOfChain(['1.2.3.4', '198.51.100.9', '172.70.1.2'], ranges)).toBe('198.51.100.9');
    expect(clientOfChain(['198.51.100.9', '10.1.1.1'], ranges)).toBe('198.51.100.9');
    expect(clientOfChain(['172.70.1.2'], ranges)).toBeNull();
    expect(() => proxyRanges(['104.16.0.0/99'])).toThrow(/not an address or CIDR/);
  });
});

describe('maillog', () => {
  it('reads Dovecot IMAP/POP3 logins with or without a PID, and skips cPanel service logins', () => {
    const line = 'Mar 27 12:30:51 host dovecot[207411]: imap-login: Login: user=<email@address.com>, method=PLAIN, rip=192.168.1.2, lip=192.168.1.10, mpid=1234567, TLS, session=<Q2sNAb3Q4OgkYXBa>';
    expect(parseDovecotLogin(line, 2026)).toEqual({ time: '2026-03-27 12:30:51', protocol: 'imap', user: 'email@address.com', ip: '192.168.1.2' });
    expect(parseDovecotLogin('Dec  7 06:00:00 h dovecot: pop3-login: Login: user=<a@b.test>, method=PLAIN, rip=::1, lip=::1, mpid=1, secured, session=<x>', 2026)?.protocol).toBe('pop3');
    expect(parseDovecotLogin('Dec  7 06:00:00 h dovecot: imap-login: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 2 secs): user=<a@b.test>, method=PLAIN, rip=203.0.113.9, lip=1.2.3.4', 2026)).toBeNull();
  });

  it('a December login read from a January main log is from the year before', () => {
    const c = new ActivityCollector(['a@b.test'], []);
    c.mainlogLine('2027-01-02 10:00:00 1xaS8D-0002Cf-0e <= a@b.test H=(laptop) [203.0.113.9]:53033 P=esmtpa A=dovecot_plain:a@b.test S=276 T="x" for v@remote.test');
    c.maillogLine('Dec 31 23:59:00 h dovecot: imap-login: Login: user=<a@b.test>, method=PLAIN, rip=198.51.100.1, lip=1.2.3.4, mpid=1, TLS, session=<x>');
    const facts = c.finish();
    expect(facts.readers.get('a@b.test')?.ips.get('198.51.100.1')?.first).toBe('2026-12-31 23:59:00');
    expect(facts.auth.get('a@b.test')?.ips.get('203.0.113.9')?.count).toBe(1);
  });
});

describe('allow-list', () => {
  it('sorts entries into senders, domains, directories and addresses, and names a bad line', () => {
    expect(parseAllowList(['news@shop.test', 'crm.example', '/home/u/public_html/news/', '198.51.100.0/24', '# comment', ''])).toEqual({
      senders: ['news@shop.test'], domains: ['crm.example'], directories: ['/home/u/public_html/news'], ips: ['198.51.100.0/24'],
    });
    expect(() => parseAllowList(['ok.example', 'not valid!'], 'allow.txt')).toThrow(/allow\.txt:2: "not valid!"/);
  });
});
