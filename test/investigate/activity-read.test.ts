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

  it('finds lines cut by the 4 MiB reads, and lines longer than a read, exactly once', async () => {
    // Lines of every length around the read size, so that cuts fall inside, before and after
    // the needle, on a newline, and inside a line longer than a whole read.
    const lines: string[] = [];
    let size = 0;
    for (let i = 0; size < 13 * 1024 * 1024; i++) {
      const pad = 'x'.repeat((i * 7919) % 3000);
      const line = i % 9 === 0 ? `t${i} <= spam@bad.example ${pad}` : i % 13 === 0 ? `t${i} -> spam@bad.example ${pad}` : `t${i} <= ok@fine.example ${pad}`;
      lines.push(line);
      size += line.length + 1;
    }
    lines.splice(500, 0, `long <= spam@bad.example ${'y'.repeat(9 * 1024 * 1024)}`);
    const file = join(dir, 'big');
    await writeFile(file, `${lines.join('\n')}\n`);
    for (const within of [' <= ', undefined]) {
      const got: string[] = [];
      for await (const l of linesContaining(file, ['spam@bad.example'], undefined, undefined, within)) got.push(l);
      expect(got).toEqual(lines.filter((l) => l.includes('spam@bad.example') && (within === undefined || l.includes(within))));
    }
  });
});
