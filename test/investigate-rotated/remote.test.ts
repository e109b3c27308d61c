// Rotated main logs read by perl on the host give what reading them on the host gives.
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanMainlogFile } from '../../src/investigate/mainlog-file.js';
import { scanMainlogWithRotation, type RotatedScanResult } from '../../src/investigate/rotated-logs.js';
import type { MainlogScanResult } from '../../src/parsers/mainlog-scan.js';
import { scanMainlogRemoteRotated } from '../../src/remote/rotated-scan.js';
import { LocalTransport } from '../../src/transport/local.js';
import { startSshHosts, sshAvailable, type SshTestFleet } from '../support/ssh-hosts.js';
import { timedLog } from '../parsers/log-gen.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'runbook-rotated-remote-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const text = (lines: string[]): string => (lines.length === 0 ? '' : `${lines.join('\n')}\n`);

/** Unreadable files are compared by name: perl and node word their errors differently. */
function sameShape(r: RotatedScanResult): unknown {
  const { unreadable_files, ...rest } = r;
  return { ...rest, unreadable: (unreadable_files ?? []).map((u) => u.file).sort() };
}

function comparable(r: MainlogScanResult): unknown {
  const { file: _f, files: _fs, unreadable_files: _u, window, ...rest } = r as RotatedScanResult;
  const { start_offset: _s, end_offset: _e, ...w } = window;
  return { ...rest, window: w };
}

/** `segments` oldest first; the last is the current log, the others dated rotations. */
async function rotatedSet(segments: string[][], gzip: boolean[]): Promise<{ dir: string; current: string }> {
  const dir = await mkdtemp(join(root, 'set-'));
  for (let i = 0; i < segments.length; i++) {
    const current = i === segments.length - 1;
    const name = current ? 'exim_mainlog' : `exim_mainlog-202611${String(10 + i).padStart(2, '0')}${gzip[i] ? '.gz' : ''}`;
    const body = text(segments[i]!);
    await writeFile(join(dir, name), gzip[i] && !current ? gzipSync(Buffer.from(body)) : body);
    // Last written when its newest line was, as on a host (see reachByLastWrite).
    const when = new Date((segments[i]!.at(-1)?.slice(0, 19) ?? '2026-11-01 00:00:00').replace(' ', 'T'));
    await utimes(join(dir, name), when, when);
  }
  return { dir, current: join(dir, 'exim_mainlog') };
}

