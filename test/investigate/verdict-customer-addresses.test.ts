import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/investigate/verdict.js';
import { runCli } from '../cli/run-cli.js';
import { HOUR, SmallLogs, T0 } from './small-logs.js';

/**
 * A customer's newsletter sent once a day from its office: one batch in a day's log, so it has
 * no history to compare with, but its only address is where the customer's people read their
 * mail. It is not a source; a mailbox whose password is used from elsewhere still is.
 */
describe('investigate --json: a newsletter from the customer\'s own office', () => {
  let dir: string;
  let v: Verdict;
  const office = '198.51.100.77';
  const bots = Array.from({ length: 6 }, (_, i) => `45.33.${20 + i}.9`);
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'runbook-customer-'));
    const logs = new SmallLogs();
    for (let h = 0; h < 26; h++) {
      if (h % 24 >= 8 && h % 24 < 18) {
        logs.imap(T0 + h * HOUR + 100, 'anna@shop.test', office);
        logs.smtp(T0 + h * HOUR + 200, { sender: 'anna@shop.test', ip: office, authId: 'anna@shop.test', subject: `Order ${h}`, rcpts: ['client@remote.test'] });
      }
    }
    for (let i = 0; i < 180; i++) logs.smtp(T0 + 10 * HOUR + Math.floor(i * 2.5), { sender: 'news@shop.test', ip: office, authId: 'news@shop.test', subject: 'News from shop.test: December', rcpts: [`s${i}@remote.test`], helo: 'NEWSLETTER-PC' });
    for (let i = 0; i < 240; i++) logs.smtp(T0 + 20 * HOUR + i * 40, { sender: 'info@farm.test', ip: bots[i % bots.length]!, authId: 'info@farm.test', subject: 'Payment confirmation required', rcpts: [`v${i}@victims.test`], helo: 'User' });
    const files = logs.write(dir);
    const r = await runCli(['investigate', '--json', '--since', '48h', '--mainlog', files.mainlog, '--maillog', files.maillog]);
    expect(r.code, r.stderr).toBe(0);
    v = (JSON.parse(r.stdout) as { verdict: Verdict }).verdict;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('does not name the newsletter, purge it or block the office', () => {
    expect(v.sources.map((s) => s.id)).toEqual(['info@farm.test']);
    expect(v.senders).not.toContain('news@shop.test');
    expect(v.auth_ids).toEqual(['info@farm.test']);
    expect(v.ips).not.toContain(office);
    expect(v.evidence.some((e) => e.detail.startsWith('news@shop.test sent 180 only from its owner\'s addresses'))).toBe(true);
  });

  it('still blocks every address of the stolen password', () => {
    expect([...v.ips].sort()).toEqual([...bots].sort());
  });
});
