import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/investigate/verdict.js';
import { runCli } from '../cli/run-cli.js';
import { HOUR, SmallLogs, T0 } from './small-logs.js';

/** Incidents under the volume threshold or without a burst, told apart from busy owners. */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function verdictOf(logs: SmallLogs, since: string): Promise<Verdict> {
  const dir = mkdtempSync(join(tmpdir(), 'runbook-low-slow-'));
  dirs.push(dir);
  const files = logs.write(dir);
  const r = await runCli(['investigate', '--json', '--since', since, '--mainlog', files.mainlog, '--maillog', files.maillog]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { verdict: Verdict }).verdict;
}

describe('investigate --json: low and slow', () => {
  it('a week of steady drip from a dozen addresses is a source; a busy owner at the same steady volume is not', async () => {
    const logs = new SmallLogs();
    const bots = Array.from({ length: 12 }, (_, i) => `45.33.${60 + i}.3`);
    const busy = ['198.51.100.31', '198.51.100.32', '198.51.100.33'];
    for (let d = 0; d < 7; d++) {
      for (let i = 0; i < 45; i++) logs.smtp(T0 + d * 24 * HOUR + HOUR + i * 1700, { sender: 'sam@drip.test', ip: bots[(d * 45 + i) % bots.length]!, authId: 'sam@drip.test', subject: 'Your account statement is ready', rcpts: [`v${d}-${i}@victims.test`], helo: 'User' });
      for (let i = 0; i < 50; i++) logs.smtp(T0 + d * 24 * HOUR + HOUR + i * 1500, { sender: 'max@busy.test', ip: busy[i % 3]!, authId: 'max@busy.test', subject: `Quote ${d}-${i}`, rcpts: ['client@remote.test'] });
      for (const [k, ip] of busy.entries()) logs.imap(T0 + d * 24 * HOUR + (8 + k) * HOUR, 'max@busy.test', ip);
    }
    const v = await verdictOf(logs, '7d');
    expect(v.sources.map((s) => s.id)).toEqual(['sam@drip.test']);
    expect(v.sources[0]!.reasons.join(' ')).toContain('steady volume, but from 12 addresses that never read its mail');
    expect([...v.ips].sort()).toEqual([...bots].sort());
    expect(v.auth_ids).toEqual(['sam@drip.test']);
  });
});
