import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MainlogScanner, finishScan, scanMainlogBuffer } from '../../src/parsers/mainlog-scan.js';
import { scanMainlogFile } from '../../src/investigate/mainlog-file.js';
import { resolveSince } from '../../src/parsers/log-time.js';
import { referenceScan } from './mainlog-reference.js';
import { messyLog, timedLog } from './log-gen.js';

const SAMPLE = [
  '2026-11-22 10:56:28 cwd=/home/user1/public_html/wp-content 3 args: /usr/sbin/sendmail -t -i',
  '2026-11-22 10:56:28 1xV5FE-0001it-00 <= support@example.test U=user1 P=local S=487 T="You won a \\"prize\\" today" for victim1@remote.test victim2@remote.test',
  '2026-11-22 10:56:28 SMTP connection from root',
  '2026-11-22 10:56:28 1xV5FE-0001iz-01 <= alice@example.test H=(laptop) [203.0.113.5]:52100 I=[192.0.2.10]:587 U=root P=esmtpa A=dovecot_plain:alice@example.test S=290 T="Invoice overdue" for a@remote.test b@remote2.test',
  '2026-11-22 10:56:29 1xV5FE-0001j0-01 <= alice@example.test H=mail.evil.test (laptop) [198.51.100.7]:52101 I=[192.0.2.10]:587 P=esmtpsa A=dovecot_login:alice@example.test S=290 T="Invoice overdue" for c@remote.test',
  '2026-11-22 10:56:28 1xV5FE-0001j2-02 <= <> U=root P=local S=294 T="Mail delivery failed" for someone@remote.test',
  '2026-11-22 10:56:30 cwd=/root 2 args: /usr/sbin/exim -bpu',
  '2026-11-22 10:56:30 cwd=/root 3 args: /usr/sbin/exim -Mrm 1xV5FE-0001it-00',
  '2026-11-22 10:56:30 cwd=/var/spool/exim 4 args: /usr/sbin/exim -bP spool_directory log_file_path',
  '2026-11-22 10:56:33 1xV5FE-0001it-00 frozen by root',
  '2026-11-22 10:56:41 1xV5FE-0001j2-02 Completed',
  '',
].join('\n');

describe('main-log scanner on real-format lines', () => {
  const r = scanMainlogBuffer(Buffer.from(SAMPLE));

  it('ranks submitting directories and ignores admin exim runs', () => {
    expect(r.cwd).toEqual([{ path: '/home/user1/public_html/wp-content', count: 1, user: 'user1', senders: [{ key: 'support@example.test', count: 1 }], recipients: 2, deferrals: 0, failures: 0, first_seen: 20261122105628 }]);
    expect(r.totals.admin_invocations).toBe(3);
  });

  it('counts both dovecot_login and dovecot_plain with the client IPs only', () => {
    expect(r.auth_senders).toEqual([{
      id: 'alice@example.test',
      count: 2,
      authenticators: [{ key: 'dovecot_login', count: 1 }, { key: 'dovecot_plain', count: 1 }],
      ips: [{ key: '198.51.100.7', count: 1 }, { key: '203.0.113.5', count: 1 }],
      recipients: 3,
      deferrals: 0,
      failures: 0,
    }]);
    const all = JSON.stringify(r);
    expect(all).not.toContain('192.0.2.10');
  });

  it('keeps escaped quotes inside subjects and keeps bounces apart', () => {
    expect(r.subjects.map((s) => [s.subject, s.count])).toEqual([['Invoice overdue', 2], ['You won a "prize" today', 1]]);
    expect(r.totals.bounces).toBe(1);
    expect(r.senders.map((s) => s.sender)).toEqual(['alice@example.test', 'support@example.test']);
    expect(r.local_users).toEqual([{ user: 'root', count: 1, senders: [] }, { user: 'user1', count: 1, senders: [{ key: 'support@example.test', count: 1 }] }]);
    expect(r.window.first_time).toBe('2026-11-22 10:56:28');
    expect(r.window.last_time).toBe('2026-11-22 10:56:41');
  });
});

