// The main log on this machine with its rotated predecessors (cPanel's daily/weekly rotation).
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eximDetectionActions } from '../../src/actions/exim/detection.js';
import type { ReadOnlyAction } from '../../src/actions/types.js';
import { scanMainlogFile } from '../../src/investigate/mainlog-file.js';
import type { MainlogSourcesResult } from '../../src/investigate/mainlog-sources.js';
import { rotatedNames, scanMainlogWithRotation } from '../../src/investigate/rotated-logs.js';
import type { MainlogScanResult } from '../../src/parsers/mainlog-scan.js';
import { makeContext } from '../actions/support/context.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'runbook-rotation-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** One script submission (cwd= line and its arrival) per minute from `hh:mm` on `day`. */
function day(date: string, from: string, count: number, dir: string): string[] {
  const [h, m] = from.split(':').map(Number) as [number, number];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const t = h * 60 + m + i;
    const ts = `${date} ${String(Math.floor(t / 60) % 24).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}:07`;
    out.push(`${ts} cwd=${dir} 3 args: /usr/sbin/sendmail -t -i`);
    out.push(`${ts} 1xV5FE-${String(t).padStart(6, '0')}-00 <= news@shop.test U=shop P=local S=900 T="Offer ${date}"`);
  }
  return out;
}
const text = (lines: string[]): string => `${lines.join('\n')}\n`;

function comparable(r: MainlogScanResult): unknown {
  const { file: _f, files: _fs, window, ...rest } = r as MainlogSourcesResult;
  const { start_offset: _s, end_offset: _e, ...w } = window;
  return { ...rest, window: w };
}

/**
 * A log directory: the current log and predecessors written plain or gzip, each last written
 * when its newest line was (as on a host; others long before), since the last write of a
 * rotation decides whether it is read when the time order says it is not needed.
 */
async function logDir(files: Record<string, { lines: string[]; gzip: boolean } | 'dir' | Buffer>): Promise<string> {
  const dir = await mkdtemp(join(root, 'log-'));
  for (const [name, spec] of Object.entries(files)) {
    const path = join(dir, name);
    if (spec === 'dir') await mkdir(path);
    else if (Buffer.isBuffer(spec)) await writeFile(path, spec);
    else await writeFile(path, spec.gzip ? gzipSync(Buffer.from(text(spec.lines))) : text(spec.lines));
    const last = typeof spec === 'object' && !Buffer.isBuffer(spec) ? spec.lines.at(-1)?.slice(0, 19) : undefined;
    const when = new Date((last ?? '2026-11-01 00:00:00').replace(' ', 'T'));
    await utimes(path, when, when);
  }
  return dir;
}

const d20 = day('2026-11-20', '22:00', 120, '/home/shop/public_html/a');
const d21 = day('2026-11-21', '00:00', 24 * 60, '/home/shop/public_html/b');
const d22 = day('2026-11-22', '00:00', 300, '/home/shop/public_html/c');

describe('rotated predecessor names', () => {
  it('orders dated rotations by date and numbered ones by number, newest first', () => {
    expect(rotatedNames('exim_mainlog', [
      'exim_mainlog', 'exim_mainlog-20261115.gz', 'exim_mainlog-20261122.gz', 'exim_mainlog-20261108', 'exim_mainlog.2.gz', 'exim_mainlog.1',
      'exim_mainlog.10.gz', 'exim_rejectlog-20261122.gz', 'exim_mainlog-2026111.gz', 'exim_mainlog.old', 'xexim_mainlog.1', 'exim_mainlog-20261122.gz.tmp',
    ])).toEqual(['exim_mainlog-20261122.gz', 'exim_mainlog-20261115.gz', 'exim_mainlog-20261108', 'exim_mainlog.1', 'exim_mainlog.2.gz', 'exim_mainlog.10.gz']);
    expect(rotatedNames('main.log', ['mainXlog.1', 'main.log.1'])).toEqual(['main.log.1']);
  });
});

