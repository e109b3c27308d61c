import { describe, expect, it } from 'vitest';
import { offlineVerdicts } from './offline-verdict.js';
import { HOUR, SmallLogs, T0 } from './small-logs.js';

/**
 * A mailer dropped in wp-includes sends 40 messages over the afternoon (under the window's
 * minimum) as the account's default sender, which the site's contact form has used since the
 * log's first hour: the sender is not new, the directory is.
 */
const verdictOf = offlineVerdicts('new-dir');

const sender = 'caterer@server.example';
const form = '/home/caterer/public_html';
const mailer = '/home/caterer/public_html/wp-includes/Requests/src';

function day(o: { from: number; fail: 'failures' | 'deferrals' | 'none'; to: 'strangers' | 'owner' }): SmallLogs {
  const logs = new SmallLogs();
  // The contact form writes to the site's owner through the day, from the log's first hour.
  for (let h = 0; h < 22; h++) logs.local(T0 + h * HOUR + 60, { cwd: form, sender, user: 'caterer', subject: `Contact form ${h}`, rcpts: ['owner@caterer.test'] });
  for (let k = 0; k < 40; k++) {
    const t = T0 + o.from * HOUR + k * 900;
    const rcpts = o.to === 'strangers' ? [`p${k}@victims.test`, `q${k}@victims.test`] : ['owner@caterer.test'];
    const id = logs.local(t, { cwd: mailer, sender, user: 'caterer', subject: 'Your parcel is waiting', rcpts });
    // Every other message has a recipient failed for good, or deferred: a quarter of them.
    if (o.fail !== 'none' && k % 2 === 0) logs.outcome(t + 5, id, o.fail === 'failures' ? '**' : '==', rcpts[0]!);
  }
  return logs;
}

describe('investigate --json: a new mailer directory that sends as the account’s usual sender', () => {
  it('is flagged when it first mailed well into the log, to new people, and its mail bounces', async () => {
    const v = await verdictOf(day({ from: 13, fail: 'failures', to: 'strangers' }));
    expect(v.directories.map((d) => d.path)).toEqual([mailer]);
    expect(v.evidence.map((e) => e.detail)).toContain(`40 messages submitted from ${mailer}, a directory that first mailed at 2026-12-06 13:00:00, well into the log`);
  });

  it('is left alone when it already mailed in the log’s first half day', async () => {
    const v = await verdictOf(day({ from: 2, fail: 'failures', to: 'strangers' }));
    expect(v.directories).toEqual([]);
    expect(v.senders).toEqual([]);
  });

  it('is left alone when its recipients accepted the mail', async () => {
    const v = await verdictOf(day({ from: 13, fail: 'none', to: 'strangers' }));
    expect(v.directories).toEqual([]);
    expect(v.senders).toEqual([]);
  });

  it('is left alone when its mail to new people is only deferred (greylisting a new newsletter), not refused', async () => {
    const v = await verdictOf(day({ from: 13, fail: 'deferrals', to: 'strangers' }));
    expect(v.directories).toEqual([]);
    expect(v.senders).toEqual([]);
  });

  it('is left alone when it writes to the site’s owner, as a new form would, however deferred', async () => {
    const v = await verdictOf(day({ from: 13, fail: 'deferrals', to: 'owner' }));
    expect(v.directories).toEqual([]);
    expect(v.senders).toEqual([]);
  });

  it('is left alone when it mailed the same way on the days before a --since window that starts after the log', async () => {
    // A nightly digest run by cron in its own directory, to a list with dead addresses in it:
    // three days of log, a 24-hour window; in the window it first mails 16 hours in.
    const logs = new SmallLogs();
    const digest = '/home/caterer/digest';
    for (let h = 0; h < 70; h++) logs.local(T0 + h * HOUR + 60, { cwd: form, sender, user: 'caterer', subject: `Contact form ${h}`, rcpts: ['owner@caterer.test'] });
    for (const d of [0, 1, 2]) {
      for (let k = 0; k < 40; k++) {
        const t = T0 + (d * 24 + 14) * HOUR + k * 30;
        const id = logs.local(t, { cwd: digest, sender, user: 'caterer', subject: 'Today at the caterer', rcpts: [`s${k}@subscribers.test`] });
        if (k % 4 === 0) logs.outcome(t + 5, id, '**', `s${k}@subscribers.test`);
      }
    }
    const v = await verdictOf(logs);
    expect(v.directories).toEqual([]);
    expect(v.senders).toEqual([]);
  });
});