describe('rotated main logs, read on the host by perl', () => {
  const local = new LocalTransport();

  it('matches the local reading and one scan of the files read, for any split and window', async () => {
    await fc.assert(
      fc.asyncProperty(
        timedLog(100),
        fc.array(fc.nat(), { maxLength: 3 }),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        fc.constantFrom('1m', '30s', '2m', '5s', '2026-11-22 10:01', '2026-11-22 09:00'),
        async (lines, cutChoices, gzip, since) => {
          const cuttable = lines.map((_, i) => i).filter((i) => i > 0 && lines[i]!.slice(0, 19) > lines[i - 1]!.slice(0, 19));
          const cuts = [...new Set(cuttable.length === 0 ? [] : cutChoices.map((c) => cuttable[c % cuttable.length]!))].sort((a, b) => a - b);
          const bounds = [0, ...cuts, lines.length];
          const segments = bounds.slice(1).map((e, i) => lines.slice(bounds[i], e));
          const { current } = await rotatedSet(segments, gzip);
          const onHost = await scanMainlogWithRotation(current, { since });
          const remote = await scanMainlogRemoteRotated(local, current, { since });
          expect(sameShape(remote)).toEqual(sameShape(onHost));
          // And both are one scan of the files read, concatenated.
          const whole = join(root, `whole-${Math.random().toString(36).slice(2)}`);
          const readIdx = onHost.files.map((f) => (f === current ? segments.length - 1 : Number(f.match(/-202611(\d\d)/)![1]) - 10));
          await writeFile(whole, readIdx.map((i) => text(segments[i]!)).join(''));
          expect(comparable(onHost)).toEqual(comparable(await scanMainlogFile(whole, { since })));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('leaves out an unreadable or broken rotation and an empty just-rotated log counts back from the newest line', async () => {
    const day = (date: string, n: number, tag: string) =>
      Array.from({ length: n }, (_, i) => `${date} ${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00 cwd=/home/${tag}/public_html 3 args: /usr/sbin/sendmail -t -i`);
    const dir = await mkdtemp(join(root, 'broken-'));
    const big = gzipSync(Buffer.from(text(day('2026-11-20', 1440, 'old'))));
    await writeFile(join(dir, 'exim_mainlog'), '');
    await writeFile(join(dir, 'exim_mainlog.1'), text(day('2026-11-22', 300, 'new')));
    await writeFile(join(dir, 'exim_mainlog.2.gz'), gzipSync(Buffer.from(text(day('2026-11-21', 1440, 'mid')))));
    await writeFile(join(dir, 'exim_mainlog.3.gz'), big.subarray(0, big.length - 100));
    await mkdir(join(dir, 'exim_mainlog.4.gz'));
    const current = join(dir, 'exim_mainlog');
    for (const since of ['2h', '30h', '60h']) {
      const onHost = await scanMainlogWithRotation(current, { since });
      const remote = await scanMainlogRemoteRotated(local, current, { since });
      expect(sameShape(remote)).toEqual(sameShape(onHost));
    }
    const r = await scanMainlogRemoteRotated(local, current, { since: '60h' });
    expect(r.files).toEqual([join(dir, 'exim_mainlog.2.gz'), join(dir, 'exim_mainlog.1'), current]);
    expect(r.unreadable_files?.map((u) => u.file).sort()).toEqual([join(dir, 'exim_mainlog.3.gz'), join(dir, 'exim_mainlog.4.gz')]);
    expect(r.unreadable_files?.find((u) => u.file.endsWith('.3.gz'))?.error).toMatch(/exim_mainlog\.3\.gz: corrupt or truncated gzip data/);
    expect(r.window.last_time).toBe('2026-11-22 04:59:00');
    expect(r.cwd.map((c) => c.path)).toEqual(['/home/mid/public_html', '/home/new/public_html']);
  });
});

describe.runIf(sshAvailable || process.env.CI)('rotated main logs over SSH', () => {
  let fleet: SshTestFleet;
  const lines = (date: string, n: number) =>
    Array.from({ length: n }, (_, i) => `${date} ${String(Math.floor(i / 60) % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00 1xV5FE-${String(i).padStart(6, '0')}-00 <= news@shop.test U=shop P=local S=900 T="Offer"`);
  const older = gzipSync(Buffer.from(text(lines('2026-11-21', 1440))));
  const current = text(lines('2026-11-22', 120));
  beforeAll(async () => {
    fleet = await startSshHosts(1, {
      namePrefix: 'rot',
      prepare: async ({ root: hostRoot }) => {
        await mkdir(join(hostRoot, 'var/log/exim4'), { recursive: true });
        await writeFile(join(hostRoot, 'var/log/exim4/mainlog'), current);
        await writeFile(join(hostRoot, 'var/log/exim4/mainlog-20261122.gz'), older);
      },
    });
  });
  afterAll(async () => {
    await fleet?.stop();
  });

  it('reads and counts the gzip rotation on the host, as a local reading does', async () => {
    const t = fleet.transport(fleet.hosts[0]!);
    const dir = await mkdtemp(join(root, 'ssh-'));
    await writeFile(join(dir, 'mainlog'), current);
    await writeFile(join(dir, 'mainlog-20261122.gz'), older);
    try {
      const remote = await scanMainlogRemoteRotated(t, '/var/log/exim4/mainlog', { since: '12h' });
      const onHost = await scanMainlogWithRotation(join(dir, 'mainlog'), { since: '12h' });
      expect(remote.files).toEqual(['/var/log/exim4/mainlog-20261122.gz', '/var/log/exim4/mainlog']);
      expect(comparable(remote)).toEqual(comparable(onHost));
      expect(remote.window.from).toBe('2026-11-21 13:59:00');
      expect(remote.totals.arrivals).toBe(601 + 120);
    } finally {
      await t.close();
    }
  });
});
