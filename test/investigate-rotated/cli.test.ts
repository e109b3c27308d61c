// `runbook investigate --mainlog` with a rotated set copied off a server.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runbook-rotated-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `count` script submissions from one directory, one a second from `start` (HH:MM). */
function burst(day: string, start: string, count: number, path: string): string {
  const [h, m] = start.split(':').map(Number) as [number, number];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const t = h * 3600 + m * 60 + i;
    const ts = `${day} ${String(Math.floor(t / 3600)).padStart(2, '0')}:${String(Math.floor(t / 60) % 60).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
    out.push(`${ts} cwd=${path} 3 args: /usr/sbin/sendmail -t -i`);
    out.push(`${ts} 1xV5FE-${String(i).padStart(6, '0')}-00 <= news@shop.test U=shop P=local S=900 T="Cheap pills"`);
  }
  return `${out.join('\n')}\n`;
}

describe('runbook investigate --mainlog with rotated and gzip files', () => {
  it('reads a gzip rotation and the current log given in any order, as one log', async () => {
    // 80 messages before the rotation and 80 after: only together do they cross 100. (The
    // window minimum is min_messages per day scaled to the 2-hour window: 1200 gives 100.)
    const rotated = join(dir, 'exim_mainlog-20261122.gz');
    const current = join(dir, 'exim_mainlog');
    await writeFile(rotated, gzipSync(burst('2026-11-21', '23:50', 80, '/home/shop/public_html/wp-includes')));
    await writeFile(current, burst('2026-11-22', '00:10', 80, '/home/shop/public_html/wp-includes'));
    const both = await runCli(['investigate', '--mainlog', current, '--mainlog', rotated, '--since', '2h', '--min-messages', '1200', '--json']);
    expect(both.code, both.stderr).toBe(0);
    expect(both.stdout).toContain('160 messages submitted from /home/shop/public_html/wp-includes');
    const currentOnly = await runCli(['investigate', '--mainlog', current, '--since', '2h', '--min-messages', '1200', '--json']);
    expect(currentOnly.code, currentOnly.stderr).toBe(0);
    expect(currentOnly.stdout).not.toContain('submitted from /home/shop/public_html/wp-includes');
  });

  it('a truncated gzip file is an input error naming the file, like a missing one', async () => {
    const truncated = join(dir, 'exim_mainlog-20261115.gz');
    const full = gzipSync(burst('2026-11-15', '10:00', 500, '/home/a/public_html'));
    await writeFile(truncated, full.subarray(0, Math.floor(full.length / 2)));
    const bad = await runCli(['investigate', '--mainlog', truncated, '--json']);
    const missing = await runCli(['investigate', '--mainlog', join(dir, 'nope'), '--json']);
    expect(missing.code).not.toBe(0);
    expect(bad.code).toBe(missing.code);
    expect(bad.stdout).toMatch(/exim_mainlog-20261115\.gz: corrupt or truncated gzip data/);
    const human = await runCli(['investigate', '--mainlog', truncated]);
    expect(human.code).toBe(missing.code);
    expect(human.stdout).toMatch(/Problem: main log: .*exim_mainlog-20261115\.gz: corrupt or truncated gzip data/);
  });
});
