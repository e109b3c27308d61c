// Failed logins as Exim and Dovecot log them (reference §1.3, §1.5): who tried which mailbox from where.
import { describe, expect, it } from 'vitest';
import { parseDovecotLoginFailure } from '../../src/investigate/activity.js';
import { classifyMainlogLine, parseAuthFailure, type OtherLine } from '../../src/parsers/exim-mainlog.js';

const other = (line: string): string => (classifyMainlogLine(line) as OtherLine).text;

describe('Exim authenticator failures', () => {
  it('gives the authenticator, the client address and the login tried', () => {
    expect(parseAuthFailure(other('2026-12-07 06:23:35 dovecot_plain authenticator failed for (laptop) [127.0.0.2]:44637: 535 Incorrect authentication data (set_id=alice@example.test)')))
      .toEqual({ authenticator: 'dovecot_plain', ip: '127.0.0.2', setId: 'alice@example.test' });
    expect(parseAuthFailure(other('2026-12-07 06:23:44 dovecot_login authenticator failed for ([::1]) [2001:db8::5]:57789: 535 Incorrect authentication data')))
      .toEqual({ authenticator: 'dovecot_login', ip: '2001:db8::5', setId: null });
  });

  it('a login the client chose may hold spaces and parentheses; it runs to the closing one at the end', () => {
    expect(parseAuthFailure(other('2026-12-07 06:23:35 dovecot_plain authenticator failed for (x) [198.51.100.7]:1: 535 Incorrect authentication data (set_id=a (b) c)'))?.setId).toBe('a (b) c');
  });

  it('other lines are not failures', () => {
    expect(parseAuthFailure(other('2026-12-07 06:27:53 Start queue run: pid=14720'))).toBeNull();
  });
});

describe('Dovecot login failures', () => {
  it('reads 2.3 and 2.2 forms, wrong password and unknown user alike', () => {
    expect(parseDovecotLoginFailure('Dec  7 06:30:01 host dovecot: imap-login: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 2 secs): user=<alice@example.test>, method=PLAIN, rip=127.0.0.2, lip=127.0.0.1, TLS, session=<yuUwPAVi191/AAAC>', 2026))
      .toEqual({ time: '2026-12-07 06:30:01', protocol: 'imap', user: 'alice@example.test', ip: '127.0.0.2', attempts: 1 });
    expect(parseDovecotLoginFailure('Dec  7 06:30:02 host dovecot[207411]: pop3-login: Disconnected: Connection closed (auth failed, 2 attempts in 27 secs): user=<ghost@example.test>, method=PLAIN, rip=::1, lip=::1, TLS: Connection closed, session=<4p5cPQViN+N/AAAC>', 2026))
      .toMatchObject({ protocol: 'pop3', user: 'ghost@example.test', ip: '::1', attempts: 2 });
    expect(parseDovecotLoginFailure('Nov  3 10:21:30 vm5 dovecot: imap-login: Aborted login (auth failed, 1 attempts in 2 secs): user=<bob@example.test>, method=PLAIN, rip=203.0.113.9, lip=192.0.2.10', 2026))
      .toMatchObject({ time: '2026-11-03 10:21:30', user: 'bob@example.test', ip: '203.0.113.9' });
  });

  it('a connection that never tried to log in is not a failure; neither is a successful login', () => {
    expect(parseDovecotLoginFailure('Dec  7 06:30:03 host dovecot: imap-login: Disconnected: Connection closed (no auth attempts in 0 secs): user=<>, rip=127.0.0.2, lip=127.0.0.1, TLS: Connection closed, session=<kpkbPQViUb5/AAAC>', 2026)).toBeNull();
    expect(parseDovecotLoginFailure('Dec  7 06:30:04 host dovecot: imap-login: Login: user=<alice@example.test>, method=PLAIN, rip=127.0.0.2, lip=127.0.0.1, mpid=12443, TLS, session=<L8hVOgVigaN/AAAC>', 2026)).toBeNull();
  });
});

describe('Exim authenticator failures with a HELO that looks like an address', () => {
  it('takes the connection address, not the one the client wrote in its HELO', () => {
    expect(parseAuthFailure(other('2026-12-07 06:23:35 dovecot_login authenticator failed for mail.example.net ([192.0.2.99]) [198.51.100.7]:4000: 535 Incorrect authentication data (set_id=a@b.test)'))?.ip).toBe('198.51.100.7');
    expect(parseAuthFailure(other('2026-12-07 06:23:35 dovecot_login authenticator failed for [198.51.100.8]:4000: 535 Incorrect authentication data (set_id=a@b.test)'))?.ip).toBe('198.51.100.8');
  });
});
