import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/investigate/verdict.js';
import { runCli } from '../cli/run-cli.js';
import { HOUR, SmallLogs, T0 } from './small-logs.js';

/**
 * A botnet checks the stolen password with one IMAP login per address shortly before it sends:
 * those addresses are attackers, not owners reading mail; the owner's phone, which reads mail
 * and sends one message during the incident, stays the owner's.
 */
describe('investigate --json: an IMAP password check before the run', () => {
  let dir: string;
  let v: Verdict;
  const office = '198.51.100.71';
  const phone = '198.51.100.72';
  const bots = Array.from({ length: 6 }, (_, i) => `45.33.${100 + i}.5`);
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'runbook-password-check-'));
    const logs = new SmallLogs();
    for (let h = 8; h < 18; h++) {
      logs.imap(T0 + h * HOUR, 'info@victim.test', office);
      logs.smtp(T0 + h * HOUR + 300, { sender: 'info@victim.test', ip: office, authId: 'info@victim.test', subject: `Quote ${h}`, rcpts: ['client@remote.test'] });
    }
    logs.imap(T0 + 19 * HOUR, 'info@victim.test', phone);
    logs.imap(T0 + 22 * HOUR, 'info@victim.test', phone);
    logs.smtp(T0 + 22 * HOUR + 100, { sender: 'info@victim.test', ip: phone, authId: 'info@victim.test', subject: 'Re: tomorrow', rcpts: ['friend@remote.test'] });
    for (const [i, ip] of bots.slice(0, 3).entries()) logs.imap(T0 + 19 * HOUR + i * 600, 'info@victim.test', ip);
    for (let i = 0; i < 300; i++) logs.smtp(T0 + 20 * HOUR + i * 20, { sender: 'info@victim.test', ip: bots[i % bots.length]!, authId: 'info@victim.test', subject: 'Payment confirmation required', rcpts: [`v${i}@victims.test`], helo: 'User' });
    const files = logs.write(dir);
    const r = await runCli(['investigate', '--json', '--since', '24h', '--mainlog', files.mainlog, '--maillog', files.maillog]);
    expect(r.code, r.stderr).toBe(0);
    v = (JSON.parse(r.stdout) as { verdict: Verdict }).verdict;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('blocks the addresses that checked the password and then sent, not the owner\'s', () => {
    expect(v.sources.map((s) => s.id)).toEqual(['info@victim.test']);
    expect([...v.ips].sort()).toEqual([...bots].sort());
    expect(v.not_blocked.find((n) => n.ip === phone)?.class).toBe('owner');
    expect(v.not_blocked.find((n) => n.ip === office)?.class).toBe('owner');
  });
});
