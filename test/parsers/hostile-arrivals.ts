/** Arrivals with hostile envelope senders and the same arrivals with plain ones (property tests). */
import fc from 'fast-check';
import type { MainlogScanResult } from '../../src/parsers/mainlog-scan.js';
import { eximSender } from './log-gen.js';

/** An arrival's shapes: remote authenticated (three-part A= too), local, login without an id, inbound. */
const shapes: ((sender: string, authSender: string) => string)[] = [
  (s: string, authSender: string) => `H=(laptop) [203.0.113.5]:52100 I=[192.0.2.10]:587 U=root P=esmtpa A=dovecot_login:bob@example.test:${authSender} S=290 id=${s} T="Invoice" for a@remote.test`,
  () => `H=mail.example.test (laptop) [203.0.113.6] P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=dovecot_plain:carol@example.test S=290 T="x" for b@remote.test`,
  () => `U=user1 P=local S=487 T="You won" for c@remote.test d@remote.test`,
  () => `H=(rhu.barb) [10.0.0.3] U=CALLER P=esmtpa A=mylogin S=100 for e@remote.test`,
  () => `H=mx.remote.test [192.0.2.77] P=esmtps S=3000 for user@shop.test`,
];

const ID = ['1xV5FE-0001it-00', '1xV5FE-0001iz-01', '1xV5FE-0001j0-02', '1xV5FE-0001j2-03', '1xV5FE-0001j4-04'];
export const lineOf = (shape: number, sender: string, authSender: string): string =>
  `2026-11-22 10:56:28 ${ID[shape]} <= ${sender} ${shapes[shape]!(sender, authSender)}`;

export const SHAPES = shapes.length;

/**
 * A log of arrivals whose senders (and +smtp_mailauth senders) are anything Exim can log, the
 * same log with each distinct sender replaced by `plainN@example.test`, and that renaming.
 */
export const hostileArrivalLogs = fc
  .array(fc.tuple(eximSender, eximSender, fc.integer({ min: 0, max: shapes.length - 1 })), { minLength: 1, maxLength: 30 })
  .map((items) => {
    const distinct = [...new Set(items.map(([s]) => s))];
    const plainOf = new Map(distinct.map((s, i) => [s, `plain${i}@example.test`]));
    const hostileLog = items.map(([s, a, shape]) => lineOf(shape, s, a)).join('\n') + '\n';
    const plainLog = items.map(([s, , shape]) => lineOf(shape, plainOf.get(s)!, 'plain@example.test')).join('\n') + '\n';
    return { hostileLog, plainLog, plainOf };
  });

/** What a scan says apart from sender names: totals, AUTH logins, addresses and users. */
export function withoutSenderNames(r: MainlogScanResult, rename: Map<string, string>) {
  return {
    totals: r.totals,
    auth_senders: r.auth_senders,
    senders: r.senders.map((s) => ({ ...s, sender: rename.get(s.sender) ?? s.sender })).sort((a, b) => (a.sender < b.sender ? -1 : 1)),
    local_users: r.local_users.map((u) => ({ user: u.user, count: u.count, senders: u.senders.map((s) => rename.get(s.key) ?? s.key).sort() })),
    subjects: r.subjects.map((s) => [s.subject, s.count]),
  };
}