describe('byte scanner agrees with the line-by-line reference', () => {
  it('on random and hostile logs', () => {
    fc.assert(
      fc.property(messyLog, fc.boolean(), (lines, trailingNewline) => {
        const text = lines.join('\n') + (trailingNewline && lines.length > 0 ? '\n' : '');
        const fast = scanMainlogBuffer(Buffer.from(text), { limit: 1000, nestedLimit: 1000 });
        const ref = finishScan(referenceScan(text), { startOffset: 0, endOffset: Buffer.byteLength(text) }, { limit: 1000, nestedLimit: 1000 });
        expect(fast).toEqual(ref);
      }),
      { numRuns: 400 },
    );
  });

  it('ranks only the keys that can reach a short top list, with the same result as ranking all', () => {
    fc.assert(
      fc.property(messyLog, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), (lines, limit, nestedLimit) => {
        const text = lines.join('\n') + '\n';
        const limits = { limit, nestedLimit };
        const scanner = new MainlogScanner(limits);
        scanner.feed(Buffer.from(text), 0, Buffer.byteLength(text));
        const full = finishScan(scanner.partial, {}, limits);
        expect(scanner.result({}, limits)).toEqual(full);
        expect(full).toEqual(finishScan(referenceScan(text), {}, limits));
      }),
      { numRuns: 400 },
    );
  });

  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'runbook-mainlog-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the same result with tiny chunks as in memory', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(messyLog, fc.integer({ min: 16, max: 300 }), fc.boolean(), async (lines, chunk, ahead) => {
        const text = lines.join('\n') + '\n';
        const file = join(dir, `log${n++}`);
        await writeFile(file, text);
        // Read ahead on the thread pool or not (by default it depends on the machine's load).
        const got = await scanMainlogFile(file, { chunkBytes: chunk, limit: 1000, nestedLimit: 1000, ahead });
        const want = scanMainlogBuffer(Buffer.from(text), { limit: 1000, nestedLimit: 1000 });
        expect({ ...got, file: null }).toEqual(want);
      }),
      { numRuns: 150 },
    );
  });

  it('skips the part before since by binary search and matches the reference on the rest', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(timedLog(120), fc.constantFrom('1m', '30s', '2m', '5s', '2026-11-22 10:01'), async (lines, since) => {
        const text = lines.join('\n') + '\n';
        const file = join(dir, `since${n++}`);
        await writeFile(file, text);
        const got = await scanMainlogFile(file, { since, limit: 1000, nestedLimit: 1000 });
        const last = lines.length === 0 ? null : lines[lines.length - 1]!.slice(0, 19);
        if (last === null) {
          expect(got.totals.arrivals).toBe(0);
          return;
        }
        const from = resolveSince(since, last);
        expect(from.ok).toBe(true);
        if (!from.ok) return;
        const ref = referenceScan(text, from.from);
        const want = finishScan(ref, {}, { limit: 1000, nestedLimit: 1000 });
        expect(got.window.from).toBe(from.from);
        expect(got.totals).toEqual(want.totals);
        expect(got.cwd).toEqual(want.cwd);
        expect(got.auth_senders).toEqual(want.auth_senders);
        expect(got.subjects).toEqual(want.subjects);
        const skipped = Buffer.byteLength(lines.filter((l) => l.slice(0, 19) < from.from).map((l) => `${l}\n`).join(''));
        expect(got.window.start_offset).toBe(skipped);
      }),
      { numRuns: 150 },
    );
  });
});

describe('since window around very long lines', () => {
  it('finds the window start past a line longer than the search probe', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'runbook-longline-'));
    try {
      const lines = [
        '2026-11-22 09:00:00 cwd=/home/a/public_html 3 args: /usr/sbin/sendmail -t -i',
        `2026-11-22 09:30:00 1xV5FE-0001it-00 <= a@x.test U=a P=local S=1 T="${'x'.repeat(40000)}"`,
        'no timestamp here '.repeat(3000),
        '2026-11-22 10:30:00 cwd=/home/b/public_html 3 args: /usr/sbin/sendmail -t -i',
        '2026-11-22 11:00:00 cwd=/home/b/public_html 3 args: /usr/sbin/sendmail -t -i',
      ];
      const file = join(dir, 'log');
      await writeFile(file, `${lines.join('\n')}\n`);
      const r = await scanMainlogFile(file, { since: '1h' });
      expect(r.window.from).toBe('2026-11-22 10:00:00');
      expect(r.cwd).toEqual([{ path: '/home/b/public_html', count: 2, user: 'b', senders: [], recipients: 0, deferrals: 0, failures: 0, first_seen: 20261122103000 }]);
      const all = await scanMainlogFile(file, { since: '3h' });
      expect(all.cwd.map((c) => c.path)).toEqual(['/home/b/public_html', '/home/a/public_html']);
      expect(all.totals.arrivals).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
