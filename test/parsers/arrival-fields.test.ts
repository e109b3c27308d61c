/**
 * The envelope sender is chosen by whoever sends the mail: nothing inside it may change what
 * the arrival parsers read as the client address, AUTH login or protocol. And `A=` in all the
 * forms Exim writes. Lines marked "Exim test suite" are copied from Exim's test/log files.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyMainlogLine, type ArrivalLine } from '../../src/parsers/exim-mainlog.js';
import { scanMainlogBuffer } from '../../src/parsers/mainlog-scan.js';
import { eximSender } from './log-gen.js';
import { hostileArrivalLogs, lineOf, SHAPES, withoutSenderNames } from './hostile-arrivals.js';

function arrival(line: string): ArrivalLine {
  const c = classifyMainlogLine(line);
  if (c.kind !== 'arrival') throw new Error(`not an arrival: ${line}`);
  return c;
}

describe('a hostile envelope sender changes nothing but the sender', () => {
  it('JS parser: client address, AUTH, protocol, user, size, subject and recipients are those of a plain sender', () => {
    fc.assert(
      fc.property(eximSender, eximSender, fc.integer({ min: 0, max: SHAPES - 1 }), (sender, authSender, shape) => {
        const hostile = arrival(lineOf(shape, sender, authSender));
        const plain = arrival(lineOf(shape, 'plain@example.test', 'plain@example.test'));
        expect(hostile.sender).toBe(sender);
        const { sender: _a, ...restHostile } = hostile;
        const { sender: _b, ...restPlain } = plain;
        if (restHostile.auth?.authenticatedSender !== undefined && restHostile.auth.authenticatedSender !== null) {
          expect(restHostile.auth.authenticatedSender).toBe(authSender);
          restHostile.auth = { ...restHostile.auth, authenticatedSender: 'plain@example.test' };
        }
        expect(restHostile).toEqual(restPlain);
      }),
      { numRuns: 2000 },
    );
  });

  it('scanner (WebAssembly kernel): same totals, AUTH logins and addresses as with plain senders', () => {
    fc.assert(
      fc.property(hostileArrivalLogs, ({ hostileLog, plainLog, plainOf }) => {
        const limits = { limit: 1000, nestedLimit: 1000 };
        const hostile = scanMainlogBuffer(Buffer.from(hostileLog), limits);
        const plain = scanMainlogBuffer(Buffer.from(plainLog), limits);
        expect(withoutSenderNames(hostile, plainOf)).toEqual(withoutSenderNames(plain, new Map()));
        for (const s of hostile.senders) expect(plainOf.has(s.sender)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('real Exim arrival lines', () => {
  it('quoted local parts with spaces, quotes and field lookalikes stay one sender (Exim test suite and Debian exim4 4.96)', () => {
    const spaced = arrival('1999-03-02 09:44:33 10HmaX-000000005vi-0000 <= "spaced user"@myhost.test.ex U=spaced user P=local S=sss');
    expect([spaced.sender, spaced.user, spaced.protocol, spaced.host]).toEqual(['"spaced user"@myhost.test.ex', 'spaced user', 'local', null]);
    const escaped = arrival('1999-03-02 09:44:33 10HmbB-000000005vi-0000 <= "a\\"b"@myhost.test.ex U=a"b P=local S=sss');
    expect([escaped.sender, escaped.user, escaped.protocol]).toEqual(['"a\\"b"@myhost.test.ex', 'a"b', 'local']);
    const tls = arrival('1999-03-02 09:44:33 10HmaY-000000005vi-0000 <= "name with spaces"@test.ex H=(test) [127.0.0.1] P=smtps X=TLS1.x:ke-RSA-AES256-SHAnnn:xxx S=sss');
    expect([tls.sender, tls.host?.ip, tls.protocol]).toEqual(['"name with spaces"@test.ex', '127.0.0.1', 'smtps']);
    // Written by Debian's exim4 4.96 (see exim-real-arrivals.test.ts for how).
    const spoof = arrival('2026-12-07 12:55:18 1xaYFS-00043J-0s <= "a H=(x) [198.51.100.7]"@example.test H=[203.0.113.9] U=root P=esmtpa A=dovecot_login:bob@example.test:"s for x"@example.test S=241 T="hi" for rcpt@example.test');
    expect(spoof).toMatchObject({
      sender: '"a H=(x) [198.51.100.7]"@example.test', host: { ip: '203.0.113.9' }, protocol: 'esmtpa', size: 241, subject: 'hi', recipients: ['rcpt@example.test'],
      auth: { authenticator: 'dovecot_login', id: 'bob@example.test', authenticatedSender: '"s for x"@example.test' },
    });
    const forInside = arrival('2026-12-07 12:55:18 1xaYFS-00043P-1B <= "a\\"b\\\\c for z"@example.test H=[203.0.113.9] U=root P=esmtpa A=mylogin S=232 T="hi" for rcpt@example.test');
    expect(forInside).toMatchObject({ sender: '"a\\"b\\\\c for z"@example.test', host: { ip: '203.0.113.9' }, protocol: 'esmtpa', auth: { authenticator: 'mylogin', id: null, authenticatedSender: null } });
  });

  it('A= in its three forms: authenticator, authenticator:id, authenticator:id:sender (Exim test suite)', () => {
    expect(arrival('1999-03-02 09:44:33 10HmaX-000000005vi-0000 <= userx@test.ex H=(rhu.barb) [10.0.0.0] U=CALLER P=esmtpa A=plain S=sss').auth)
      .toEqual({ authenticator: 'plain', id: null, authenticatedSender: null });
    expect(arrival('1999-03-02 09:44:33 10HmaZ-000000005vi-0000 <= userx@cus.cam.ac.uk H=(testclient.ex) [10.0.0.3] U=CALLER P=esmtpa A=mylogin S=sss for userx8@test.ex').auth)
      .toEqual({ authenticator: 'mylogin', id: null, authenticatedSender: null });
    expect(arrival('1999-03-02 09:44:33 10HmaX-000000005vi-0000 <= CALLER@myhost.test.ex U=CALLER P=local-esmtpa A=plain1:userx S=sss').auth)
      .toEqual({ authenticator: 'plain1', id: 'userx', authenticatedSender: null });
    expect(arrival('1999-03-02 09:44:33 10HmaX-000000005vi-0000 <= CALLER@myhost.test.ex H=hostname [5.6.7.8] U=ident P=protocol A=authname:authid:authsender S=sss').auth)
      .toEqual({ authenticator: 'authname', id: 'authid', authenticatedSender: 'authsender' });
    // Not authenticated at all.
    expect(arrival('1999-03-02 09:44:33 10HmaX-000000005vi-0000 <= CALLER@myhost.test.ex U=CALLER P=local S=sss').auth).toBeNull();
  });

  it('the scanner counts a login without an id as authenticated, never as inbound, and ranks the id of a three-part A=', () => {
    const log = [
      '1999-03-02 09:44:33 10HmaX-000000005vi-0000 <= userx@test.ex H=(rhu.barb) [10.0.0.1] U=CALLER P=esmtpa A=plain S=100',
      '1999-03-02 09:44:33 10HmaZ-000000005vi-0000 <= userx@cus.cam.ac.uk H=(testclient.ex) [10.0.0.3] U=CALLER P=esmtpa A=mylogin S=100 for userx8@test.ex',
      '1999-03-02 09:44:34 10HmaY-000000005vi-0000 <= CALLER@myhost.test.ex H=hostname [5.6.7.8] U=ident P=protocol A=authname:authid:authsender S=100',
      '2026-12-07 12:55:18 1xaYFS-00043J-0s <= "a H=(x) [198.51.100.7]"@example.test H=[203.0.113.9] U=root P=esmtpa A=dovecot_login:bob@example.test:"s for x A=evil:mallory@x"@example.test S=241 T="hi" for rcpt@example.test',
      '1999-03-02 09:44:35 10HmbA-000000005vi-0000 <= someone@remote.test H=mx.remote.test [192.0.2.77] P=esmtp S=100',
      '',
    ].join('\n');
    const r = scanMainlogBuffer(Buffer.from(log));
    expect(r.totals).toMatchObject({ arrivals: 5, authenticated_arrivals: 4, authenticated_without_id: 2, incoming_arrivals: 1, local_arrivals: 0 });
    expect(r.auth_senders.map((a) => [a.id, a.authenticators.map((x) => x.key), a.ips.map((x) => x.key)])).toEqual([
      ['authid', ['authname'], ['5.6.7.8']],
      ['bob@example.test', ['dovecot_login'], ['203.0.113.9']],
    ]);
    expect(r.senders.find((s) => s.sender === '"a H=(x) [198.51.100.7]"@example.test')?.ips).toEqual([{ key: '203.0.113.9', count: 1 }]);
    expect(r.senders.find((s) => s.sender === 'userx@test.ex')?.ips).toEqual([{ key: '10.0.0.1', count: 1 }]);
  });
});
