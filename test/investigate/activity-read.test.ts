// The history pass's line finder: one pass for many ids gives exactly the lines a search per
// id gives, in file order, each once.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linesContaining } from '../../src/investigate/activity-read.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runbook-needles-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const text = fc.string({ unit: fc.constantFrom('a', 'b', '@', ' ', '<', '=', '[', '1', '.', ']', 'é'), maxLength: 40 });

describe('lines holding one of many strings', () => {
  it('are the lines a naive search finds, with and without a marker', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(text, { maxLength: 30 }), fc.array(text.filter((s) => s !== ''), { minLength: 1, maxLength: 12 }), fc.boolean(), async (lines, needles, marked) => {
        const file = join(dir, `f${n++}`);
        await writeFile(file, lines.join('\n'));
        const within = marked ? ' <= ' : undefined;
        const got: string[] = [];
        for await (const l of linesContaining(file, needles, undefined, undefined, within)) got.push(l);
        const want = lines.filter((l) => needles.some((x) => l.includes(x)) && (within === undefined || l.includes(within)));
        expect(got).toEqual(want);
      }),
      { numRuns: 150 },
    );
  });
});
