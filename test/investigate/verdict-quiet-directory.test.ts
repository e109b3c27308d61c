import { describe, expect, it } from 'vitest';
import { offlineVerdicts } from './offline-verdict.js';
import { HOUR, SmallLogs, T0 } from './small-logs.js';

/**
 * A mailer dropped in a site sends 40 messages over the afternoon (under the window's
 * minimum) as a sender new to the log, to new people each time, a quarter of them failing.
 */
const verdictOf = offlineVerdicts('quiet-dir');

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
