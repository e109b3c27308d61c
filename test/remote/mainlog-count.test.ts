// The counting perl (run here as it runs on a target) gives the scanner's arrival count and
// the count of lines left out before the window, for any log, in order or not.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanMainlogFile } from '../../src/investigate/mainlog-file.js';
import { MainlogScanner } from '../../src/parsers/mainlog-scan.js';
import { MAINLOG_COUNT_PERL } from '../../src/remote/mainlog-count.pl.js';
import { arrivalLine, messyLog, prefix } from '../parsers/log-gen.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runbook-count-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function perlCounts(file: string, size: number, from: string | null): { arrivals: number; before: number } {
  const r = spawnSync('perl', ['-', file, String(size), from ?? '-'], { input: MAINLOG_COUNT_PERL, encoding: 'latin1' });
  if (r.status !== 0) throw new Error(`perl failed: ${r.stderr}`);
  const m = /^arrivals (\d+)\nbefore_window (\d+)\n$/.exec(r.stdout);
  if (m === null) throw new Error(`unexpected output ${JSON.stringify(r.stdout)}`);
  return { arrivals: Number(m[1]), before: Number(m[2]) };
}

/** Timestamped arrival lines in any order, with the generator's other lines and junk. */
const shuffledLog = fc
  .tuple(messyLog, fc.array(fc.tuple(fc.integer({ min: 0, max: 120 }), prefix, arrivalLine), { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 40 }))
  .map(([lines, extra, swaps]) => {
    const out = [...lines];
    for (const [dt, pre, body] of extra) {
      const ts = new Date(Date.UTC(2026, 10, 22, 10, 0, 0) + dt * 1000).toISOString().slice(0, 19).replace('T', ' ');
      out.push(pre.startsWith('[') ? `${ts} ${pre}${body}` : pre === '' ? `${ts} ${body}` : `${ts}${pre}${body}`);
    }
    for (let i = 0; i + 1 < swaps.length && out.length > 1; i += 2) {
      const a = swaps[i]! % out.length;
      const b = swaps[i + 1]! % out.length;
      [out[a], out[b]] = [out[b]!, out[a]!];
    }
    return out;
  });

describe('counting arrivals on the target with perl', () => {
  it('matches the local scanner over the same bytes, with and without a window', async () => {
    let n = 0;
    let counted = 0;
    await fc.assert(
      fc.asyncProperty(shuffledLog, fc.constantFrom(null, '2026-11-22 10:00:30', '2026-11-22 10:01:00', '2026-11-22 09:00:00'), async (lines, from) => {
        const bytes = Buffer.from(lines.length === 0 ? '' : `${lines.join('\n')}\n`, 'latin1');
        const file = join(dir, `log${n++}`);
        await writeFile(file, bytes);
        const scanner = new MainlogScanner();
        if (from !== null) scanner.setWindow(from);
        scanner.feed(bytes, 0, bytes.length);
        const local = scanner.result({ startOffset: 0, endOffset: bytes.length });
        const got = perlCounts(file, bytes.length, from);
        expect(got).toEqual({ arrivals: local.totals.arrivals, before: local.window.lines_before_window });
        counted += got.arrivals;
        // The file scanner, which enters the window by binary search, counts the same arrivals.
        if (from !== null) expect((await scanMainlogFile(file, { since: from })).totals.arrivals).toBe(got.arrivals);
      }),
      { numRuns: 100 },
    );
    expect(counted).toBeGreaterThan(0);
  });
});
