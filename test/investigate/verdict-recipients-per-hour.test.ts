import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/investigate/verdict.js';
import { runCli } from '../cli/run-cli.js';
import { offlineVerdicts } from './offline-verdict.js';
import { HOUR, SmallLogs, T0 } from './small-logs.js';

/** Distinct recipients per hour, cPanel's own outbound spam measure: a signal of its own. */
const investigateOffline = offlineVerdicts('recipients');
const verdictOf = (logs: SmallLogs, extra: string[] = []): Promise<Verdict> => investigateOffline(logs, '24h', extra);

/** An owner writing a few messages a day from the office, and reading mail there. */
function owner(logs: SmallLogs, mailbox: string, office: string): void {
  for (let h = 8; h < 18; h += 2) {
    const id = logs.smtp(T0 + h * HOUR + 120, { sender: mailbox, ip: office, authId: mailbox, subject: `Quote ${h}`, rcpts: ['client@remote.test'] });
    logs.outcome(T0 + h * HOUR + 121, id, '=>', 'client@remote.test');
    logs.imap(T0 + h * HOUR + 60, mailbox, office);
  }
}

/** 60 messages of 10 distinct recipients each in one hour (600 distinct), from `ips` in turn. */
function sixHundredInAnHour(logs: SmallLogs, mailbox: string, ips: string[], subject: string, at = T0 + 20 * HOUR): void {
  for (let i = 0; i < 60; i++) {
    const t = at + i * 55;
    const rcpts = Array.from({ length: 10 }, (_, k) => `p${i}-${k}@prospects.test`);
    const id = logs.smtp(t, { sender: mailbox, ip: ips[i % ips.length]!, authId: mailbox, subject, rcpts, helo: 'User' });
    for (const r of rcpts) logs.outcome(t + 1, id, '=>', r);
  }
}

describe('investigate --json: distinct recipients per hour', () => {
  const bots = ['45.33.80.1', '45.33.81.1', '45.33.82.1'];
  const office = '198.51.100.71';

  it('a mailbox sending 60 messages to 600 distinct recipients in one hour, under every other threshold, is a source; the peak hour is in its counts and reasons', async () => {
    const logs = new SmallLogs();
    owner(logs, 'lea@print.test', office);
    sixHundredInAnHour(logs, 'lea@print.test', bots, 'Your invoice is attached');
    const v = await verdictOf(logs);
    expect(v.sources.map((s) => s.id)).toEqual(['lea@print.test']);
    const s = v.sources[0]!;
    expect(s.counts).toMatchObject({ sent: 65, peak_unique_recipients_per_hour: 600, peak_unique_recipients_hour: '2026-12-06T20:00:00' });
    expect(s.reasons[0]).toBe("600 distinct recipients in one hour (2026-12-06T20:00:00), at or over 500 (cPanel's outbound spam threshold), sent that hour from addresses new to it that did not read its mail (a login or two at most)");
    expect([...v.ips].sort()).toEqual(bots);
    expect(v.not_blocked.map((n) => n.ip)).toContain(office);
    expect(v.auth_ids).toEqual(['lea@print.test']);
    expect(v.thresholds.unique_recipients_per_hour).toBe(500);
  });

  it('the threshold is the operator\'s: raised over the peak, the same mailbox is not flagged', async () => {
    const logs = new SmallLogs();
    owner(logs, 'lea@print.test', office);
    sixHundredInAnHour(logs, 'lea@print.test', bots, 'Your invoice is attached');
    const v = await verdictOf(logs, ['--unique-recipients-per-hour', '601']);
    expect(v.sources).toEqual([]);
    expect(v.thresholds.unique_recipients_per_hour).toBe(601);
    const bad = await runCli(['investigate', '--json', '--mainlog', '/dev/null', '--unique-recipients-per-hour', '0']);
    expect(bad.code).toBe(2);
  });

  it("a customer's own newsletter, 600 distinct recipients in an hour from the office its people read mail from, is not flagged", async () => {
    const logs = new SmallLogs();
    owner(logs, 'news@bakery.test', office);
    logs.imap(T0 + 9 * HOUR, 'anna@bakery.test', office);
    sixHundredInAnHour(logs, 'news@bakery.test', [office], 'Bakery news: winter menu');
    const v = await verdictOf(logs);
    expect(v.sources).toEqual([]);
    expect(v.ips).toEqual([]);
    expect(v.evidence.map((e) => e.detail)).toContain('news@bakery.test sent 65, up to 600 distinct recipients in one hour, from addresses it used before or reads its mail from: not acted on');
  });

  it("a one-person customer's newsletter from the office it has written and read mail from all day is not flagged, though the burst makes the office look like an attacker's", async () => {
    const logs = new SmallLogs();
    owner(logs, 'news@bakery.test', office);
    sixHundredInAnHour(logs, 'news@bakery.test', [office], 'Bakery news: winter menu');
    const v = await verdictOf(logs);
    expect(v.sources).toEqual([]);
    expect(v.ips).toEqual([]);
  });

  it('an allow-listed sender reaching the threshold from an address that never reads its mail is not flagged', async () => {
    const logs = new SmallLogs();
    sixHundredInAnHour(logs, 'news@bakery.test', ['45.33.90.9'], 'Bakery news: winter menu');
    expect((await verdictOf(logs)).sources.map((s) => s.id)).toEqual(['news@bakery.test']);
    const v = await verdictOf(logs, ['--allow', 'news@bakery.test']);
    expect(v.sources).toEqual([]);
    expect(v.ips).toEqual([]);
  });

  it('an app sending many recipients a message, always the same few people, is not flagged', async () => {
    const logs = new SmallLogs();
    const staff = Array.from({ length: 20 }, (_, k) => `staff${k}@clinic.test`);
    // 70 messages of 10 of the same 20 staff in three hours: 700 recipients, 20 distinct.
    for (let i = 0; i < 70; i++) {
      const t = T0 + 14 * HOUR + i * 150;
      const rcpts = Array.from({ length: 10 }, (_, k) => staff[(i + k * 3) % 20]!);
      const id = logs.smtp(t, { sender: 'booking@clinic.test', ip: '45.33.70.7', authId: 'booking@clinic.test', subject: `New booking ${i}`, rcpts, helo: 'booking.clinic.test' });
      for (const r of rcpts) logs.outcome(t + 1, id, '=>', r);
    }
    const v = await verdictOf(logs);
    expect(v.sources).toEqual([]);
    expect(v.ips).toEqual([]);
  });
});

describe('investigate --json: distinct recipients per hour of a script', () => {
  it('a directory submitting 60 messages to 600 distinct recipients in one hour, under the window minimum, is named with its sender', async () => {
    const logs = new SmallLogs();
    const dir = '/home/shop/public_html/wp-content/uploads/2026';
    for (let i = 0; i < 60; i++) {
      const rcpts = Array.from({ length: 10 }, (_, k) => `s${i}-${k}@prospects.test`);
      logs.local(T0 + 15 * HOUR + i * 55, { cwd: dir, sender: 'shop@host.shop.test', user: 'shop', subject: 'Your parcel', rcpts });
    }
    const v = await verdictOf(logs);
    expect(v.directories.map((d) => d.path)).toEqual([dir]);
    expect(v.senders).toEqual(['shop@host.shop.test']);
    // Raised over the peak, nothing is named.
    const raised = await verdictOf(logs, ['--unique-recipients-per-hour', '601']);
    expect(raised.directories).toEqual([]);
    expect(raised.senders).toEqual([]);
  });
});
