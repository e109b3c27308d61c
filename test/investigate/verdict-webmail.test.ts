import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/investigate/verdict.js';
import { runCli } from '../cli/run-cli.js';
import { HOUR, SmallLogs, T0 } from './small-logs.js';

const stamp = (epoch: number): string => new Date(epoch * 1000).toISOString().slice(0, 19).replace('T', ' ');

/**
 * A mailbox taken over through webmail: Exim and Dovecot see only 127.0.0.1, the addresses are
 * in cpsrvd's session_log/login_log. The owner uses webmail too, from the office, all day.
 */
describe('investigate --json: a webmail takeover', () => {
  let dir: string;
  let files: { mainlog: string; maillog: string };
  let sessionLog: string;
  let loginLog: string;
  const box = 'info@victim.test';
  const office = '198.51.100.71';
  const attackers = ['45.33.100.5', '2a0b:4c1:9e2:7::a1'];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'runbook-webmail-'));
    const logs = new SmallLogs();
    const session: string[] = [];
    const login: string[] = [];
    const webLogin = (t: number, ip: string, user: string): void => {
      session.push(`[${stamp(t)} +0000] info [cpsrvd] ${ip} NEW ${user}:q8Vn2mL0xT${t} address=${ip},app=webmaild,creator=${user},method=handle_form_login,path=form,possessed=0`);
      login.push(`[${stamp(t)} +0000] info [webmaild] ${ip} - ${user} (possessor: victim) - SUCCESS LOGIN webmaild`);
    };
    for (let h = 8; h < 18; h++) {
      if (h % 3 === 2) webLogin(T0 + h * HOUR, office, box);
      logs.imap(T0 + h * HOUR + 60, 'office@victim.test', office);
      logs.smtp(T0 + h * HOUR + 300, { sender: box, ip: '127.0.0.1', authId: box, subject: `Quote ${h}`, rcpts: ['client@remote.test'], helo: 'localhost' });
    }
    // A password guesser's failed webmail login is not a login.
    login.push(`[${stamp(T0 + 18 * HOUR)} +0000] info [webmaild] 203.0.113.66 - ${box} "POST /login/?login_only=1 HTTP/1.1" FAILED LOGIN webmaild: user password incorrect`);
    for (const [i, ip] of attackers.entries()) webLogin(T0 + 19 * HOUR + 1200 + i * 300, ip, box);
    for (let i = 0; i < 300; i++) logs.smtp(T0 + 20 * HOUR + i * 20, { sender: box, ip: '127.0.0.1', authId: box, subject: 'Verify your mailbox now', rcpts: [`v${i}@victims.test`, `w${i}@victims.test`], helo: 'localhost' });
    files = logs.write(dir);
    sessionLog = join(dir, 'session_log');
    loginLog = join(dir, 'login_log');
    writeFileSync(sessionLog, `${session.sort().join('\n')}\n`);
    writeFileSync(loginLog, `${login.sort().join('\n')}\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (extra: string[]): Promise<{ code: number | null; v: Verdict & { problems: string[] } }> => {
    const r = await runCli(['investigate', '--json', '--since', '24h', '--mainlog', files.mainlog, '--maillog', files.maillog, ...extra]);
    return { code: r.code, v: (JSON.parse(r.stdout) as { verdict: Verdict & { problems: string[] } }).verdict };
  };

  it('with the webmail log, blocks the addresses that logged in to webmail just before the run, not the owner\'s office', async () => {
    for (const log of [sessionLog, loginLog]) {
      const { code, v } = await run(['--webmail-log', log]);
      expect(code).toBe(0);
      expect(v.sources.map((s) => s.id)).toEqual([box]);
      expect([...v.ips].sort()).toEqual([...attackers].sort());
      expect(v.ips).not.toContain('203.0.113.66');
      const officeEntry = v.not_blocked.find((n) => n.ip === office);
      expect(officeEntry?.class).toBe('owner');
      expect(officeEntry?.reason).toMatch(/webmail/);
      expect(v.problems).toEqual([]);
    }
  });

  it('without it, says the webmail log was not read and where it is, and blocks nothing it cannot see', async () => {
    const { code, v } = await run([]);
    expect(code).toBe(1);
    expect(v.sources.map((s) => s.id)).toEqual([box]);
    expect(v.ips).toEqual([]);
    expect(v.problems.join('\n')).toMatch(/info@victim\.test sent \d+ through webmail .*session_log and login_log.*--webmail-log/);
  });
});

/** The owner opens webmail for the first time that day half an hour before a botnet's SMTP run. */
describe('investigate --json: the owner in webmail before an SMTP run', () => {
  let dir: string;
  let v: Verdict;
  const box = 'sales@victim.test';
  const owner = '198.51.100.88';
  const bots = Array.from({ length: 6 }, (_, i) => `45.33.${110 + i}.5`);
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'runbook-webmail-owner-'));
    const logs = new SmallLogs();
    for (let h = 8; h < 18; h++) logs.smtp(T0 + h * HOUR, { sender: box, ip: '198.51.100.71', authId: box, subject: `Offer ${h}`, rcpts: ['client@remote.test'] });
    const t = T0 + 19 * HOUR + 1800;
    const session = `[${stamp(t)} +0000] info [cpsrvd] ${owner} NEW ${box}:Zq81xPw0 address=${owner},app=webmaild,creator=${box},method=handle_form_login,path=form,possessed=0\n`;
    logs.smtp(t + 600, { sender: box, ip: '127.0.0.1', authId: box, subject: 'Re: offer', rcpts: ['client@remote.test'], helo: 'localhost' });
    for (let i = 0; i < 300; i++) logs.smtp(T0 + 20 * HOUR + i * 20, { sender: box, ip: bots[i % bots.length]!, authId: box, subject: 'Invoice attached', rcpts: [`v${i}@victims.test`], helo: 'User' });
    const files = logs.write(dir);
    writeFileSync(join(dir, 'session_log'), session);
    const r = await runCli(['investigate', '--json', '--since', '24h', '--mainlog', files.mainlog, '--maillog', files.maillog, '--webmail-log', join(dir, 'session_log')]);
    expect(r.code, r.stderr).toBe(0);
    v = (JSON.parse(r.stdout) as { verdict: Verdict }).verdict;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('blocks the botnet, not the address that opened webmail: the run did not come through webmail', () => {
    expect([...v.ips].sort()).toEqual([...bots].sort());
    const o = v.not_blocked.find((n) => n.ip === owner);
    expect(o?.class).toBe('owner');
    expect(o?.reason).toMatch(/did not come through webmail/);
  });
});
