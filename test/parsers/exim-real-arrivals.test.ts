/**
 * Arrival lines written by the real Exim (Debian's exim4) for senders an attacker picks: quoted
 * local parts holding spaces, ` for `, `H=` and bracketed addresses; and the three forms of
 * `A=`. Each line is submitted as root with the client address, authenticator, AUTH id and
 * authenticated sender given on the command line (-oMa, -oMaa, -oMai, -oMas), so what the
 * parsers must find is known.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyMainlogLine } from '../../src/parsers/exim-mainlog.js';
import { scanMainlogBuffer } from '../../src/parsers/mainlog-scan.js';
import { requireExim, startEximHost, type EximTestHost } from '../support/exim.js';
import { eximSender } from './log-gen.js';

interface Submission {
  sender: string;
  ip: string;
  authenticator: string | null;
  id: string | null;
  authSender: string | null;
}

const fixed: Submission[] = [
  { sender: '"a H=(x) [198.51.100.7]"@example.test', ip: '203.0.113.9', authenticator: 'dovecot_login', id: 'bob@example.test', authSender: '"s for x"@example.test' },
  { sender: '"spaced user"@example.test', ip: '203.0.113.10', authenticator: 'dovecot_plain', id: 'carol@example.test', authSender: null },
  { sender: '"x for y H=[192.0.2.66] A=dovecot_login:victim@example.test P=local"@example.test', ip: '203.0.113.11', authenticator: 'dovecot_login', id: 'dave@example.test', authSender: null },
  { sender: '"a\\"b\\\\c for z"@example.test', ip: '203.0.113.12', authenticator: 'mylogin', id: null, authSender: null },
  { sender: 'plain@example.test', ip: '203.0.113.13', authenticator: null, id: null, authSender: null },
];

describe.runIf(requireExim())('arrival lines of the real Exim', () => {
  let host: EximTestHost;
  const submitted: Submission[] = [];

  beforeAll(async () => {
    host = await startEximHost({ incident: false });
    // The third part of A= is logged only with +smtp_mailauth.
    const conf = join(host.root, 'etc/exim.conf');
    writeFileSync(conf, readFileSync(conf, 'utf8').replace('+received_recipients', '+received_recipients +smtp_mailauth'));
    const sampled = fc.sample(fc.tuple(eximSender, fc.option(eximSender)), { numRuns: 12, seed: 7 }).map(([sender, authSender], i): Submission => ({
      sender, ip: `198.51.100.${100 + i}`, authenticator: 'dovecot_login', id: `user${i}@example.test`, authSender,
    }));
    for (const s of [...fixed, ...sampled]) {
      const args = ['-odq', '-f', s.sender, '-oMa', s.ip, '-oMr', s.authenticator === null ? 'esmtp' : 'esmtpa'];
      if (s.authenticator !== null) args.push('-oMaa', s.authenticator);
      if (s.id !== null) args.push('-oMai', s.id);
      if (s.authSender !== null) args.push('-oMas', s.authSender);
      const r = await host.exim([...args, 'rcpt@example.test'], { input: 'Subject: hi\n\nbody\n' });
      // Exim refuses what it cannot log as an address; the fixed ones must all be accepted.
      if (r.code === 0) submitted.push(s);
      else if (fixed.includes(s)) throw new Error(`exim refused ${s.sender}: ${r.stderr}`);
    }
  });
  afterAll(async () => host?.stop());

  it('each line gives back the sender, client address, protocol and A= parts that were submitted', () => {
    const log = readFileSync(join(host.root, 'var/log/exim_mainlog'), 'utf8');
    const arrivals = log.split('\n').map(classifyMainlogLine).filter((c) => c.kind === 'arrival');
    expect(submitted.length).toBeGreaterThanOrEqual(fixed.length + 6);
    expect(arrivals.map((a) => ({
      sender: a.sender, ip: a.host?.ip ?? null, protocol: a.protocol, user: a.user,
      authenticator: a.auth?.authenticator ?? null, id: a.auth?.id ?? null, authSender: a.auth?.authenticatedSender ?? null,
      subject: a.subject, recipients: a.recipients,
    }))).toEqual(submitted.map((s) => ({
      sender: s.sender, ip: s.ip, protocol: s.authenticator === null ? 'esmtp' : 'esmtpa', user: 'root',
      authenticator: s.authenticator, id: s.id, authSender: s.id === null ? null : s.authSender,
      subject: 'hi', recipients: ['rcpt@example.test'],
    })));
  });

  it('the scanner ranks the submitted AUTH ids with their client addresses, and counts the login without an id', () => {
    const r = scanMainlogBuffer(readFileSync(join(host.root, 'var/log/exim_mainlog')), { limit: 1000 });
    const withId = submitted.filter((s) => s.id !== null);
    expect(r.auth_senders.map((a) => [a.id, a.ips.map((x) => x.key)]).sort()).toEqual(withId.map((s) => [s.id, [s.ip]]).sort());
    expect(r.totals).toMatchObject({
      arrivals: submitted.length,
      authenticated_arrivals: submitted.filter((s) => s.authenticator !== null).length,
      authenticated_without_id: submitted.filter((s) => s.authenticator !== null && s.id === null).length,
      incoming_arrivals: submitted.filter((s) => s.authenticator === null).length,
    });
    // Inbound (unauthenticated) mail is not ranked by sender.
    for (const s of submitted.filter((x) => x.authenticator !== null)) expect(r.senders.find((x) => x.sender === s.sender)?.ips).toEqual([{ key: s.ip, count: 1 }]);
  });
});
