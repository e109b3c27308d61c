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
