import { describe, expect, it } from 'vitest';
import { offlineVerdicts } from './offline-verdict.js';
import { HOUR, SmallLogs, T0 } from './small-logs.js';

/**
 * A sales rep who reads mail from home all the previous day sends 130 offers one evening from
 * home (a mail merge), 40 an hour at most: a burst from an address that read the mailbox's mail
 * again and again before it. An address that logged in twice (a password check) and then
 * bursts is still the attacker's.
 */
const verdictOf = offlineVerdicts('busy-evening');

const box = 'paul@tours.test';
const office = '198.51.100.20';
const home = '198.51.100.21';

/** The day before: reads from home and office; the day itself: a few offers from the office, then 130 in the evening from `evening`. */
function rep(evening: string, eveningReads: number): SmallLogs {
  const logs = new SmallLogs();
  for (let h = 0; h < 20; h++) logs.imap(T0 + h * HOUR + 100, box, h % 2 === 0 ? home : office);
  for (let h = 2; h < 20; h += 4) logs.smtp(T0 + h * HOUR + 200, { sender: box, ip: home, authId: box, subject: `Re: booking ${h}`, rcpts: ['guest@remote.test'] });
  for (let i = 0; i < eveningReads; i++) logs.imap(T0 + 25 * HOUR + i * 60, box, evening);
  let k = 0;
  for (let h = 32; h < 38; h += 2) logs.smtp(T0 + h * HOUR, { sender: box, ip: office, authId: box, subject: `Offer ${k++}`, rcpts: [`lead${k}@remote.test`] });
  for (const [i, n] of [20, 30, 40, 40].entries()) for (let j = 0; j < n; j++, k++) logs.smtp(T0 + (39 + i) * HOUR + j * 85, { sender: box, ip: evening, authId: box, subject: `Offer ${k}`, rcpts: [`lead${k}@remote.test`] });
  return logs;
}

describe('investigate --json: a burst from an address with a long reading history', () => {
  it("is the owner's busy evening, not a source", async () => {
    const v = await verdictOf(rep(home, 0));
    expect(v.sources).toEqual([]);
    expect(v.ips).toEqual([]);
  });

  it("is the attacker's when the address only checked the password before bursting", async () => {
    const v = await verdictOf(rep('45.33.77.8', 2));
    expect(v.sources.map((s) => s.id)).toEqual([box]);
    expect(v.ips).toEqual(['45.33.77.8']);
  });
});
