// A rotated set is placed in time by each file's first line, but that order is not taken on
// trust when the window is entered: a file placed before the window that still holds lines of
// it (rotations that overlap, a copy out of order) is read, and one that cannot be read to
// tell is reported as left out, never taken to hold nothing.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanMainlogSources } from '../../src/investigate/mainlog-sources.js';
import { counts, current, cwd, hourly } from './cwd-lines.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runbook-rotated-overlap-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function write(lines: string[], gzip: boolean): Promise<string> {
  const path = join(dir, `exim_mainlog-${n++}${gzip ? '.gz' : ''}`);
  const text = `${lines.join('\n')}\n`;
  await writeFile(path, gzip ? gzipSync(Buffer.from(text)) : text);
  return path;
}


describe('a rotated set whose files are not in time order', () => {
  for (const [olderGzip, currentGzip] of [[true, false], [false, false], [true, true], [false, true]] as const) {
    const kinds = `${olderGzip ? 'gzip' : 'plain'} older file, ${currentGzip ? 'gzip' : 'plain'} current one`;

    it(`reads the window's lines in an older file whose time range overlaps the next (${kinds})`, async () => {
      // The day rotated late: the older file runs to 23:00, past where the current one starts.
      const older = await write(hourly('2026-11-21', 0, 23, 'old'), olderGzip);
      const now = await write(current, currentGzip);
      const r = await scanMainlogSources([now, older], { since: '4h' });
      expect(r.window.from).toBe('2026-11-21 21:00:00');
      expect(r.files).toEqual([older, now]);
      expect(counts(r)).toEqual({ old: 3, new: 5 });
      expect(r.left_out).toEqual([]);
    });

    it(`reads a file placed early by a stray old first line that holds lines of the window (${kinds})`, async () => {
      const wholly = await write(hourly('2026-11-19', 0, 23, 'gone'), olderGzip);
      const stray = await write([cwd('2026-11-20 08:00:00', 'stray'), cwd('2026-11-21 22:30:00', 'late'), cwd('2026-11-21 22:45:00', 'late')], olderGzip);
      const now = await write(current, currentGzip);
      const r = await scanMainlogSources([wholly, now, stray], { since: '4h' });
      // The file wholly before the window is still not read.
      expect(r.files).toEqual([stray, now]);
      expect(counts(r)).toEqual({ late: 2, new: 5 });
      expect(r.left_out).toEqual([]);
    });

    it(`leaves a file alone when its newest line is before the window (${kinds})`, async () => {
      const older = await write(hourly('2026-11-21', 0, 20, 'old'), olderGzip);
      const now = await write(current, currentGzip);
      const r = await scanMainlogSources([older, now], { since: '4h' });
      expect(r.files).toEqual([now]);
      expect(counts(r)).toEqual({ new: 5 });
      expect(r.left_out).toEqual([]);
    });
  }

  it('reports an older gzip file that breaks before its end as left out, and reads the rest', async () => {
    // Big enough that its head (the first timestamp) decompresses and its end does not.
    const lines = Array.from({ length: 20_000 }, (_, i) => cwd(`2026-11-21 ${String(Math.floor(i / 1200) + 2).padStart(2, '0')}:${String(Math.floor(i / 20) % 60).padStart(2, '0')}:00`, 'broken'));
    const full = gzipSync(Buffer.from(`${lines.join('\n')}\n`));
    const broken = join(dir, 'exim_mainlog-broken.gz');
    await writeFile(broken, full.subarray(0, Math.floor(full.length * 0.6)));
    const now = await write(current, false);
    const r = await scanMainlogSources([broken, now], { since: '4h' });
    expect(r.files).toEqual([now]);
    expect(counts(r)).toEqual({ new: 5 });
    expect(r.left_out).toHaveLength(1);
    expect(r.left_out[0]).toMatchObject({ file: broken, bytes: Math.floor(full.length * 0.6) });
    expect(r.left_out[0]!.reason).toMatch(/^it starts before the window and could not be read to tell whether it holds lines of it \(corrupt or truncated gzip data/);
  });
});
