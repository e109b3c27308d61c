import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/investigate/verdict.js';
import { runCli } from '../cli/run-cli.js';
import { HOUR, SmallLogs, T0 } from './small-logs.js';

/**
 * A mailer dropped in a site sends 40 messages over the afternoon (under the window's
 * minimum) as a sender new to the log, to new people each time, a quarter of them failing.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function verdictOf(logs: SmallLogs): Promise<Verdict> {
  const dir = mkdtempSync(join(tmpdir(), 'runbook-quiet-dir-'));
  dirs.push(dir);
  const files = logs.write(dir);
  const r = await runCli(['investigate', '--json', '--since', '24h', '--mainlog', files.mainlog, '--maillog', files.maillog]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { verdict: Verdict }).verdict;
}

const mailer = '/home/caterer/public_html/wp-content/themes/astra/inc/compat';

function day(o: { from: number; fail: boolean }): SmallLogs {
  const logs = new SmallLogs();
  // Ordinary mail through the day, from the log's first hour.
  for (let h = 0; h < 22; h++) logs.smtp(T0 + h * HOUR + 60, { sender: 'anna@caterer.test', ip: '198.51.100.8', authId: 'anna@caterer.test', subject: `Menu ${h}`, rcpts: ['client@remote.test'] });
  for (let k = 0; k < 40; k++) {
    const t = T0 + o.from * HOUR + k * 900;
    const rcpts = [`p${k}@victims.test`, `q${k}@victims.test`];
    logs.local(t, { cwd: mailer, sender: 'promo@caterer.test', user: 'caterer', subject: 'Your parcel is waiting', rcpts });
  }
  if (o.fail) {
    // A quarter of the recipients failed for good: the outcome lines of every fourth message.
    const ids = logs.main.filter((l) => l.text.includes('<= promo@caterer.test')).map((l) => ({ time: l.time, id: l.text.split(' ')[2]! }));
    for (const [k, m] of ids.entries()) if (k % 2 === 0) logs.outcome(m.time + 5, m.id, '**', `p${k}@victims.test`);
  }
  return logs;
}

describe('investigate --json: a mailer directory under the window minimum', () => {
  it('is flagged when its sender is new to the log and its mail bounces', async () => {
    const v = await verdictOf(day({ from: 13, fail: true }));
    expect(v.directories.map((d) => d.path)).toEqual([mailer]);
    expect(v.senders).toContain('promo@caterer.test');
  });

  it('is left alone when its recipients accepted the mail', async () => {
    const v = await verdictOf(day({ from: 13, fail: false }));
    expect(v.directories).toEqual([]);
    expect(v.senders).toEqual([]);
  });

  it('is left alone when its sender already sent in the log’s first half day', async () => {
    const v = await verdictOf(day({ from: 2, fail: true }));
    expect(v.directories).toEqual([]);
    expect(v.senders).toEqual([]);
  });
});
