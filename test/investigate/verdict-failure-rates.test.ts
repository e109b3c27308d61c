import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { offlineVerdicts } from './offline-verdict.js';
import { HOUR, SmallLogs, T0 } from './small-logs.js';

/** Deferrals and failures joined to their sender: mail that mostly fails is a signal of its own. */
const verdictOf = offlineVerdicts('failure-rates');

/** An owner writing a few messages a day from the office, and reading mail there. */
function owner(logs: SmallLogs, mailbox: string, office: string): void {
  for (let h = 8; h < 18; h += 2) {
    const id = logs.smtp(T0 + h * HOUR + 120, { sender: mailbox, ip: office, authId: mailbox, subject: `Quote ${h}`, rcpts: ['client@remote.test'] });
    logs.outcome(T0 + h * HOUR + 121, id, '=>', 'client@remote.test');
    logs.imap(T0 + h * HOUR + 60, mailbox, office);
  }
}

describe('investigate --json: deferral and failure rates', () => {
  it('a mailbox sending a few dozen messages to a harvested list, most failing, is a source with its rates; its owner\'s address is not blocked', async () => {
    const logs = new SmallLogs();
    const bots = ['45.33.90.1', '45.33.91.1', '45.33.92.1'];
    const office = '198.51.100.51';
    owner(logs, 'kim@farm.test', office);
    for (let i = 0; i < 30; i++) {
      const t = T0 + 2 * HOUR + i * 1200;
      const rcpts = [0, 1, 2, 3].map((k) => `h${i}-${k}@harvested.test`);
      const id = logs.smtp(t, { sender: 'kim@farm.test', ip: bots[i % 3]!, authId: 'kim@farm.test', subject: 'Your parcel could not be delivered', rcpts, helo: 'User' });
      // Three of four do not exist; the fourth is greylisted, retried (counted once, whatever its case), then delivered.
      for (const r of rcpts.slice(0, 3)) logs.outcome(t + 1, id, '**', r);
      logs.outcome(t + 1, id, '==', rcpts[3]!);
      logs.outcome(t + 600, id, '==', rcpts[3]!.toUpperCase());
      logs.outcome(t + 1200, id, '=>', rcpts[3]!);
    }
    // A failure of a message that never arrived here counts for nobody.
    logs.outcome(T0 + 3 * HOUR, '0000Aa-0000Aa-Aa', '**', 'x@harvested.test');
    const v = await verdictOf(logs, '24h');
    expect(v.sources.map((s) => s.id)).toEqual(['kim@farm.test']);
    const s = v.sources[0]!;
    expect(s.counts).toMatchObject({ recipients: 125, failures: 90, deferrals: 30 });
    expect(s.reasons.join('\n')).toContain('90 of its 125 recipients failed (72%) and 30 were deferred (24%): mail to addresses that do not exist, as to a harvested list');
    expect(s.confidence).toBe('medium');
    expect([...v.ips].sort()).toEqual(bots);
    expect(v.ips).not.toContain(office);
    expect(v.auth_ids).toEqual(['kim@farm.test']);
  });

  it('a login sending with forged envelope senders to a harvested list is a source by its AUTH id, though no sender fails often alone', async () => {
    const logs = new SmallLogs();
    const bots = ['45.33.93.1', '45.33.94.1'];
    const office = '198.51.100.52';
    owner(logs, 'max@farm.test', office);
    for (let i = 0; i < 30; i++) {
      const t = T0 + 3 * HOUR + i * 1100;
      const rcpts = [0, 1, 2, 3].map((k) => `f${i}-${k}@harvested.test`);
      // A new forged sender every message: three failures each, never the twenty a sender needs.
      const id = logs.smtp(t, { sender: `billing${i}@paypa1-secure.test`, ip: bots[i % 2]!, authId: 'max@farm.test', subject: 'Payment confirmation required', rcpts, helo: 'User' });
      for (const r of rcpts.slice(0, 3)) logs.outcome(t + 1, id, '**', r);
      logs.outcome(t + 1, id, '=>', rcpts[3]!);
    }
    const v = await verdictOf(logs, '24h');
    expect(v.sources.map((s) => s.id)).toEqual(['max@farm.test']);
    const s = v.sources[0]!;
    expect(s.counts).toMatchObject({ sent: 35, recipients: 125, failures: 90 });
    expect(s.reasons.join('\n')).toContain('90 of its 125 recipients failed (72%)');
    expect(s.reasons.join('\n')).toContain('as to a harvested list');
    expect([...v.ips].sort()).toEqual(bots);
    expect(v.ips).not.toContain(office);
    // Its queued mail is purged by its login; the forged senders are no one's to purge by name.
    expect(v.auth_ids).toEqual(['max@farm.test']);
    expect(v.senders).toEqual(['max@farm.test']);
  });

  it('a failing login is found behind more busier logins than the result lists (the counters keep it for its failures)', async () => {
    const logs = new SmallLogs();
    // 55 ordinary logins, each busier than the failing one, more than the 50 the AUTH list keeps.
    for (let u = 0; u < 55; u++) {
      const mailbox = `staff${u}@busy.test`;
      const office = `198.51.100.${100 + u}`;
      logs.imap(T0 + HOUR, mailbox, office);
      for (let i = 0; i < 40; i++) {
        const id = logs.smtp(T0 + HOUR + u * 60 + i * 1200, { sender: mailbox, ip: office, authId: mailbox, subject: `Order ${u}-${i}`, rcpts: [`c${u}-${i}@clients.test`] });
        logs.outcome(T0 + HOUR + u * 60 + i * 1200 + 1, id, '=>', `c${u}-${i}@clients.test`);
      }
    }
    const bots = ['45.33.96.1', '45.33.97.1'];
    for (let i = 0; i < 30; i++) {
      const t = T0 + 3 * HOUR + i * 1100;
      const rcpts = [0, 1, 2, 3].map((k) => `g${i}-${k}@harvested.test`);
      const id = logs.smtp(t, { sender: `billing${i}@paypa1-secure.test`, ip: bots[i % 2]!, authId: 'lea@farm.test', subject: 'Payment confirmation required', rcpts, helo: 'User' });
      for (const r of rcpts.slice(0, 3)) logs.outcome(t + 1, id, '**', r);
      logs.outcome(t + 1, id, '=>', rcpts[3]!);
    }
    const v = await verdictOf(logs, '24h');
    expect(v.sources.map((s) => s.id)).toEqual(['lea@farm.test']);
    expect([...v.ips].sort()).toEqual(bots);
    expect(v.auth_ids).toEqual(['lea@farm.test']);
  });

  it('a login whose mail mostly fails only from its owner\'s office is not flagged (an address book gone stale)', async () => {
    const logs = new SmallLogs();
    const office = '198.51.100.53';
    owner(logs, 'eva@farm.test', office);
    for (let i = 0; i < 30; i++) {
      const t = T0 + 3 * HOUR + i * 1100;
      const rcpts = [0, 1, 2, 3].map((k) => `old${i}-${k}@gone.test`);
      const id = logs.smtp(t, { sender: `eva@farm.test`, ip: office, authId: 'eva@farm.test', subject: 'Season greetings', rcpts });
      for (const r of rcpts.slice(0, 3)) logs.outcome(t + 1, id, '**', r);
      logs.outcome(t + 1, id, '=>', rcpts[3]!);
    }
    const v = await verdictOf(logs, '24h');
    expect(v.sources).toEqual([]);
    expect(v.ips).toEqual([]);
  });

  it('a customer\'s newsletter app with an ordinary bounce rate and much greylisting is not flagged, however strange its address', async () => {
    const logs = new SmallLogs();
    const app = '45.33.95.7';
    for (let i = 0; i < 60; i++) {
      const t = T0 + HOUR + i * 1300;
      const rcpts = Array.from({ length: 10 }, (_, k) => `r${i}-${k}@subscribers.test`);
      const id = logs.smtp(t, { sender: 'news@shop.test', ip: app, authId: 'news@shop.test', subject: 'News from shop.test', rcpts, helo: 'app.shop.test' });
      // One in ten fails for good, four are greylisted (deferred, delivered later), the rest delivered.
      rcpts.forEach((r, k) => logs.outcome(t + 1, id, k === 0 ? '**' : k <= 4 ? '==' : '=>', r));
    }
    const v = await verdictOf(logs, '24h');
    expect(v.sources).toEqual([]);
    expect(v.ips).toEqual([]);
  });

  it('a mailbox flagged for its volume gets its failure rate in its reasons and counts', async () => {
    const logs = new SmallLogs();
    const bots = Array.from({ length: 6 }, (_, i) => `45.33.100.${i + 1}`);
    owner(logs, 'ann@corp.test', '198.51.100.61');
    for (let i = 0; i < 300; i++) {
      const t = T0 + 19 * HOUR + i * 10;
      const rcpts = [`v${i}a@victims.test`, `v${i}b@victims.test`];
      const id = logs.smtp(t, { sender: 'ann@corp.test', ip: bots[i % 6]!, authId: 'ann@corp.test', subject: 'Invoice overdue', rcpts, helo: 'User' });
      logs.outcome(t + 1, id, i % 3 === 0 ? '**' : '=>', rcpts[0]!);
      logs.outcome(t + 1, id, '=>', rcpts[1]!);
    }
    const v = await verdictOf(logs, '24h');
    expect(v.sources.map((s) => s.id)).toEqual(['ann@corp.test']);
    const s = v.sources[0]!;
    expect(s.counts).toMatchObject({ recipients: 605, failures: 100, deferrals: 0 });
    expect(s.reasons.join('\n')).toContain('100 of its 605 recipients failed (17%) and 0 were deferred (0%)');
    expect(s.reasons.join('\n')).not.toContain('harvested list');
  });
});
