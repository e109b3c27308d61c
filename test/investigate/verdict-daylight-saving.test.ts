import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/investigate/verdict.js';
import { runCli } from '../cli/run-cli.js';
import { HOUR, SmallLogs } from './small-logs.js';

/**
 * Distinct recipients per hour across daylight-saving changes, through `investigate --json`.
 * Exim stamps lines with the local wall clock (with the zone's offset only under log_timezone):
 * when the clocks go back an hour is lived twice, and the two passes counted as one hour made a
 * mailbox sending 350 distinct recipients in each a false 700. The logs are built in UTC and
 * written in a real zone's wall-clock time.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const SPLIT = 'kim@farm.test';
const FLOOD = 'lea@print.test';
const OFFICES: Record<string, string> = { [SPLIT]: '198.51.100.81', [FLOOD]: '198.51.100.82' };
const SPLIT_BOT = '45.33.80.9';
const FLOOD_BOTS = ['45.33.81.1', '45.33.82.1', '45.33.83.1'];

/** `epoch` as `YYYY-MM-DD HH:MM:SS` on the wall clock of `zone`, and that zone's offset then (`+0100`). */
function wallClock(epoch: number, zone: string): { text: string; offset: string } {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(epoch * 1000)).map((p) => [p.type, p.value]));
  const text = `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
  const minutes = (Date.parse(`${text.replace(' ', 'T')}Z`) / 1000 - epoch) / 60;
  const abs = Math.abs(minutes);
  return { text, offset: `${minutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}` };
}

/** The logs written in `zone`'s wall-clock time, the main log's lines with its offset when `withOffset` (log_timezone). */
function writeZoned(logs: SmallLogs, zone: string, withOffset: boolean): { mainlog: string; maillog: string } {
  const dir = mkdtempSync(join(tmpdir(), 'runbook-dst-'));
  dirs.push(dir);
  const byTime = <T extends { time: number }>(rows: T[]): T[] => [...rows].sort((a, b) => a.time - b.time);
  const main = byTime(logs.main).map((l) => {
    const w = wallClock(l.time, zone);
    return `${w.text}${withOffset ? ` ${w.offset}` : ''}${l.text.slice(19)}\n`;
  });
  const mail = byTime(logs.mail).map((l) => {
    const w = wallClock(l.time, zone).text;
    const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][Number(w.slice(5, 7)) - 1]!;
    return `${mon} ${String(Number(w.slice(8, 10))).padStart(2, ' ')} ${w.slice(11)}${l.text.slice(15)}\n`;
  });
  writeFileSync(join(dir, 'exim_mainlog'), main.join(''));
  writeFileSync(join(dir, 'maillog'), mail.join(''));
  return { mainlog: join(dir, 'exim_mainlog'), maillog: join(dir, 'maillog') };
}

/**
 * Around `change` (the UTC instant the clocks change): both owners write and read mail from
 * their offices the day before; kim sends 350 distinct recipients in the hour before the change
 * and 350 in the hour after from one new address; lea 600 in the hour after from three.
 */
function incident(change: number): SmallLogs {
  const logs = new SmallLogs();
  for (const mailbox of [SPLIT, FLOOD]) {
    for (let h = 14; h >= 4; h -= 2) {
      const t = change - h * HOUR;
      const id = logs.smtp(t + 120, { sender: mailbox, ip: OFFICES[mailbox]!, authId: mailbox, subject: `Quote ${h}`, rcpts: ['client@remote.test'] });
      logs.outcome(t + 121, id, '=>', 'client@remote.test');
      logs.imap(t + 60, mailbox, OFFICES[mailbox]!);
    }
  }
  for (const [from, tag] of [[change - HOUR, 'a'], [change, 'b']] as const) {
    for (let i = 0; i < 35; i++) {
      const t = from + 30 + i * 100;
      const rcpts = Array.from({ length: 10 }, (_, k) => `${tag}${i}-${k}@prospects.test`);
      const id = logs.smtp(t, { sender: SPLIT, ip: SPLIT_BOT, authId: SPLIT, subject: 'Your invoice is attached', rcpts, helo: 'User' });
      for (const r of rcpts) logs.outcome(t + 1, id, '=>', r);
    }
  }
  for (let i = 0; i < 60; i++) {
    const t = change + 45 + i * 55;
    const rcpts = Array.from({ length: 10 }, (_, k) => `p${i}-${k}@leads.test`);
    const id = logs.smtp(t, { sender: FLOOD, ip: FLOOD_BOTS[i % 3]!, authId: FLOOD, subject: 'Document shared with you', rcpts, helo: 'User' });
    for (const r of rcpts) logs.outcome(t + 1, id, '=>', r);
  }
  return logs;
}

type Found = Verdict & { problems: string[] };

async function verdictOf(files: { mainlog: string; maillog: string }): Promise<Found> {
  const r = await runCli(['investigate', '--json', '--since', '24h', '--mainlog', files.mainlog, '--maillog', files.maillog]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { verdict: Found }).verdict;
}

describe('investigate --json: distinct recipients per hour when the clocks change', () => {
  // Europe/London goes back at 01:00 UTC (02:00 BST → 01:00 GMT); America/New_York at 06:00 UTC (02:00 EDT → 01:00 EST).
  const cases = [
    { name: 'Europe/London, no offsets in the log (Exim\'s default)', zone: 'Europe/London', change: Date.UTC(2026, 9, 25, 1) / 1000, withOffset: false, hour: '2026-10-25T01:00:00' },
    { name: 'America/New_York, offsets in the log (log_timezone)', zone: 'America/New_York', change: Date.UTC(2026, 10, 1, 6) / 1000, withOffset: true, hour: '2026-11-01T01:00:00' },
  ];
  for (const c of cases) {
    it(`${c.name}: the hour lived twice is two hours; 350 in each is no flag, 600 in the second pass is`, async () => {
      const files = writeZoned(incident(c.change), c.zone, c.withOffset);
      const v = await verdictOf(files);
      expect(v.problems).toEqual([]);
      expect(v.sources.map((s) => s.id)).toEqual([FLOOD]);
      const s = v.sources[0]!;
      expect(s.counts).toMatchObject({ peak_unique_recipients_per_hour: 600, peak_unique_recipients_hour: c.hour });
      expect(s.reasons[0]).toBe(`600 distinct recipients in one hour (${c.hour}, its second pass after the clocks went back), at or over 500 (cPanel's outbound spam threshold), sent that hour from addresses new to it that did not read its mail (a login or two at most)`);
      expect([...v.ips].sort()).toEqual(FLOOD_BOTS);
      expect(v.auth_ids).toEqual([FLOOD]);
      expect(v.ips).not.toContain(SPLIT_BOT);
    });
  }

  it('Europe/London, when the clocks go forward: the missing hour breaks nothing and the flood after it is flagged in its own hour', async () => {
    // 01:00 GMT → 02:00 BST at 01:00 UTC: local 01:00–01:59 does not exist.
    const files = writeZoned(incident(Date.UTC(2026, 2, 29, 1) / 1000), 'Europe/London', false);
    const v = await verdictOf(files);
    expect(v.problems).toEqual([]);
    expect(v.sources.map((s) => s.id)).toEqual([FLOOD]);
    expect(v.sources[0]!.counts).toMatchObject({ peak_unique_recipients_per_hour: 600, peak_unique_recipients_hour: '2026-03-29T02:00:00' });
    expect(v.sources[0]!.reasons[0]).toMatch(/^600 distinct recipients in one hour \(2026-03-29T02:00:00\), at or over 500/);
    expect([...v.ips].sort()).toEqual(FLOOD_BOTS);
  });
});
