import { describe, expect, it } from 'vitest';
import { offlineVerdicts } from './offline-verdict.js';
import { HOUR, SmallLogs, T0 } from './small-logs.js';

/**
 * A run under the window's minimum (70 messages in 24 h) against a mailbox's own quiet
 * history, its hourly count dipping to half its rate for two hours as a botnet's does.
 */
const verdictOf = offlineVerdicts('low-burst');

const box = 'sophie@garden.test';
const home = '198.51.100.44';
const perHour = [12, 11, 6, 5, 12, 14, 10];

/** The owner's day before, then `perHour` messages an hour from `ips` from T0 + 12 h. */
function run(ips: string[], o: { rcpts: (k: number) => string[]; fail: (k: number) => boolean; flag?: '**' | '==' }): SmallLogs {
  const logs = new SmallLogs();
  for (let h = 1; h < 11; h += 3) {
    logs.imap(T0 + h * HOUR, box, home);
    logs.smtp(T0 + h * HOUR + 30, { sender: box, ip: home, authId: box, subject: `Re: order ${h}`, rcpts: ['client@remote.test'] });
  }
  let k = 0;
  for (const [i, n] of perHour.entries()) {
    for (let j = 0; j < n; j++, k++) {
      const t = T0 + (12 + i) * HOUR + j * Math.floor(3000 / n);
      const rcpts = o.rcpts(k);
      const id = logs.smtp(t, { sender: box, ip: ips[k % ips.length]!, authId: box, subject: '=?UTF-8?B?SWhyZSBaYWhsdW5nIHd1cmRlIGFiZ2VsZWhudA==?=', rcpts, helo: 'User' });
      for (const r of rcpts) logs.outcome(t + 5, id, o.fail(k) ? o.flag ?? '**' : '=>', r);
    }
  }
  return logs;
}

describe('investigate --json: a burst under the window minimum', () => {
  const bots = ['45.83.30.1', '45.83.31.7', '45.83.32.9'];

  it('is a source when strangers sent it to new people each time and a fifth of them failed', async () => {
    const v = await verdictOf(run(bots, { rcpts: (k) => [`a${k}@victims.test`, `b${k}@victims.test`], fail: (k) => k % 5 === 0 }));
    expect(v.sources.map((s) => s.id)).toEqual([box]);
    expect([...v.ips].sort()).toEqual([...bots].sort());
    expect(v.not_blocked.find((n) => n.ip === home)?.class).toBe('owner');
  });

  it('is not a source when a new server writes to the same staff again and again', async () => {
    const staff = Array.from({ length: 8 }, (_, i) => `staff${i}@garden.test`);
    const v = await verdictOf(run(['203.0.113.90'], { rcpts: (k) => [staff[k % 8]!, staff[(k + 3) % 8]!], fail: () => false }));
    expect(v.sources).toEqual([]);
    expect(v.ips).toEqual([]);
  });

  it('is not a source when its recipients accepted it', async () => {
    const v = await verdictOf(run(bots, { rcpts: (k) => [`a${k}@remote.test`], fail: () => false }));
    expect(v.sources).toEqual([]);
  });

  it('is not a source when its mail to new people was only deferred (greylisting), not refused', async () => {
    const v = await verdictOf(run(bots, { rcpts: (k) => [`a${k}@victims.test`, `b${k}@victims.test`], fail: (k) => k % 5 === 0, flag: '==' }));
    expect(v.sources).toEqual([]);
    expect(v.ips).toEqual([]);
  });
});
