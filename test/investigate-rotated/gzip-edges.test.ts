// Two gzip rotations that the three readers once read differently: one with trailing garbage
// after its gzip data (read by the native counter, refused by perl and node) and one cut inside
// its first line (dated by the host's reading, unreadable to both counters). Now all three read
// what is readable: the garbage is left out and said (bytes and why, for the verdict's
// problems), the rotation cut in its first line is unreadable and the older ones are still read.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { leftOutProblems } from '../../src/investigate/gather.js';
import { scanMainlogSources } from '../../src/investigate/mainlog-sources.js';
import { scanMainlogWithRotation, type RotatedScanResult } from '../../src/investigate/rotated-logs.js';
import { nativeCounter } from '../../src/remote/native-count.js';
import { scanMainlogRemoteRotated } from '../../src/remote/rotated-scan.js';
import { LocalTransport } from '../../src/transport/local.js';
import { counts, text } from './cwd-lines.js';

const root = mkdtempSync(join(tmpdir(), 'runbook-gzip-edges-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const home = join(root, 'home');
mkdirSync(join(home, '.cache'), { recursive: true });
const local = new LocalTransport({ env: { HOME: home } });
const built = nativeCounter() !== null;

const day = (date: string, n: number, tag: string): string[] =>
  Array.from({ length: n }, (_, i) => `${date} ${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00 cwd=/home/${tag}/public_html 3 args: /usr/sbin/sendmail -t -i`);
const garbage = Buffer.from('\nappended by hand: not gzip\n');

/** The three readings, which must agree (unreadable files by name: zlib's words differ by wrapper). */
async function readings(current: string, since: string): Promise<RotatedScanResult> {
  const shape = (r: RotatedScanResult): unknown => ({ ...r, unreadable_files: (r.unreadable_files ?? []).map((u) => u.file) });
  const onHost = await scanMainlogWithRotation(current, { since });
  expect(shape(await scanMainlogRemoteRotated(local, current, { since, counter: 'perl' }))).toEqual(shape(onHost));
  if (built) expect(shape(await scanMainlogRemoteRotated(local, current, { since, counter: 'native' }))).toEqual(shape(onHost));
  return onHost;
}

let sets = 0;
function set(files: Record<string, Buffer | string>, mtimes: Record<string, string>): string {
  const dir = join(root, `set${sets++}`);
  mkdirSync(dir);
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  for (const [name, when] of Object.entries(mtimes)) utimesSync(join(dir, name), new Date(when), new Date(when));
  return join(dir, 'exim_mainlog');
}

describe('damaged gzip rotations, read alike on the host, by perl and by the native counter', () => {
  it('trailing garbage: the gzip data is read, the bytes after it left out and said', async () => {
    const current = set(
      {
        exim_mainlog: text(day('2026-11-22', 300, 'new')),
        'exim_mainlog.1.gz': Buffer.concat([gzipSync(Buffer.from(text(day('2026-11-21', 1440, 'mid')))), garbage]),
      },
      { exim_mainlog: '2026-11-22T04:59:00Z', 'exim_mainlog.1.gz': '2026-11-21T23:59:00Z' },
    );
    const r = await readings(current, '30h');
    expect(r.files).toEqual([`${current}.1.gz`, current]);
    expect(counts(r)).toEqual({ mid: 1440, new: 300 });
    expect(r.unreadable_files).toBeUndefined();
    expect(r.left_out).toEqual([{ file: `${current}.1.gz`, bytes: garbage.length, reason: expect.stringMatching(/trailing garbage/) }]);
    expect(leftOutProblems(r)).toEqual([`main log ${current}.1.gz: ${garbage.length} bytes not read: the ${garbage.length} bytes after its gzip data are no gzip data (trailing garbage, as from a copy appended to): not read`]);
    // Offline, given as files: the same.
    const offline = await scanMainlogSources([`${current}.1.gz`, current], { since: '30h' });
    expect(counts(offline)).toEqual(counts(r));
    expect(offline.left_out).toEqual(r.left_out);
    // Zero padding is no garbage.
    writeFileSync(`${current}.1.gz`, Buffer.concat([gzipSync(Buffer.from(text(day('2026-11-21', 1440, 'mid')))), Buffer.alloc(512)]));
    utimesSync(`${current}.1.gz`, new Date('2026-11-21T23:59:00Z'), new Date('2026-11-21T23:59:00Z'));
    expect((await readings(current, '30h')).left_out).toEqual([]);
  });

  it('cut inside its first line: unreadable to all three, and the older rotations are still read', async () => {
    const first = `2026-11-21 00:00:00 cwd=/home/${'cut'.repeat(40)}/public_html 3 args: /usr/sbin/sendmail -t -i`;
    const current = set(
      {
        exim_mainlog: text(day('2026-11-22', 300, 'new')),
        // 100 bytes of its first line decompress, then its gzip data ends.
        'exim_mainlog.1.gz': gzipSync(Buffer.from(first.slice(0, 100)), { finishFlush: constants.Z_SYNC_FLUSH }),
        'exim_mainlog.2.gz': gzipSync(Buffer.from(text(day('2026-11-20', 1440, 'old')))),
      },
      { exim_mainlog: '2026-11-22T04:59:00Z', 'exim_mainlog.1.gz': '2026-11-21T00:00:00Z', 'exim_mainlog.2.gz': '2026-11-20T23:59:00Z' },
    );
    const r = await readings(current, '40h');
    expect(r.files).toEqual([`${current}.2.gz`, current]);
    expect(r.unreadable_files?.map((u) => u.file)).toEqual([`${current}.1.gz`]);
    expect(r.unreadable_files?.[0]?.error).toMatch(/corrupt or truncated gzip data \(unexpected end of file\)/);
    expect(counts(r)).toEqual({ old: 1440 - 12 * 60 - 59, new: 300 });
  });
});