describe('scanning the main log with its rotations', () => {
  it('reads only the current log while the window lies inside it', async () => {
    const dir = await logDir({ exim_mainlog: { lines: d22, gzip: false }, 'exim_mainlog-20261122.gz': Buffer.from('not read') });
    const r = await scanMainlogWithRotation(join(dir, 'exim_mainlog'), { since: '2h' });
    expect(r.files).toEqual([join(dir, 'exim_mainlog')]);
    expect(r.unreadable_files).toBeUndefined();
    expect(r).toEqual({ ...(await scanMainlogFile(join(dir, 'exim_mainlog'), { since: '2h' })), files: [join(dir, 'exim_mainlog')] });
  });

  it('reads back through dated gzip rotations as far as the window needs, and no further', async () => {
    const dir = await logDir({
      exim_mainlog: { lines: d22, gzip: false },
      'exim_mainlog-20261122.gz': { lines: d21, gzip: true },
      'exim_mainlog-20261121.gz': { lines: d20, gzip: true },
      // Never opened: the window is covered before reaching it.
      'exim_mainlog-20261120.gz': Buffer.from([0x1f, 0x8b, 0, 0]),
    });
    const whole = join(root, 'whole-dated');
    await writeFile(whole, text([...d20, ...d21, ...d22]));
    for (const [since, files] of [
      ['10h', ['exim_mainlog-20261122.gz', 'exim_mainlog']],
      ['30h', ['exim_mainlog-20261121.gz', 'exim_mainlog-20261122.gz', 'exim_mainlog']],
      ['2026-11-21 12:00', ['exim_mainlog-20261122.gz', 'exim_mainlog']],
    ] as const) {
      const r = await scanMainlogWithRotation(join(dir, 'exim_mainlog'), { since, limit: 1000, nestedLimit: 1000 });
      expect(r.files).toEqual(files.map((f) => join(dir, f)));
      expect(r.unreadable_files).toBeUndefined();
      expect(comparable(r)).toEqual(comparable(await scanMainlogFile(whole, { since, limit: 1000, nestedLimit: 1000 })));
    }
    const r = await scanMainlogWithRotation(join(dir, 'exim_mainlog'), { since: '10h' });
    expect(r.window.from).toBe('2026-11-21 18:59:07');
    expect(r.cwd.map((c) => [c.path, c.count])).toEqual([['/home/shop/public_html/b', 301], ['/home/shop/public_html/c', 300]]);
  });

  it('reads numbered rotations (.1 plain, .2.gz) and a current log just rotated and still empty', async () => {
    const dir = await logDir({
      exim_mainlog: { lines: [], gzip: false },
      'exim_mainlog.1': { lines: d22, gzip: false },
      'exim_mainlog.2.gz': { lines: d21, gzip: true },
    });
    const r = await scanMainlogWithRotation(join(dir, 'exim_mainlog'), { since: '6h' });
    // Counted back from the newest line there is: the end of exim_mainlog.1.
    expect(r.window.from).toBe('2026-11-21 22:59:07');
    expect(r.files).toEqual([join(dir, 'exim_mainlog.2.gz'), join(dir, 'exim_mainlog.1'), join(dir, 'exim_mainlog')]);
    expect(r.totals.cwd_submissions).toBe(300 + 61);
    expect(r.file).toBe(join(dir, 'exim_mainlog'));
  });

  it('leaves out a rotated file it cannot read and says so, keeping the rest of the window', async () => {
    const big = day('2026-11-21', '00:00', 24 * 60, '/home/shop/public_html/b');
    const gz = gzipSync(Buffer.from(text(big)));
    const dir = await logDir({
      exim_mainlog: { lines: d22, gzip: false },
      // Its start decompresses, its end is cut off: found only while scanning.
      'exim_mainlog-20261122.gz': gz.subarray(0, gz.length - 200),
      'exim_mainlog-20261121.gz': 'dir',
    });
    const r = await scanMainlogWithRotation(join(dir, 'exim_mainlog'), { since: '40h' });
    expect(r.files).toEqual([join(dir, 'exim_mainlog')]);
    expect(r.unreadable_files?.map((u) => u.file).sort()).toEqual([join(dir, 'exim_mainlog-20261121.gz'), join(dir, 'exim_mainlog-20261122.gz')]);
    expect(r.unreadable_files?.find((u) => u.file.endsWith('20261122.gz'))?.error).toMatch(/exim_mainlog-20261122\.gz: corrupt or truncated gzip data/);
    expect(r.unreadable_files?.find((u) => u.file.endsWith('20261121.gz'))?.error).toMatch(/exim_mainlog-20261121\.gz.*EISDIR/);
    expect(r.totals.cwd_submissions).toBe(300);
  });
});

describe('exim.mainlog.scan on this machine', () => {
  it('reports the rotated files it read, and a rotated file it could not read as a note', async () => {
    const dir = await logDir({
      exim_mainlog: { lines: d22, gzip: false },
      'exim_mainlog-20261122.gz': { lines: d21, gzip: true },
      'exim_mainlog-20261121.gz': 'dir',
    });
    const action = eximDetectionActions.find((a) => a.name === 'exim.mainlog.scan') as ReadOnlyAction;
    const ctx = makeContext();
    const r = await action.run(ctx, { path: join(dir, 'exim_mainlog'), since: '30h' } as never);
    expect(r.outputs['files']).toEqual([join(dir, 'exim_mainlog-20261122.gz'), join(dir, 'exim_mainlog')]);
    expect((r.outputs['totals'] as { cwd_submissions: number }).cwd_submissions).toBe(24 * 60 + 300);
    expect(ctx.notes).toEqual([{ message: expect.stringMatching(/rotated main log not read: .*exim_mainlog-20261121\.gz/), data: { file: join(dir, 'exim_mainlog-20261121.gz') } }]);
    expect(ctx.progressLines.some((l) => l.includes('exim_mainlog-20261121.gz'))).toBe(true);
  });
});
