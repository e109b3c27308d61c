// A main log is either read or said to be unread: a first line longer than the probes, a log
// out of time order (merged by hand, Exim's test logs) or one without a timestamp to count a
// window back from never gives a clean "nothing found" over bytes that were not looked at.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanMainlogFile } from '../../src/investigate/mainlog-file.js';
import { scanMainlogSources } from '../../src/investigate/mainlog-sources.js';
import { investigate } from '../../src/investigate/report.js';
import { resolveSince } from '../../src/parsers/log-time.js';
import { scanMainlogBuffer, timestampPrefixLength, type MainlogScanResult } from '../../src/parsers/mainlog-scan.js';
import { messyLog } from '../parsers/log-gen.js';

const LIMITS = { limit: 1000, nestedLimit: 1000 };
const MiB = 1024 * 1024;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runbook-coverage-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function write(text: string | Buffer, gzip = false): Promise<string> {
  const path = join(dir, `log${n++}`);
  await writeFile(path, gzip ? gzipSync(Buffer.from(text)) : text);
  return path;
}

const text = (lines: string[]): string => (lines.length === 0 ? '' : `${lines.join('\n')}\n`);

function arrivals(count: number, day: string, sender = 'info@shop.test'): string[] {
  return Array.from({ length: count }, (_, i) => {
    const s = String(i % 60).padStart(2, '0');
    const m = String(Math.floor(i / 60) % 60).padStart(2, '0');
    return `${day} 10:${m}:${s} 1xV5FE-0001${String(i).padStart(2, '0').slice(-2)}-00 <= ${sender} H=(x) [203.0.113.9]:5000 P=esmtpsa A=dovecot_login:${sender} S=900 T="Offer"`;
  });
}

/** The counted part of a result: what a verdict is built from. */
function counted(r: MainlogScanResult): unknown {
  return { totals: r.totals, cwd: r.cwd, auth_senders: r.auth_senders, senders: r.senders, subjects: r.subjects, local_users: r.local_users };
}

describe('a first line longer than the probes', () => {
  it('still places the log in time when that line starts with a timestamp', async () => {
    const long = `2026-11-22 09:00:00 1xV5FE-0001zz-00 ** x@remote.test R=dnslookup T=remote_smtp: ${'x'.repeat(5 * MiB)}`;
    const path = await write(text([long, ...arrivals(120, '2026-11-22')]));
    for (const r of [await scanMainlogSources([path], { since: '30d' }), await scanMainlogFile(path, { since: '30d' })]) {
      expect(r.totals.arrivals).toBe(120);
      expect(r.left_out).toEqual([]);
    }
    const v = await investigate({ mainlog: path, since: '30d' });
    expect(v.problems).toEqual([]);
  });

  it('counts back from the last line when the long first line has no timestamp', async () => {
    const path = await write(text([`junk ${'y'.repeat(5 * MiB)}`, ...arrivals(120, '2026-11-22')]));
    for (const gzip of [false, true]) {
      const file = gzip ? await write(text([`junk ${'y'.repeat(5 * MiB)}`, ...arrivals(120, '2026-11-22')]), true) : path;
      const r = await scanMainlogSources([file], { since: '24h' });
      expect(r.totals.arrivals).toBe(120);
      expect(r.left_out).toEqual([]);
    }
    expect((await scanMainlogFile(path, { since: '24h' })).totals.arrivals).toBe(120);
  });
});

describe('a log with no timestamp near its end', () => {
  it('reports every byte it did not read as a problem, not an empty window', async () => {
    // 17 MiB of lines without timestamps after the arrivals: nothing to count 24h back from.
    const tail = Array.from({ length: 17 * 1024 }, () => `continued ${'z'.repeat(1024)}`);
    const path = await write(text([...arrivals(50, '2026-11-22'), ...tail]));
    const file = await scanMainlogFile(path, { since: '24h' });
    expect(file.totals.arrivals).toBe(0);
    expect(file.left_out).toHaveLength(1);
    expect(file.left_out[0]!.bytes).toBeGreaterThan(17 * MiB);
    expect(file.left_out[0]!.reason).toMatch(/no line with a timestamp/);
    const v = await investigate({ mainlog: path, since: '24h' });
    expect(v.problems).toHaveLength(1);
    expect(v.problems[0]).toMatch(/bytes not read: no line with a timestamp/);
    expect(v.problems[0]).toContain(path);
  });
});

describe('a log out of time order', () => {
  it('counts the window\'s lines found before its first line, and leaves out older lines found after it', async () => {
    // Merged by hand: yesterday's incident, then last month's log, then today's lines.
    const lines = [...arrivals(80, '2026-11-21', 'spam@shop.test'), ...arrivals(3000, '2026-10-01', 'old@shop.test'), ...arrivals(40, '2026-11-22')];
    for (const gzip of [false, true]) {
      const path = await write(text(lines), gzip);
      const r = await scanMainlogSources([path], { since: '2d', chunkBytes: 4096 });
      expect(r.totals.arrivals).toBe(120);
      expect(r.senders.map((s) => [s.sender, s.count])).toEqual([['spam@shop.test', 80], ['info@shop.test', 40]]);
      expect(r.window.lines_out_of_order).toBe(80);
      expect(r.left_out).toEqual([]);
    }
    const path = await write(text(lines));
    const r = await scanMainlogFile(path, { since: '2d' });
    expect(r.totals.arrivals).toBe(120);
    expect(r.window.lines_out_of_order).toBe(80);
    expect(r.window.lines_before_window).toBe(3000);
  });

  it('counts exactly the lines dated inside the window, whatever the order of the lines', async () => {
    await fc.assert(
      fc.asyncProperty(
        messyLog,
        fc.array(fc.nat(), { maxLength: 60 }),
        fc.constantFrom('1m', '30s', '2m', '5s', '2026-11-22 10:00:30'),
        fc.integer({ min: 16, max: 400 }),
        async (ordered, swaps, since, chunkBytes) => {
          const lines = [...ordered];
          for (let i = 0; i + 1 < swaps.length && lines.length > 1; i += 2) {
            const a = swaps[i]! % lines.length;
            const b = swaps[i + 1]! % lines.length;
            [lines[a], lines[b]] = [lines[b]!, lines[a]!];
          }
          const reference = [...lines].reverse().find((l) => timestampPrefixLength(Buffer.from(l, 'latin1'), 0, Buffer.byteLength(l, 'latin1')) > 0) ?? null;
          const r = resolveSince(since, reference === null ? null : reference.slice(0, 19));
          if (!r.ok) return;
          // What the window holds: lines dated at or after its start, and lines without a date.
          const inWindow = lines.filter((l) => {
            const b = Buffer.from(l, 'latin1');
            return timestampPrefixLength(b, 0, b.length) === 0 || l.slice(0, 19) >= r.from;
          });
          const want = counted(scanMainlogBuffer(Buffer.from(text(inWindow), 'latin1'), LIMITS));
          const path = await write(Buffer.from(text(lines), 'latin1'));
          const gz = await write(Buffer.from(text(lines), 'latin1'), true);
          expect(counted(await scanMainlogFile(path, { since, chunkBytes, ...LIMITS }))).toEqual(want);
          expect(counted(await scanMainlogSources([path], { since, chunkBytes, ...LIMITS }))).toEqual(want);
          expect(counted(await scanMainlogSources([gz], { since, chunkBytes, ...LIMITS }))).toEqual(want);
        },
      ),
      { numRuns: 150 },
    );
  });
});
