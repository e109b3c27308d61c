import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { offlineVerdicts } from './offline-verdict.js';
import { HOUR, SmallLogs, T0 } from './small-logs.js';

/** Incidents under the volume threshold or without a burst, told apart from busy owners. */
const verdictOf = offlineVerdicts('low-slow');

describe('investigate --json: low and slow', () => {
  it('a week of steady drip from a dozen addresses is a source; a busy owner at the same steady volume is not', async () => {
    const logs = new SmallLogs();
    const bots = Array.from({ length: 12 }, (_, i) => `45.33.${60 + i}.3`);
    const busy = ['198.51.100.31', '198.51.100.32', '198.51.100.33'];
    for (let d = 0; d < 7; d++) {
      for (let i = 0; i < 45; i++) logs.smtp(T0 + d * 24 * HOUR + HOUR + i * 1700, { sender: 'sam@drip.test', ip: bots[(d * 45 + i) % bots.length]!, authId: 'sam@drip.test', subject: 'Your account statement is ready', rcpts: [`v${d}-${i}@victims.test`], helo: 'User' });
      for (let i = 0; i < 50; i++) logs.smtp(T0 + d * 24 * HOUR + HOUR + i * 1500, { sender: 'max@busy.test', ip: busy[i % 3]!, authId: 'max@busy.test', subject: `Quote ${d}-${i}`, rcpts: ['client@remote.test'] });
      for (const [k, ip] of busy.entries()) logs.imap(T0 + d * 24 * HOUR + (8 + k) * HOUR, 'max@busy.test', ip);
    }
    const v = await verdictOf(logs, '7d');
    expect(v.sources.map((s) => s.id)).toEqual(['sam@drip.test']);
    expect(v.sources[0]!.reasons.join(' ')).toContain('steady volume, but from 12 addresses that never read its mail');
    expect([...v.ips].sort()).toEqual([...bots].sort());
    expect(v.auth_ids).toEqual(['sam@drip.test']);
  });

  it('a few dozen messages to 40-60 people each is a mass mailing; a person writing to three at a time is not', async () => {
    const logs = new SmallLogs();
    const bots = ['45.33.80.1', '45.33.81.1', '45.33.82.1', '45.33.83.1'];
    const office = '198.51.100.41';
    for (let h = 0; h < 26; h++) {
      if (h % 24 >= 8 && h % 24 < 18) {
        logs.smtp(T0 + h * HOUR + 100, { sender: 'peter@wide.test', ip: office, authId: 'peter@wide.test', subject: `Order ${h}`, rcpts: ['client@remote.test'] });
        logs.imap(T0 + h * HOUR + 50, 'peter@wide.test', office);
      }
      for (let k = 0; k < 2; k++) logs.smtp(T0 + h * HOUR + 900 + k * 60, { sender: 'lisa@team.test', ip: '198.51.100.42', authId: 'lisa@team.test', subject: `Minutes ${h}`, rcpts: ['a@remote.test', 'b@remote.test', 'c@remote.test'] });
    }
    for (let i = 0; i < 30; i++) logs.smtp(T0 + 6 * HOUR + i * 1800, { sender: 'peter@wide.test', ip: bots[i % bots.length]!, authId: 'peter@wide.test', subject: 'Document shared with you', rcpts: Array.from({ length: 40 + (i % 21) }, (_, k) => `w${i}-${k}@victims.test`), helo: 'User' });
    const v = await verdictOf(logs, '24h');
    expect(v.sources.map((s) => s.id)).toEqual(['peter@wide.test']);
    expect(v.sources[0]!.reasons.join(' ')).toMatch(/\d+ distinct recipients, [\d.]+ a message: a mass mailing/);
    expect([...v.ips].sort()).toEqual([...bots].sort());
    expect(v.ips).not.toContain(office);
  });

  it('one subject sent as many customers\' mailboxes from shared addresses is one campaign: every mailbox is a source', async () => {
    const logs = new SmallLogs();
    const bots = ['45.33.90.1', '45.33.91.1', '45.33.92.1', '45.33.93.1'];
    const webmail = '192.0.2.10';
    const victims = Array.from({ length: 6 }, (_, i) => `box${i}@customer${i}.test`);
    const phones = victims.map((_, i) => `198.51.100.${150 + i}`);
    victims.forEach((mb, i) => {
      // The owner's phone sent the day before; webmail (this server, shared by everyone) now and then.
      logs.smtp(T0 + 2 * HOUR + i * 60, { sender: mb, ip: phones[i]!, authId: mb, subject: 'Hello', rcpts: ['friend@remote.test'] });
      for (let k = 0; k < 3; k++) {
        logs.smtp(T0 + (9 + k) * HOUR + i * 120, { sender: mb, ip: webmail, authId: mb, subject: k === 0 ? 'Invoice' : `Note ${i}-${k}`, rcpts: ['x@remote.test'] });
        logs.imap(T0 + (9 + k) * HOUR + i * 120 - 30, mb, webmail);
      }
      for (let k = 0; k < 8; k++) logs.smtp(T0 + 15 * HOUR + i * 600 + k * 45, { sender: mb, ip: bots[(i + k) % bots.length]!, authId: mb, subject: '=?UTF-8?B?RG9jdW1lbnQgc2hhcmVkIHdpdGggeW91?=', rcpts: [`t${i}-${k}@victims.test`], helo: 'User' });
      // The botnet checked each password over IMAP first.
      logs.imap(T0 + 14 * HOUR + i * 60, mb, bots[i % bots.length]!);
    });
    const v = await verdictOf(logs, '24h');
    expect(v.sources.map((s) => s.id).sort()).toEqual([...victims].sort());
    expect(v.sources[0]!.reasons.join(' ')).toContain('one of 6 mailboxes of different customers sending "Document shared with you" from the same');
    expect([...v.ips].sort()).toEqual([...bots].sort());
    for (const ip of [webmail, ...phones]) expect(v.ips).not.toContain(ip);
    expect([...v.auth_ids].sort()).toEqual([...victims].sort());
  });
});
