// The worker-thread path only exists in the build (dist/): check it gives the same result as
// one sequential pass. `npm test` builds first; under CI a missing build fails this file.
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanMainlogBuffer } from '../../src/parsers/mainlog-scan.js';
import { messyLog } from './log-gen.js';

const built = resolve('dist/investigate/mainlog-file.js');
const available = existsSync(built) && existsSync(resolve('dist/investigate/mainlog-worker.js'));
if (!available && process.env.CI) throw new Error('dist/ is missing: run the build before the tests');

describe.runIf(available)('main-log scan in worker threads (built package)', () => {
  it('matches the in-memory scan for any split', async () => {
    const mod = (await import(pathToFileURL(built).href)) as typeof import('../../src/investigate/mainlog-file.js');
    const dir = await mkdtemp(join(tmpdir(), 'runbook-workers-'));
    try {
      const samples = fc.sample(fc.array(messyLog, { minLength: 20, maxLength: 40 }).map((logs) => logs.flat()), { numRuns: 4, seed: 42 });
      let n = 0;
      for (const lines of samples) {
        const text = `${lines.join('\n')}\n`;
        const file = join(dir, `log${n++}`);
        await writeFile(file, text);
        for (const workers of [2, 3]) {
          const got = await mod.scanMainlogFile(file, { workers, splitThresholdBytes: 0, chunkBytes: 512, limit: 1000, nestedLimit: 1000 });
          const want = scanMainlogBuffer(Buffer.from(text), { limit: 1000, nestedLimit: 1000 });
          expect({ ...got, file: null }).toEqual(want);
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('leave out lines dated before the window in every thread, for a log out of time order', async () => {
    const mod = (await import(pathToFileURL(built).href)) as typeof import('../../src/investigate/mainlog-file.js');
    const dir = await mkdtemp(join(tmpdir(), 'runbook-workers-window-'));
    try {
      const line = (day: string, k: number, who: string): string =>
        `${day} 10:${String(Math.floor(k / 60) % 60).padStart(2, '0')}:${String(k % 60).padStart(2, '0')} 1xV5FE-0001it-00 <= ${who}@x.test U=u P=local T="t" for r@y.test`;
      // Merged by hand: new lines, then old ones, then new ones again.
      const lines = [
        ...Array.from({ length: 500 }, (_, k) => line('2026-11-21', k, 'early')),
        ...Array.from({ length: 3000 }, (_, k) => line('2026-10-01', k, 'old')),
        ...Array.from({ length: 500 }, (_, k) => line('2026-11-22', k, 'late')),
      ];
      const file = join(dir, 'exim_mainlog');
      await writeFile(file, `${lines.join('\n')}\n`);
      const want = scanMainlogBuffer(Buffer.from(`${lines.filter((l) => !l.startsWith('2026-10')).join('\n')}\n`));
      for (const workers of [1, 2, 3]) {
        const got = await mod.scanMainlogFile(file, { since: '7d', workers, splitThresholdBytes: 0, chunkBytes: 4096 });
        expect(got.totals).toEqual(want.totals);
        expect(got.senders).toEqual(want.senders);
        expect(got.window.lines_before_window).toBe(3000);
        expect(got.window.lines_out_of_order).toBe(500);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('workers read the file that was opened, even when the log is rotated during the scan', async () => {
    const mod = (await import(pathToFileURL(built).href)) as typeof import('../../src/investigate/mainlog-file.js');
    const dir = await mkdtemp(join(tmpdir(), 'runbook-workers-rotated-'));
    try {
      const text = Array.from({ length: 4000 }, (_, k) => `2026-11-22 10:${String(Math.floor(k / 60) % 60).padStart(2, '0')}:${String(k % 60).padStart(2, '0')} 1xV5FE-0001it-00 <= s${k % 7}@x.test U=u P=local T="t" for r@y.test`).join('\n') + '\n';
      const file = join(dir, 'exim_mainlog');
      await writeFile(file, text);
      let rotated = false;
      const got = await mod.scanMainlogFile(file, {
        workers: 3,
        splitThresholdBytes: 0,
        chunkBytes: 4096,
        onProgress: () => {
          // logrotate's move-and-create, while the workers are starting or reading.
          if (rotated) return;
          rotated = true;
          renameSync(file, `${file}.1`);
          writeFileSync(file, '');
        },
      });
      expect(rotated).toBe(true);
      expect(got.totals.arrivals).toBe(4000);
      expect({ ...got, file: null }).toEqual(scanMainlogBuffer(Buffer.from(text)));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
