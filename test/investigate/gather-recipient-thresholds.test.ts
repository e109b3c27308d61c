/**
 * cPanel's per-account distinct recipients per hour threshold decides which mailboxes' history
 * is read, not only the verdict on those read: an account whose own threshold is under the
 * server's is followed as soon as its mail reaches its own.
 */
import { describe, expect, it } from 'vitest';
import { gatherEvidence, type ActivityLeads, type EvidenceSource } from '../../src/investigate/gather.js';
import { DEFAULT_THRESHOLDS } from '../../src/investigate/verdict.js';
import { scanMainlogBuffer } from '../../src/parsers/mainlog-scan.js';

const BOX = 'ola@shop.test';

/** 20 messages of 20 distinct recipients each (400) in one hour, the day after another mailbox's note. */
function mainlog(): string {
  const lines = ['2026-12-05 19:00:00 1vAAAA-000000-AA <= other@else.test H=(pc) [198.51.100.9]:587 P=esmtpa A=dovecot_login:other@else.test S=900 T="Hi" for a@b.test'];
  for (let i = 0; i < 20; i++) {
    const rcpts = Array.from({ length: 20 }, (_, k) => `p${i}-${k}@list.test`).join(' ');
    lines.push(`2026-12-06 20:${String(i * 2).padStart(2, '0')}:00 1vAB${String.fromCharCode(65 + i)}A-000000-AA <= ${BOX} H=(User) [45.33.96.1]:587 P=esmtpa A=dovecot_login:${BOX} S=900 T="Document shared" for ${rcpts}`);
  }
  return `${lines.join('\n')}\n`;
}

function source(thresholds: Record<string, number>, seen: { leads?: ActivityLeads; asked?: string[] }): EvidenceSource {
  return {
    where: '',
    mainlog: async () => scanMainlogBuffer(Buffer.from(mainlog())),
    history: async (leads) => {
      seen.leads = leads;
      return { facts: null, problems: [] };
    },
    recipientThresholds: async (mailboxes) => {
      seen.asked = mailboxes;
      return { thresholds, problems: [] };
    },
    listDir: async () => null,
  };
}

describe('per-account distinct recipients per hour thresholds', () => {
  it('a mailbox under the server threshold but at its account\'s own is a lead whose history is read', async () => {
    const seen: { leads?: ActivityLeads; asked?: string[] } = {};
    await gatherEvidence(source({ [BOX]: 300 }, seen), { since: '48h' }, DEFAULT_THRESHOLDS);
    expect(seen.asked).toContain(BOX);
    expect(seen.leads?.authIds).toContain(BOX);
  });

  it('without an override of its account, 400 in the window is under the server\'s 500: not a lead', async () => {
    const seen: { leads?: ActivityLeads; asked?: string[] } = {};
    await gatherEvidence(source({}, seen), { since: '48h' }, DEFAULT_THRESHOLDS);
    expect(seen.leads?.authIds).not.toContain(BOX);
  });
});
