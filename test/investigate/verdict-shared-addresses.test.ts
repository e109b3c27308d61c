import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/investigate/verdict.js';
import { runCli } from '../cli/run-cli.js';
import { HOUR, SmallLogs, T0 } from './small-logs.js';

/**
 * During a botnet's run the owner writes once from a new IPv6 privacy address of the home /64
 * it reads mail from, and once from the phone's carrier address, a CGNAT egress other
 * customers' people read their mail from. Neither is the attacker's.
 */
describe('investigate --json: owners behind rotating IPv6 and carrier NAT addresses', () => {
  let dir: string;
  let v: Verdict;
  const box = 'info@victim.test';
  const home = ['2001:db8:77:5:a1b2:c3d4:e5f6:1', '2001:db8:77:5:9e8d:7c6b:5a49:2', '2001:db8:77:5:1357:9bdf:2468:3'];
  const homeDuringIncident = '2001:db8:77:5:dead:beef:1:4';
  const carrier = '198.51.100.90';
  const bots = Array.from({ length: 6 }, (_, i) => `45.33.${100 + i}.5`);
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'runbook-shared-addresses-'));
    const logs = new SmallLogs();
    for (const [i, ip] of home.entries()) logs.imap(T0 + (8 + i * 3) * HOUR, box, ip);
    for (let h = 9; h < 18; h += 2) logs.smtp(T0 + h * HOUR, { sender: box, ip: home[h % 3]!, authId: box, subject: `Quote ${h}`, rcpts: ['client@remote.test'] });
    for (const other of ['anna@one.test', 'bert@two.test', 'carl@three.test']) logs.imap(T0 + 12 * HOUR, other, carrier);
    for (let i = 0; i < 300; i++) logs.smtp(T0 + 20 * HOUR + i * 20, { sender: box, ip: bots[i % bots.length]!, authId: box, subject: 'Payment confirmation required', rcpts: [`v${i}@victims.test`], helo: 'User' });
    logs.smtp(T0 + 21 * HOUR, { sender: box, ip: homeDuringIncident, authId: box, subject: 'Re: tomorrow', rcpts: ['friend@remote.test'] });
    logs.smtp(T0 + 21 * HOUR + 600, { sender: box, ip: carrier, authId: box, subject: 'Sent from my phone', rcpts: ['friend@remote.test'] });
    const files = logs.write(dir);
    const r = await runCli(['investigate', '--json', '--since', '24h', '--mainlog', files.mainlog, '--maillog', files.maillog]);
    expect(r.code, r.stderr).toBe(0);
    v = (JSON.parse(r.stdout) as { verdict: Verdict }).verdict;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('blocks the botnet only', () => {
    expect(v.sources.map((s) => s.id)).toEqual([box]);
    expect([...v.ips].sort()).toEqual([...bots].sort());
  });

  it("keeps the new address of the owner's /64 and the carrier's shared address, saying why", () => {
    const six = v.not_blocked.find((n) => n.ip === homeDuringIncident);
    expect(six?.class).toBe('owner');
    expect(six?.reason).toMatch(/2001:db8:77:5::\/64.*rotate inside their \/64/);
    const shared = v.not_blocked.find((n) => n.ip === carrier);
    expect(shared?.class).toBe('owner');
    expect(shared?.reason).toMatch(/shared address: 3 mailboxes of other customers/);
  });
});
