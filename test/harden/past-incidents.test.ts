import { describe, expect, it } from 'vitest';
import { pastSpamSources } from '../../src/harden/past-incidents.js';

const note = (host: string, ts: string, data: Record<string, unknown>) =>
  JSON.stringify({ level: 'audit', seq: 7, ts, type: 'note', host, step: 'detect', message: 'detect: mailbox x sent 160 in 24h', data });

describe('pastSpamSources', () => {
  it('counts each source once per run log, with the account a script path names', () => {
    const run1 = [
      note('web1', '2026-12-01T10:00:00.000Z', { kind: 'mailbox', sender: 'info@shop.example.test', scripts: ['/home/shopuser/public_html/x.php'] }),
      note('web1', '2026-12-01T10:05:00.000Z', { kind: 'mailbox', sender: 'info@shop.example.test', scripts: [] }),
      '{"torn": ',
    ].join('\n');
    const run2 = [note('web1', '2026-12-05T08:00:00.000Z', { kind: 'mailbox', sender: 'info@shop.example.test', scripts: [] }), note('web2', '2026-12-05T08:00:00.000Z', { kind: 'none', scripts: [] })].join('\n');
    const notDetect = JSON.stringify({ type: 'note', host: 'web1', message: 'purge: removed 3', data: { kind: 'mailbox', sender: 'other@example.test' } });
    expect(pastSpamSources([run1, run2, notDetect])).toEqual([
      { host: 'web1', kind: 'mailbox', source: 'info@shop.example.test', runs: 2, last: '2026-12-05T08:00:00.000Z' },
      { host: 'web1', kind: 'script', source: '/home/shopuser/public_html/x.php', account: 'shopuser', runs: 1, last: '2026-12-01T10:00:00.000Z' },
    ]);
  });
});
