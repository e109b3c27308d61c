import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ActivityCollector } from '../../src/investigate/activity.js';
import { readActivity } from '../../src/investigate/activity-read.js';
import { investigate } from '../../src/investigate/report.js';

/** An SMTP AUTH arrival line as cPanel's Exim logs it. */
function arrival(time: string, n: number, rcpts: string[]): string {
  return `${time} 1vXyZa-000${n}Ab-Cd <= kim@farm.test H=(User) [45.33.90.1]:50000 I=[192.0.2.10]:587 P=esmtpsa A=dovecot_login:kim@farm.test S=1200 id=${n}@mua T="Hello" for ${rcpts.join(' ')}`;
}

function hourly(lines: string[]): Map<string, number> {
  const c = new ActivityCollector(['kim@farm.test'], ['kim@farm.test']);
  for (const l of lines) c.mainlogLine(l);
  const facts = c.finish(2026);
  // The sender's count is the same as the login's.
  expect(facts.senders.get('kim@farm.test')?.hourlyRecipients).toEqual(facts.auth.get('kim@farm.test')?.hourlyRecipients);
  return facts.auth.get('kim@farm.test')!.hourlyRecipients!;
}

describe('distinct recipients per hour (ActivityCollector)', () => {
  it('counts each hour\'s distinct recipients, case-folded, a line out of order across the hour\'s turn in its own hour', () => {
    const counts = hourly([
      arrival('2026-12-06 10:59:58', 1, ['a@x.test', 'b@x.test', 'A@X.TEST']),
      arrival('2026-12-06 11:00:01', 2, ['a@x.test', 'c@x.test']),
      arrival('2026-12-06 10:59:59', 3, ['d@x.test', 'b@x.test']),
      arrival('2026-12-06 11:10:00', 4, ['e@x.test']),
    ]);
    expect(counts).toEqual(new Map([['2026-12-06 10', 3], ['2026-12-06 11', 3]]));
  });

  it('keeps two hours open; a line of an hour closed before counts afresh and the hour keeps its larger count, never more than the truth', () => {
    const counts = hourly([
      arrival('2026-12-06 10:00:00', 1, ['a@x.test', 'b@x.test', 'c@x.test', 'd@x.test', 'e@x.test']),
      arrival('2026-12-06 11:00:00', 2, ['a@x.test']),
      arrival('2026-12-06 12:00:00', 3, ['a@x.test']),
      // Hour 10 was closed when 12 opened: its five are forgotten, its count kept.
      arrival('2026-12-06 10:30:00', 4, ['a@x.test', 'f@x.test']),
    ]);
    // The truth is 6 (a-f); the count is 5, under it.
    expect(counts.get('2026-12-06 10')).toBe(5);
    expect(counts.get('2026-12-06 11')).toBe(1);
    expect(counts.get('2026-12-06 12')).toBe(1);
  });
});

describe('an arrival stamped with no real hour (a mangled line)', () => {
  it('is not counted: hour keys are times to the verdict, and one that is none stopped the whole investigation', async () => {
    const c = new ActivityCollector(['kim@farm.test'], ['kim@farm.test']);
    c.mainlogLine(arrival('2026-12-06 25:10:00', 1, ['a@x.test']));
    c.mainlogLine(arrival('2026-12-06 10:10:00', 2, ['b@x.test']));
    const facts = c.finish(2026);
    expect([...facts.auth.get('kim@farm.test')!.hours.keys()]).toEqual(['2026-12-06 10']);
    expect(facts.lastTime).toBe('2026-12-06 10:10:00');

    // The whole path: 60 such messages to 600 recipients give a verdict, not "Invalid time value".
    const dir = mkdtempSync(join(tmpdir(), 'runbook-mangled-hour-'));
    try {
      const lines = Array.from({ length: 60 }, (_, i) => arrival(`2026-12-06 25:${String(i).padStart(2, "0")}:00`, i % 10, Array.from({ length: 10 }, (_, k) => `p${i}-${k}@list.test`)));
      lines.push(arrival('2026-12-06 10:10:00', 2, ['b@x.test']));
      writeFileSync(join(dir, 'mainlog'), `${lines.join('\n')}\n`);
      await expect(investigate({ mainlog: join(dir, 'mainlog'), min_messages: 10 })).resolves.toMatchObject({ sources: expect.any(Array) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('distinct recipients per hour when the clocks go back (an hour lived twice)', () => {
  /** Ten messages of ten new recipients each from minute `from`, `step` minutes apart, in local hour 01 of 2026-10-25. */
  const pass = (from: number, tag: string, offset = ''): string[] => Array.from({ length: 10 }, (_, i) => {
    const mm = String(from + i * 5).padStart(2, '0');
    return arrival(`2026-10-25 01:${mm}:00${offset}`, i, Array.from({ length: 10 }, (_, k) => `${tag}${i}-${k}@x.test`));
  });

  it('without offsets, each pass of the hour has its own count, not their sum', () => {
    const counts = hourly([...pass(5, 'a'), ...pass(2, 'b'), arrival('2026-10-25 02:01:00', 9, ['z@x.test'])]);
    expect(counts).toEqual(new Map([['2026-10-25 01', 100], ['2026-10-25 01 again', 100], ['2026-10-25 02', 1]]));
  });

  it('with offsets, each absolute hour has its own count, through the line parser and through the history filter of a file', async () => {
    const lines = [...pass(5, 'a', ' +0100'), ...pass(2, 'b', ' +0000'), arrival('2026-10-25 02:01:00.123 +0000', 9, ['z@x.test'])];
    expect(hourly(lines)).toEqual(new Map([['2026-10-25 01', 100], ['2026-10-25 01 again', 100], ['2026-10-25 02', 1]]));
    const dir = mkdtempSync(join(tmpdir(), 'runbook-zoned-hours-'));
    try {
      writeFileSync(join(dir, 'mainlog'), `${lines.join('\n')}\n`);
      const { facts } = await readActivity({ authIds: ['kim@farm.test'], senders: ['kim@farm.test'] }, { mainlogs: [join(dir, 'mainlog')], maillogs: [] });
      expect(facts.auth.get('kim@farm.test')?.hourlyRecipients).toEqual(new Map([['2026-10-25 01', 100], ['2026-10-25 01 again', 100], ['2026-10-25 02', 1]]));
      expect(facts.auth.get('kim@farm.test')?.hours).toEqual(new Map([['2026-10-25 01', 10], ['2026-10-25 01 again', 10], ['2026-10-25 02', 1]]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an hour missing when the clocks go forward changes nothing', () => {
    const counts = hourly([
      arrival('2026-03-29 00:58:00', 1, ['a@x.test']),
      arrival('2026-03-29 02:00:01', 2, ['b@x.test', 'c@x.test']),
      arrival('2026-03-29 02:40:00', 3, ['d@x.test']),
    ]);
    expect(counts).toEqual(new Map([['2026-03-29 00', 1], ['2026-03-29 02', 3]]));
  });
});
