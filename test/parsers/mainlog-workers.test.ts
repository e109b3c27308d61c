// The worker-thread path only exists in the build (dist/): check it gives the same result as
// one sequential pass. `npm test` builds first; under CI a missing build fails this file.
import { existsSync } from 'node:fs';
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
});
