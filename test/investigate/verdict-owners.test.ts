import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotBlocked, Source } from '../../src/investigate/verdict.js';
import { runCli } from '../cli/run-cli.js';
import { EXPECT, SERVER_IP, writeRealisticIncident, type IncidentLogs } from './realistic-incident.js';

/**
 * On a main log with ordinary traffic around the incident, the verdict blocks attackers only:
 * the owners' addresses, the server itself, cPanel's service logins, cron and a newsletter are
 * left alone, and every compromised source is listed with its own addresses.
 */
interface V {
  kind: string;
  sender: string;
  senders: string[];
  auth_ids: string[];
  sources: Source[];
  ips: string[];
  ip_reasons: Record<string, string>;
  not_blocked: NotBlocked[];
  began: string | null;
  summary: string;
}

async function investigate(args: string[]): Promise<V> {
  const r = await runCli(['investigate', '--json', '--since', '48h', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { verdict: V }).verdict;
}

describe('investigate --json on a realistic incident: owner or attacker', () => {
  let dir: string;
  let logs: IncidentLogs;
  let v: V;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'runbook-owners-'));
    logs = writeRealisticIncident(dir);
    v = await investigate(['--mainlog', logs.mainlog, '--maillog', logs.maillog]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists every compromised source (two mailboxes, one cPanel account) with its own attackers', () => {
    expect(v.kind).toBe('mailbox');
    expect(v.sender).toBe(EXPECT.alice);
    expect(v.sources.map((s) => [s.kind, s.id])).toEqual([['mailbox', EXPECT.alice], ['mailbox', EXPECT.bob], ['account', EXPECT.account]]);
    const [alice, bob, account] = v.sources as [Source, Source, Source];
    expect(alice.confidence).toBe('high');
    expect(alice.ips.sort()).toEqual([...EXPECT.aliceAttackers, EXPECT.aliceNetworkBlock, EXPECT.aliceV6Block].sort());
    expect(alice.counts).toMatchObject({ attackers: EXPECT.aliceAttackers.length + EXPECT.aliceNetwork.length + EXPECT.aliceV6.length });
    expect(bob.ips.sort()).toEqual([...EXPECT.bobAttackers].sort());
    expect(account.ips).toEqual([EXPECT.accountAttacker]);
    expect(account.reasons.join(' ')).toMatch(/cPanel account/);
    // Purged by AUTH id (forged envelope senders of the sessions), and by the mailboxes' own addresses.
    expect(v.auth_ids).toEqual([EXPECT.alice, EXPECT.bob, EXPECT.account]);
    expect(v.summary).toContain(EXPECT.bob);
    expect(v.summary).toContain(`account ${EXPECT.account}`);
  });

  it('mailboxes sending one subject (encoded or not) are one campaign', () => {
    const bob = v.sources.find((s) => s.id === EXPECT.bob)!;
    expect(bob.reasons).toContain(`sends the subject "Invoice" like ${EXPECT.alice}`);
    expect(v.sources[0]!.reasons).toContain(`sends the subject "Invoice" like ${EXPECT.bob}`);
  });

  it('says when the incident began', () => {
    expect(v.began).toBe(EXPECT.began);
    expect(v.sources[0]!.began).toBe(EXPECT.began);
  });

  it('blocks every attacker, no cap, as prefixes where a network is all attackers', () => {
    expect(v.ips.length).toBe(EXPECT.aliceAttackers.length + 2 + EXPECT.bobAttackers.length + 1);
    for (const ip of EXPECT.aliceAttackers) expect(v.ips).toContain(ip);
    expect(v.ips).toContain(EXPECT.aliceNetworkBlock);
    expect(v.ips).toContain(EXPECT.aliceV6Block);
    for (const ip of [...EXPECT.aliceNetwork, ...EXPECT.aliceV6]) expect(v.ips).not.toContain(ip);
    expect(v.ip_reasons[EXPECT.aliceV6Block]).toBe(`6 addresses of ${EXPECT.aliceV6Block} logged in as ${EXPECT.alice}`);
    expect(Object.keys(v.ip_reasons).sort()).toEqual([...v.ips].sort());
  });

  it("never blocks the owners (used the mailbox before, or read its mail) nor the server itself", () => {
    const nb = new Map(v.not_blocked.map((n) => [n.ip, n]));
    expect(nb.get(EXPECT.aliceOffice)?.class).toBe('owner');
    expect(nb.get(EXPECT.alicePhone)).toMatchObject({ class: 'owner' });
    expect(nb.get(EXPECT.alicePhone)!.reason).toMatch(/IMAP/);
    expect(nb.get(EXPECT.bobHome)).toMatchObject({ class: 'owner' });
    expect(nb.get(EXPECT.bobHome)!.reason).toMatch(/POP3/);
    expect(nb.get(SERVER_IP)?.class).toBe('server');
    expect(nb.get('127.0.0.1')?.class).toBe('server');
    for (const ip of [EXPECT.aliceOffice, EXPECT.alicePhone, EXPECT.bobHome, SERVER_IP, '127.0.0.1']) expect(v.ips).not.toContain(ip);
  });

  it('an attacker that tried the password the day before (IMAP login, a test message) is still an attacker', () => {
    expect(v.ips).toContain(EXPECT.aliceAttackers[0]);
    expect(v.ips).toContain(EXPECT.aliceAttackers[1]);
    expect(v.not_blocked.map((n) => n.ip)).not.toContain(EXPECT.aliceAttackers[0]);
  });

  it('leaves cPanel service logins, cron, the daily newsletter and common subjects alone', () => {
    const json = JSON.stringify({ sources: v.sources, senders: v.senders, auth_ids: v.auth_ids, ips: v.ips });
    expect(json).not.toContain('__cpanel__service__');
    expect(v.senders).toEqual([EXPECT.alice, EXPECT.bob]);
    expect(v.senders).not.toContain(EXPECT.cron);
    expect(v.senders).not.toContain(EXPECT.newsletter);
    // "Invoice" and "Hello" were sent by five ordinary mailboxes too.
    for (const s of v.senders) expect(s).not.toMatch(/^staff/);
  });

  it('the text report lists each source and why each left-out address is not blocked', async () => {
    const r = await runCli(['investigate', '--since', '48h', '--mainlog', logs.mainlog, '--maillog', logs.maillog]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`mailbox ${EXPECT.alice}`);
    expect(r.stdout).toContain(`account ${EXPECT.account}`);
    expect(r.stdout).toMatch(new RegExp(`Not blocked:[\\s\\S]*${EXPECT.aliceOffice.replace(/\./g, '\\.')}  owner: read`));
    expect(r.stdout).toContain(`${SERVER_IP}  server: this server's own address`);
  });

  it('a log that starts inside the incident (no burst to see) still flags the mailbox; readers stay owners', async () => {
    const from = Date.parse(`${EXPECT.began}Z`) / 1000 + 3600;
    const cut = join(dir, 'exim_mainlog.cut');
    writeFileSync(cut, logs.lines.filter((l) => l.time >= from).map((l) => `${l.text}\n`).join(''));
    const mid = await investigate(['--mainlog', cut, '--maillog', logs.maillog]);
    const alice = mid.sources.find((s) => s.id === EXPECT.alice);
    expect(alice).toMatchObject({ kind: 'mailbox', began: null });
    expect(alice!.reasons.join(' ')).toMatch(/already from the start of the log/);
    expect(mid.ips).toContain(EXPECT.aliceAttackers[5]);
    expect(mid.ips).not.toContain(EXPECT.aliceOffice);
    expect(mid.not_blocked.find((n) => n.ip === EXPECT.aliceOffice)?.class).toBe('owner');
  });

  it('the window threshold scales down with a short --since: an incident caught in its first minutes', async () => {
    const until = Date.parse(`${EXPECT.began}Z`) / 1000 + 8 * 60;
    const early = join(dir, 'exim_mainlog.early');
    writeFileSync(early, logs.lines.filter((l) => l.time <= until).map((l) => `${l.text}\n`).join(''));
    const day = await investigate(['--mainlog', early, '--maillog', logs.maillog, '--since', '24h']);
    // 40 messages from the attackers so far: under 100 a day (the newsletter, seen once, is flagged on its own).
    expect(day.sources.map((s) => s.id)).not.toContain(EXPECT.alice);
    const recent = await investigate(['--mainlog', early, '--maillog', logs.maillog, '--since', '2h']);
    expect(recent.sources.map((s) => s.id)).toEqual([EXPECT.alice]);
    expect(recent.began).toBe(EXPECT.began);
    expect(recent.ips).not.toContain(EXPECT.aliceOffice);
  });

  it('a short --since still dates the incident from the whole log', async () => {
    const short = await investigate(['--mainlog', logs.mainlog, '--maillog', logs.maillog, '--since', '9h']);
    expect(short.began).toBe(EXPECT.began);
    expect(short.ips).not.toContain(EXPECT.aliceOffice);
  });

  it('without the maillog, an address that only read mail before cannot be told from an attacker', async () => {
    const noMaillog = await investigate(['--mainlog', logs.mainlog]);
    expect(noMaillog.ips).toContain(EXPECT.alicePhone);
    // The office is still the owner: it used the mailbox long before the incident.
    expect(noMaillog.not_blocked.find((n) => n.ip === EXPECT.aliceOffice)?.reason).toMatch(/before the incident began at 2026-12-07T03:17:05/);
    expect(noMaillog.ips).not.toContain(EXPECT.aliceOffice);
  });

  it('an allow-listed sender is neither purged nor reset, and a trusted proxy is never blocked', async () => {
    const allowed = await investigate(['--mainlog', logs.mainlog, '--maillog', logs.maillog, '--allow', EXPECT.bob, '--allow', EXPECT.aliceAttackers[3]!, '--trusted-proxy', '185.220.101.0/24']);
    expect(allowed.sources.map((s) => s.id)).toEqual([EXPECT.alice, EXPECT.account]);
    expect(allowed.senders).not.toContain(EXPECT.bob);
    expect(allowed.ips).not.toContain(EXPECT.aliceAttackers[3]);
    expect(allowed.not_blocked.find((n) => n.ip === EXPECT.aliceAttackers[3])?.class).toBe('allowed');
    const bad = await runCli(['investigate', '--json', '--mainlog', logs.mainlog, '--trusted-proxy', 'not-an-ip']);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/trusted_proxies: not-an-ip/);
  });
});
