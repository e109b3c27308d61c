import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/investigate/verdict.js';
import { runCli } from '../cli/run-cli.js';
import { HOUR, SmallLogs, T0 } from './small-logs.js';

/**
 * Credential stuffing run from a pool: eight stolen mailboxes of eight customers send one
 * subject through six addresses, each address only three or four messages (none a burst's
 * worth on its own) and none reading mail. People of two customers behind a carrier's NAT,
 * which they read their mail from, send a common subject from it too: not a campaign.
 */
describe('investigate --json: one campaign through a pool of addresses, each sending a little', () => {
  let dir: string;
  let v: Verdict;
  const victims = Array.from({ length: 8 }, (_, i) => `office@shop${i}.test`);
  const pool = Array.from({ length: 6 }, (_, i) => `45.83.${20 + i}.9`);
  const carrier = '198.51.100.77';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'runbook-campaign-pool-'));
    const logs = new SmallLogs();
    // The owners read and write from their own places before the run.
    for (const [i, box] of victims.entries()) {
      logs.imap(T0 + (2 + i) * HOUR, box, `203.0.113.${10 + i}`);
      logs.smtp(T0 + (2 + i) * HOUR + 60, { sender: box, ip: `203.0.113.${10 + i}`, authId: box, subject: `Order ${i}`, rcpts: ['client@remote.test'] });
    }
    // One of them is busy that afternoon itself: 40 messages from the office it reads mail from
    // all morning, in three hours.
    for (let h = 5; h < 12; h += 2) logs.imap(T0 + h * HOUR, victims[0]!, '203.0.113.10');
    for (let k = 0; k < 40; k++) logs.smtp(T0 + 12 * HOUR + k * 270, { sender: victims[0]!, ip: '203.0.113.10', authId: victims[0]!, subject: `Order ${k}`, rcpts: [`c${k}@remote.test`] });
    for (let k = 0; k < 22; k++) {
      const box = victims[(k * 3) % victims.length]!;
      logs.smtp(T0 + 14 * HOUR + k * 700, { sender: box, ip: pool[k % pool.length]!, authId: box, subject: 'A document was shared with you', rcpts: [`v${k}@victims.test`, `w${k}@victims.test`], helo: 'User' });
    }
    for (const box of ['anna@one.test', 'bert@two.test']) {
      logs.imap(T0 + 9 * HOUR, box, carrier);
      logs.smtp(T0 + 15 * HOUR, { sender: box, ip: carrier, authId: box, subject: 'Hello', rcpts: ['friend@remote.test'] });
      logs.smtp(T0 + 16 * HOUR, { sender: box, ip: carrier, authId: box, subject: 'Hello', rcpts: ['friend2@remote.test'] });
    }
    const files = logs.write(dir);
    const r = await runCli(['investigate', '--json', '--since', '24h', '--mainlog', files.mainlog, '--maillog', files.maillog]);
    expect(r.code, r.stderr).toBe(0);
    v = (JSON.parse(r.stdout) as { verdict: Verdict }).verdict;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names every stolen mailbox and blocks the whole pool', () => {
    expect(v.sources.map((s) => s.id).sort()).toEqual([...victims].sort());
    expect([...v.ips].sort()).toEqual([...pool].sort());
    expect(v.sources[0]!.reasons.join(' ')).toMatch(/one of 8 mailboxes of different customers sending "A document was shared with you" from the same 6 addresses/);
  });

  it("leaves the carrier's customers and the owners' own addresses alone", () => {
    expect(v.sources.map((s) => s.id)).not.toContain('anna@one.test');
    expect(v.ips).not.toContain(carrier);
    for (let i = 0; i < victims.length; i++) expect(v.ips).not.toContain(`203.0.113.${10 + i}`);
  });
});

/**
 * One customer's CRM sends its spring mailing as the mailboxes of the customer's three brand
 * domains through a pool of addresses that read no mail: one customer, not a campaign through
 * stolen passwords, once /etc/userdomains tells the three domains are one account's.
 */
describe("investigate --json: one customer's CRM sending as its three brand domains through a pool", () => {
  let dir: string;
  const boxes = ['news@brand-a.test', 'news@brand-b.test', 'news@brand-c.test'];
  const pool = Array.from({ length: 6 }, (_, i) => `52.10.${20 + i}.7`);
  async function verdict(accounts: boolean): Promise<Verdict> {
    const logs = new SmallLogs();
    for (const [i, box] of boxes.entries()) {
      logs.imap(T0 + (2 + i) * HOUR, box, '203.0.113.40');
      logs.smtp(T0 + (2 + i) * HOUR + 60, { sender: box, ip: '203.0.113.40', authId: box, subject: `Order ${i}`, rcpts: ['client@remote.test'] });
    }
    // The first brand's shop mails its orders from the office that afternoon: a lead whose history is read.
    for (let h = 5; h < 12; h += 2) logs.imap(T0 + h * HOUR, boxes[0]!, '203.0.113.40');
    for (let k = 0; k < 40; k++) logs.smtp(T0 + 12 * HOUR + k * 270, { sender: boxes[0]!, ip: '203.0.113.40', authId: boxes[0]!, subject: `Order ${k}`, rcpts: [`c${k}@remote.test`] });
    for (let k = 0; k < 22; k++) {
      // Each address of the pool sends as several of the brands.
      const box = boxes[Math.floor(k / pool.length) % boxes.length]!;
      logs.smtp(T0 + 14 * HOUR + k * 700, { sender: box, ip: pool[k % pool.length]!, authId: box, subject: 'Our spring collection', rcpts: [`s${k}@subscribers.test`, `t${k}@subscribers.test`] });
    }
    const files = logs.write(dir);
    const extra: string[] = [];
    if (accounts) {
      writeFileSync(join(dir, 'userdomains'), 'brand-a.test: brandco\nbrand-b.test: brandco\nbrand-c.test: brandco\n');
      mkdirSync(join(dir, 'users'), { recursive: true });
      writeFileSync(join(dir, 'users', 'brandco'), 'USER=brandco\nDNS=brand-a.test\n');
      extra.push('--cpanel-users', join(dir, 'users'), '--userdomains', join(dir, 'userdomains'));
    }
    const r = await runCli(['investigate', '--json', '--since', '24h', '--mainlog', files.mainlog, '--maillog', files.maillog, ...extra]);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { verdict: Verdict }).verdict;
  }
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'runbook-crm-pool-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is left alone when the accounts are known: one customer', async () => {
    const v = await verdict(true);
    expect(v.sources).toEqual([]);
    expect(v.ips).toEqual([]);
  });

  it('without the accounts, three domains are taken for three customers (the copies to give are in the README)', async () => {
    const v = await verdict(false);
    expect(v.sources.map((s) => s.id).sort()).toEqual(boxes);
  });
});
