import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/investigate/verdict.js';
import { runCli } from '../cli/run-cli.js';
import { SmallLogs, T0 } from './small-logs.js';

/**
 * cPanel mails a cron job's output from the account's home to the account's contact address;
 * when that address no longer exists, every run's mail fails for good, all day long.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('investigate --json: cron output to a contact address that no longer exists', () => {
  it('is not a failing script: the same recipient every time is no harvested list', async () => {
    const logs = new SmallLogs();
    for (let k = 0; k < 96; k++) {
      const t = T0 + k * 900;
      const id = logs.local(t, { cwd: '/home/caterer', sender: 'caterer@server.example', user: 'caterer', subject: 'Cron <caterer@server> /usr/local/bin/php /home/caterer/public_html/wp-cron.php', rcpts: ['old-owner@gone.test'] });
      logs.outcome(t + 5, id, '**', 'old-owner@gone.test');
    }
    const dir = mkdtempSync(join(tmpdir(), 'runbook-failing-cron-'));
    dirs.push(dir);
    const files = logs.write(dir);
    const r = await runCli(['investigate', '--json', '--since', '24h', '--mainlog', files.mainlog, '--maillog', files.maillog]);
    expect(r.code, r.stderr).toBe(0);
    const v = (JSON.parse(r.stdout) as { verdict: Verdict }).verdict;
    expect(v.directories).toEqual([]);
    expect(v.scripts).toEqual([]);
    expect(v.senders).toEqual([]);
  });
});
