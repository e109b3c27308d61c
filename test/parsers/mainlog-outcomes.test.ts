// Deferrals and failures joined to their arrival by message id: what counts, once, for whom.
import { describe, expect, it } from 'vitest';
import { scanMainlogBuffer } from '../../src/parsers/mainlog-scan.js';

const log = (lines: string[]): Buffer => Buffer.from(`${lines.map((l) => `2026-12-06 10:00:00 ${l}`).join('\n')}\n`);

describe('main-log scan: deferrals and failures per sender', () => {
  const r = scanMainlogBuffer(log([
    '1vX000-000000-AA ** early@dead.test R=x: 550 (before its arrival: counts for nobody)',
    '1vX000-000000-AA <= kim@farm.test H=(pc) [203.0.113.5]:587 P=esmtpa A=dovecot_login:box@farm.test S=900 T="Hi" for a@dead.test B@dead.test c@live.test',
    '1vX000-000000-AA ** a@dead.test R=x: 550 5.1.1 User unknown',
    '1vX000-000000-AA == B@dead.test R=x defer (-44): 451',
    '1vX000-000000-AA == b@DEAD.test R=x defer (-44): 451 (a retry: counted once)',
    '1vX000-000000-AA == c@live.test R=x defer (-44): 451',
    '1vX000-000000-AA => c@live.test R=x',
    '1vX001-000000-AB <= <> R=1vX000-000000-AA U=mailnull P=local S=1 T="Mail delivery failed" for kim@farm.test',
    '1vX001-000000-AB ** kim@farm.test R=x: bounce of a bounce (not ranked: nobody)',
    '1vX002-000000-AC <= news@remote.test H=mx.remote.test [198.51.100.9]:25 P=esmtps S=1 T="In" for kim@farm.test',
    '1vX002-000000-AC ** kim@farm.test R=x: inbound (not ranked: nobody)',
    ...Array.from({ length: 3 }, (_, i) => `1vX1${i}0-000000-Z${i} <= busy@farm.test U=farm P=local S=1 T="t" for x${i}@live.test`),
  ]), { limit: 1, nestedLimit: 1 });

  it('counts recipients, failures once a line and deferrals once a message and recipient, for the sender and its AUTH id', () => {
    expect(r.totals).toMatchObject({ deferral_lines: 3, failure_lines: 4, unjoined_outcomes: 3, messages_forgotten: 0 });
    expect(r.senders).toEqual([{ sender: 'busy@farm.test', count: 3, ips: [], recipients: 3, deferrals: 0, failures: 0 }]);
    expect(r.auth_senders).toMatchObject([{ id: 'box@farm.test', recipients: 3, deferrals: 2, failures: 1 }]);
  });

  it('lists the failing senders whatever their volume (kim sent one message, below the top list)', () => {
    expect(r.failing_senders).toEqual([{ sender: 'kim@farm.test', count: 1, recipients: 3, deferrals: 2, failures: 1 }]);
    expect(r.truncated).toBe(false);
  });

  it('forgets the oldest messages past maxMessages, and says so', () => {
    const lines = Array.from({ length: 6 }, (_, i) => `1vX20${i}-000000-Y${i} <= s${i}@farm.test U=farm P=local S=1 T="t" for d${i}@dead.test`);
    const r2 = scanMainlogBuffer(log([...lines, ...lines.map((_, i) => `1vX20${i}-000000-Y${i} ** d${i}@dead.test R=x: 550`)]), { maxMessages: 4 });
    // Two generations of two: the last four arrivals are remembered, the first two forgotten.
    expect(r2.totals).toMatchObject({ failure_lines: 6, unjoined_outcomes: 2, messages_forgotten: 2 });
    expect(r2.failing_senders.map((f) => f.sender).sort()).toEqual(['s2@farm.test', 's3@farm.test', 's4@farm.test', 's5@farm.test']);
    expect(r2.truncated).toBe(true);
  });
});
