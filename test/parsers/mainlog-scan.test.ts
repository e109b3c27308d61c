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
    expect(r.cwd).toEqual([{ path: '/home/user1/public_html/wp-content', count: 1, user: 'user1', senders: [{ key: 'support@example.test', count: 1 }] }]);
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

  it('gives one pass\'s result when a scanner absorbs the ranges after it, split anywhere', () => {
    fc.assert(
      fc.property(messyLog, fc.nat(), fc.nat(), fc.boolean(), (lines, at1, at2, spill) => {
        // Any two line boundaries, even inside one second or between a cwd= line and its arrival.
        const cuts = [at1 % (lines.length + 1), at2 % (lines.length + 1)].sort((x, y) => x - y);
        const parts = [lines.slice(0, cuts[0]), lines.slice(cuts[0], cuts[1]), lines.slice(cuts[1])].map((p) => Buffer.from(p.map((l) => `${l}\n`).join('')));
        const limits = { limit: 1000, nestedLimit: 1000 };
        const scan = (text: Buffer, laterRange = false): MainlogScanner => {
          const scanner = new MainlogScanner(limits, { laterRange });
          if (spill) scanner.setPairCountLimitForTests(3);
          scanner.feed(text, 0, text.length);
          return scanner;
        };
        const first = scan(parts[0]!);
        first.absorbRanges(parts.slice(1).map((p) => structuredClone(scan(p, true).dump())), (i, pending) => {
          const text = parts[i + 1]!;
          text.copy(first.input(Math.max(1, text.length)));
          return first.resolvePendingInput(pending, 0, text.length);
        });
        expect(first.result({}, limits)).toEqual(scan(Buffer.concat(parts)).result({}, limits));
      }),
      { numRuns: 400 },
    );
  });

  it('ranks absorbed ranges like one pass with short lists, and gives the full partial after the result', () => {
    fc.assert(
      fc.property(messyLog, fc.nat(), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), (lines, at, limit, nestedLimit) => {
        // Short lists add only the pairs of an absorbed range whose parents can rank; the
        // partial asked for afterwards must still get all the others.
        const cut = at % (lines.length + 1);
        const parts = [lines.slice(0, cut), lines.slice(cut)].map((p) => Buffer.from(p.map((l) => `${l}\n`).join('')));
        const limits = { limit, nestedLimit };
        const scan = (text: Buffer, laterRange = false): MainlogScanner => {
          const scanner = new MainlogScanner(limits, { laterRange });
          scanner.feed(text, 0, text.length);
          return scanner;
        };
        const first = scan(parts[0]!);
        first.absorbRanges([structuredClone(scan(parts[1]!, true).dump())], (_, pending) => {
          const text = parts[1]!;
          text.copy(first.input(Math.max(1, text.length)));
          return first.resolvePendingInput(pending, 0, text.length);
        });
        const one = scan(Buffer.concat(parts));
        expect(first.result({}, limits)).toEqual(one.result({}, limits));
        expect(finishScan(first.partial, {}, limits)).toEqual(finishScan(one.partial, {}, limits));
      }),
      { numRuns: 400 },
    );
  });

  it('stays within maxKeys and maxPairs, counting what did not fit as dropped', () => {
    const lines: string[] = [];
    for (let n = 0; n < 10; n++) {
      for (let k = 1; k <= 3; k++) lines.push(`2026-11-22 10:56:28 1xV5FE-0001it-0${k} <= s${n}@x.test H=(h) [10.0.0.${k}]:1 A=dovecot_login:s${n}@x.test T="subj" for r@y.test`);
    }
    const text = lines.join('\n');
    const limits = { maxKeys: 4, maxPairs: 5 };
    const scanner = new MainlogScanner(limits);
    scanner.feed(Buffer.from(text), 0, text.length);
    const r = scanner.result({}, limits);
    expect(r.totals.arrivals).toBe(30);
    // The first four senders and AUTH ids are kept with exact counts; the other 6 x 3 of each are dropped.
    expect(r.senders.map((x) => [x.sender, x.count])).toEqual([0, 1, 2, 3].map((n) => [`s${n}@x.test`, 3]));
    expect(r.auth_senders.map((x) => x.id)).toEqual([0, 1, 2, 3].map((n) => `s${n}@x.test`));
    // Five (sender, address) pairs fit: s0's three and s1's first two; 7 later ones are dropped, per relation.
    expect(r.senders.map((x) => x.ips.length)).toEqual([3, 2, 0, 0]);
    expect(r.subjects).toEqual([{ subject: 'subj', count: 30, senders: [0, 1, 2, 3].map((n) => ({ key: `s${n}@x.test`, count: 3 })) }]);
    expect(r.truncated).toBe(true);
    expect(r.dropped_keys).toBe(18 + 18 + 7 + 7);
  });

  it('adds back the counts of pairs that overflow a slot', () => {
    const line = (n: number): string => `2026-11-22 10:56:${String(n % 60).padStart(2, '0')} 1xV5FE-0001it-0${n % 10} <= a@example.test H=(x) [203.0.113.5]:1 A=dovecot_login:a@example.test T="s" for b@remote.test`;
    const text = Array.from({ length: 50 }, (_, n) => line(n)).join('\n');
    const scanner = new MainlogScanner();
    scanner.setPairCountLimitForTests(3);
    scanner.feed(Buffer.from(text), 0, text.length);
    const r = scanner.result();
    expect(r.senders[0]!.ips).toEqual([{ key: '203.0.113.5', count: 50 }]);
    expect(r.auth_senders[0]!.ips).toEqual([{ key: '203.0.113.5', count: 50 }]);
    expect(r.subjects[0]!.senders).toEqual([{ key: 'a@example.test', count: 50 }]);
    expect(r.truncated).toBe(false);
  });

  it('ranks keys of invalid UTF-8 that decode alike as one key', () => {
    const arrival = (sender: Buffer, n: number): Buffer => Buffer.concat([
      Buffer.from(`2026-11-22 10:56:28 1xV5FE-0001it-0${n} <= `), sender, Buffer.from(' U=u1 P=local T="s" for x@remote.test\n'),
    ]);
    // 0xff and 0xfe both decode to U+FFFD: two byte keys, one string key with count 3.
    const lines = [arrival(Buffer.from([0x61, 0xff]), 1), arrival(Buffer.from([0x61, 0xfe]), 2), arrival(Buffer.from([0x61, 0xff]), 3)];
    for (let i = 0; i < 4; i++) lines.push(arrival(Buffer.from(`b${i}@example.test`), i), arrival(Buffer.from(`b${i}@example.test`), i));
    const buf = Buffer.concat(lines);
    const scanner = new MainlogScanner({ limit: 1 });
    scanner.feed(buf, 0, buf.length);
    expect(scanner.result({}, { limit: 1 }).senders.map((s) => [s.sender, s.count])).toEqual([['a\ufffd', 3]]);
    expect(scanner.result({}, { limit: 1 })).toEqual(finishScan(scanner.partial, {}, { limit: 1 }));
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const r = scanMainlogBuffer(Buffer.from(bytes));
        expect(r.totals.arrivals).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});

describe('file reader', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'runbook-mainlog-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the same result with tiny chunks and split ranges as in memory', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(messyLog, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 16, max: 300 }), async (lines, workers, chunk) => {
        const text = lines.join('\n') + '\n';
        const file = join(dir, `log${n++}`);
        await writeFile(file, text);
        const got = await scanMainlogFile(file, { workers, chunkBytes: chunk, splitThresholdBytes: 0, limit: 1000, nestedLimit: 1000 });
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
      expect(r.cwd).toEqual([{ path: '/home/b/public_html', count: 2, user: 'b', senders: [] }]);
      const all = await scanMainlogFile(file, { since: '3h' });
      expect(all.cwd.map((c) => c.path)).toEqual(['/home/b/public_html', '/home/a/public_html']);
      expect(all.totals.arrivals).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
