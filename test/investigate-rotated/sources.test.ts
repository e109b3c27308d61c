// Several main log files, plain or gzip, given in any order, must give exactly what one scan of
// their uncompressed concatenation (in time order) gives.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanMainlogFile } from '../../src/investigate/mainlog-file.js';
import { isGzipFile } from '../../src/investigate/mainlog-gzip.js';
import { scanMainlogSources, type MainlogSourcesResult } from '../../src/investigate/mainlog-sources.js';
import type { MainlogScanResult } from '../../src/parsers/mainlog-scan.js';
import { timedLog } from '../parsers/log-gen.js';

const LIMITS = { limit: 1000, nestedLimit: 1000 };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runbook-rotated-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function write(text: string, gzip: boolean, name = `f${n++}`): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, gzip ? gzipSync(Buffer.from(text)) : text);
  return path;
}

/** Everything but which file it came from and where in which file the window starts. */
function comparable(r: MainlogScanResult): unknown {
  const { file: _f, files: _fs, window, ...rest } = r as MainlogSourcesResult;
  const { start_offset: _s, end_offset: _e, ...w } = window;
  return { ...rest, window: w };
}

const text = (lines: string[]): string => (lines.length === 0 ? '' : `${lines.join('\n')}\n`);

describe('scanning several main log files as one', () => {
  it('matches one scan of the concatenation, whatever the order given and which files are gzip', async () => {
    await fc.assert(
      fc.asyncProperty(
        timedLog(120),
        fc.array(fc.nat(), { maxLength: 4 }),
        fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
        fc.array(fc.integer(), { minLength: 5, maxLength: 5 }),
        fc.constantFrom(null, '1m', '30s', '2m', '5s', '2026-11-22 10:01'),
        fc.integer({ min: 16, max: 400 }),
        async (lines, cutChoices, gzipFlags, orderKeys, since, chunkBytes) => {
          // Files split where the second changes, as rotation at a point in time does.
          const cuttable = lines.map((l, i) => i).filter((i) => i > 0 && lines[i]!.slice(0, 19) > lines[i - 1]!.slice(0, 19));
          const cuts = [...new Set(cuttable.length === 0 ? [] : cutChoices.map((c) => cuttable[c % cuttable.length]!))].sort((a, b) => a - b);
          const bounds = [0, ...cuts, lines.length];
          const segments = bounds.slice(1).map((e, i) => lines.slice(bounds[i], e));
          const files = await Promise.all(segments.map((seg, i) => write(text(seg), gzipFlags[i]!)));
          const given = files.map((f, i) => ({ f, k: orderKeys[i]! })).sort((a, b) => a.k - b.k).map((x) => x.f);
          const whole = await write(text(lines), false);

          const want = await scanMainlogFile(whole, { since, ...LIMITS });
          const got = await scanMainlogSources(given, { since, chunkBytes, ...LIMITS });
          expect(comparable(got)).toEqual(comparable(want));
          // Files before the window are not read; when all are, the offsets are those of the whole.
          expect(files.slice(files.length - got.files.length)).toEqual(got.files);
          if (got.files.length === files.length) expect(got.window).toEqual(want.window);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('keeps a cwd= line at the end of one file with the arrival at the start of the next', async () => {
    const a = [
      '2026-11-22 10:00:00 1xV5FE-0001it-00 <= x@shop.test U=u P=local S=1',
      '2026-11-22 10:00:05 cwd=/home/u/public_html/wp 3 args: /usr/sbin/sendmail -t -i',
    ];
    const b = [
      '2026-11-22 10:00:05 1xV5FE-0001iu-00 <= news@shop.test U=u P=local S=1 T="Hello"',
      '2026-11-22 10:00:09 1xV5FE-0001iv-00 <= news@shop.test U=u P=local S=1 T="Hello"',
    ];
    const fa = await write(text(a), true);
    const fb = await write(text(b), false);
    const got = await scanMainlogSources([fb, fa], LIMITS);
    const want = await scanMainlogFile(await write(text([...a, ...b]), false), LIMITS);
    expect(comparable(got)).toEqual(comparable(want));
    expect(got.cwd).toEqual([{ path: '/home/u/public_html/wp', count: 1, user: 'u', senders: [{ key: 'news@shop.test', count: 1 }], recipients: 0, deferrals: 0, failures: 0, first_seen: 20261122100005 }]);
    expect(got.files).toEqual([fa, fb]);
    expect(got.file).toBe(fb);
  });

  it('recognises gzip by its magic bytes, not by its name', async () => {
    const lines = ['2026-11-22 10:00:00 cwd=/home/a/public_html 3 args: /usr/sbin/sendmail -t -i'];
    const gzipNoSuffix = await write(text(lines), true, 'exim_mainlog');
    const plainWithSuffix = await write(text(lines), false, 'exim_mainlog-20261115.gz');
    expect(await isGzipFile(gzipNoSuffix)).toBe(true);
    expect(await isGzipFile(plainWithSuffix)).toBe(false);
    for (const f of [gzipNoSuffix, plainWithSuffix]) {
      const r = await scanMainlogSources([f]);
      expect(r.cwd.map((c) => [c.path, c.count])).toEqual([['/home/a/public_html', 1]]);
      expect(r.window.bytes_scanned).toBe(Buffer.byteLength(text(lines)));
    }
  });

  it('counts a since window back from the newest line of all files and reads only the files it needs', async () => {
    const day1 = ['2026-11-20 23:00:00 cwd=/home/old/public_html 3 args: /usr/sbin/sendmail -t -i'];
    const day2 = [
      '2026-11-21 12:00:00 cwd=/home/mid/public_html 3 args: /usr/sbin/sendmail -t -i',
      '2026-11-21 23:30:00 cwd=/home/mid/public_html 3 args: /usr/sbin/sendmail -t -i',
    ];
    const day3 = [
      '2026-11-22 01:00:00 cwd=/home/new/public_html 3 args: /usr/sbin/sendmail -t -i',
      '2026-11-22 01:00:30 cwd=/home/new/public_html 3 args: /usr/sbin/sendmail -t -i',
    ];
    const f1 = await write(text(day1), true, 'exim_mainlog-20261121.gz');
    const f2 = await write(text(day2), true, 'exim_mainlog-20261122.gz');
    const f3 = await write(text(day3), false, 'exim_mainlog');
    const short = await scanMainlogSources([f3, f1, f2], { since: '2h' });
    expect(short.window.from).toBe('2026-11-21 23:00:30');
    expect(short.files).toEqual([f2, f3]);
    expect(short.cwd.map((c) => [c.path, c.count])).toEqual([['/home/new/public_html', 2], ['/home/mid/public_html', 1]]);
    expect(short.window.last_time).toBe('2026-11-22 01:00:30');
    // The window opens in the file that starts before it; that file is read even if it turns
    // out to end before the window (only its successor's first line bounds it).
    const sameDay = await scanMainlogSources([f3, f1, f2], { since: '1h' });
    expect(sameDay.files).toEqual([f2, f3]);
    expect(sameDay.cwd.map((c) => [c.path, c.count])).toEqual([['/home/new/public_html', 2]]);
    const newestOnly = await scanMainlogSources([f3, f1, f2], { since: '10s' });
    expect(newestOnly.files).toEqual([f3]);
    expect(newestOnly.cwd.map((c) => [c.path, c.count])).toEqual([['/home/new/public_html', 1]]);
    const all = await scanMainlogSources([f2, f3, f1], { since: '2026-11-20 00:00' });
    expect(all.files).toEqual([f1, f2, f3]);
    expect(all.totals.cwd_submissions).toBe(5);
  });

  it('refuses a truncated or corrupt gzip file with an error naming it', async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => `2026-11-22 10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')} cwd=/home/a/public_html 3 args: /usr/sbin/sendmail -t -i`);
    const full = gzipSync(Buffer.from(text(lines)));
    const truncated = join(dir, 'exim_mainlog-truncated.gz');
    await writeFile(truncated, full.subarray(0, Math.floor(full.length / 2)));
    await expect(scanMainlogSources([truncated])).rejects.toThrow(/exim_mainlog-truncated\.gz: corrupt or truncated gzip data/);
    const corrupt = join(dir, 'exim_mainlog-corrupt.gz');
    const bad = Buffer.from(full);
    bad.fill(0x41, 10, 200);
    await writeFile(corrupt, bad);
    const good = await write(text(lines), false);
    await expect(scanMainlogSources([good, corrupt])).rejects.toThrow(/exim_mainlog-corrupt\.gz: corrupt or truncated gzip data/);
    await expect(scanMainlogSources([join(dir, 'missing.gz')])).rejects.toThrow(/missing\.gz/);
  });
});
