import { describe, expect, it } from 'vitest';
import type { SourceActivity } from '../../src/investigate/activity.js';
import { atUsualVolume, burstingSince, burstOf } from '../../src/investigate/burst.js';

/** Activity from `[hour, count, ip?]` rows; an address's first use is its first row's hour. */
function activity(rows: [string, number, string?][]): SourceActivity {
  const act: SourceActivity = { total: 0, first: null, hours: new Map(), ips: new Map(), recipients: 0, uniqueRecipients: new Set() };
  for (const [hour, n, ip] of rows) {
    act.total += n;
    act.hours.set(hour, (act.hours.get(hour) ?? 0) + n);
    if (ip !== undefined) {
      const time = `${hour}:05:00`;
      const u = act.ips.get(ip) ?? { count: 0, first: time, last: time, hours: new Map<string, number>() };
      u.count += n;
      u.hours!.set(hour, (u.hours!.get(hour) ?? 0) + n);
      act.ips.set(ip, u);
    }
  }
  return act;
}

describe('bursts', () => {
  it('dates a burst from the first new address in its first elevated hour', () => {
    const act = activity([
      ['2026-12-06 09', 3, '198.51.100.10'], ['2026-12-06 14', 2, '198.51.100.10'],
      ['2026-12-07 03', 40, '45.33.1.1'], ['2026-12-07 04', 300, '45.33.2.2'], ['2026-12-07 04', 1, '198.51.100.10'],
    ]);
    const b = burstOf(act, '2026-12-06 00:00:00');
    expect(b).toMatchObject({ began: '2026-12-07 03:05:00', peak: 301 });
    expect(burstingSince(act.ips.get('45.33.2.2'), b!.began, b!.level)).toBe(true);
    expect(burstingSince(act.ips.get('198.51.100.10'), b!.began, b!.level)).toBe(false);
  });

  it('dates a run that dips to half its rate for two hours from its real start, not from after the dip', () => {
    // A quiet day, then a botnet's run of 12, 11, 6, 5, 12, 14, 10 an hour from addresses new at its start.
    const rows: [string, number, string?][] = [['2026-12-06 09', 1, '198.51.100.10'], ['2026-12-06 15', 1, '198.51.100.10']];
    for (const [i, n] of [12, 11, 6, 5, 12, 14, 10].entries()) rows.push([`2026-12-07 ${String(12 + i).padStart(2, '0')}`, n, `45.33.9.${i % 3}`]);
    const b = burstOf(activity(rows), '2026-12-06 00:00:00');
    expect(b).toMatchObject({ began: '2026-12-07 12:05:00', peak: 14 });
  });

  it('an address first seen after the burst\'s first hour does not date it (a run through webmail, then the owner\'s phone)', () => {
    const act = activity([
      ['2026-12-06 09', 3, '127.0.0.1'], ['2026-12-06 14', 2, '127.0.0.1'],
      ['2026-12-07 06', 60, '127.0.0.1'], ['2026-12-07 08', 1, '203.0.113.50'],
    ]);
    expect(burstOf(act, '2026-12-06 00:00:00')).toMatchObject({ began: '2026-12-07 06:00:00', peak: 60 });
  });

  it("a steady sender whose busiest hour falls in the log's first hours is compared with the hours after it", () => {
    // A shop's order mail: ~20 an hour for 36 hours, its busiest hour third; the log's first hour is partial.
    const rows: [string, number, string?][] = [['2026-12-05 11', 2]];
    for (let h = 12; h < 48; h++) rows.push([`2026-12-${String(5 + Math.floor(h / 24)).padStart(2, '0')} ${String(h % 24).padStart(2, '0')}`, h === 14 ? 30 : 15 + (h % 7)]);
    const steady = activity(rows);
    expect(burstOf(steady, '2026-12-05 11:50:00')).toBeNull();
    expect(atUsualVolume(steady, '2026-12-05 11:50:00')).toBe(true);
    // An incident early in the log that stops is still a burst against what follows.
    const early = activity([['2026-12-05 11', 2], ['2026-12-05 12', 300, '45.33.1.1'], ...Array.from({ length: 20 }, (_, i): [string, number] => [`2026-12-06 ${String(i).padStart(2, '0')}`, 2])]);
    expect(burstOf(early, '2026-12-05 11:50:00')).toMatchObject({ peak: 300 });
  });

  it('a daily newsletter from the same (no) addresses is its usual volume', () => {
    const act = activity([['2026-12-06 10', 150], ['2026-12-07 10', 150]]);
    expect(burstOf(act, '2026-12-06 00:00:00')).toBeNull();
    expect(atUsualVolume(act, '2026-12-06 00:00:00')).toBe(true);
    // Seen only once, there is no day of history to call it usual.
    expect(atUsualVolume(activity([['2026-12-07 10', 150]]), '2026-12-06 00:00:00')).toBe(false);
  });

  it('a burst already running where the log starts has no known start', () => {
    const act = activity([['2026-12-07 04', 300, '45.33.2.2'], ['2026-12-07 05', 280, '45.33.2.3']]);
    expect(burstOf(act, '2026-12-07 04:00:00')).toMatchObject({ began: null, peak: 300 });
  });
});
