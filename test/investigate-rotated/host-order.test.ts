// On a host (this machine, or one over SSH) a rotated file that the time order places before the
// window is read when its last write falls inside it, so lines of the window left there (logs
// merged by hand, a clock that jumped) are counted; one that cannot then be read is left out and
// said, as offline files are (overlap.test.ts).
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eximDetectionActions } from '../../src/actions/exim/detection.js';
import type { ReadOnlyAction } from '../../src/actions/types.js';
import { scanMainlogWithRotation, type RotatedScanResult } from '../../src/investigate/rotated-logs.js';
import { scanMainlogRemoteRotated } from '../../src/remote/rotated-scan.js';
import type { CounterReport } from '../../src/remote/scan.js';
import { makeContext } from '../actions/support/context.js';
import { startSshHosts, sshAvailable, type SshTestFleet } from '../support/ssh-hosts.js';
import { counts, current, cwd, hourly, text } from './cwd-lines.js';

/** A rotation: its lines (plain or gzip), or raw bytes, last written at `lastWrite` (log time). */
type Rotation = { name: string; lastWrite: string } & ({ lines: string[]; gzip: boolean } | { bytes: Buffer });

/** The set under `dir`: the current log and its rotations. */
async function writeSet(dir: string, rotations: Rotation[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'exim_mainlog'), text(current));
  for (const r of rotations) {
    const path = join(dir, r.name);
    await writeFile(path, 'bytes' in r ? r.bytes : r.gzip ? gzipSync(Buffer.from(text(r.lines))) : text(r.lines));
    const when = new Date(r.lastWrite.replace(' ', 'T'));
    await utimes(path, when, when);
  }
}

/** A gzip rotation whose head decompresses and whose end is cut off. */
function brokenGzip(): Buffer {
  const lines = Array.from({ length: 20_000 }, (_, i) => cwd(`2026-11-21 ${String(Math.floor(i / 1200) + 2).padStart(2, '0')}:${String(Math.floor(i / 20) % 60).padStart(2, '0')}:00`, 'broken'));
  const full = gzipSync(Buffer.from(text(lines)));
  return full.subarray(0, Math.floor(full.length * 0.6));
}

const cases: Array<{ name: string; rotations: Rotation[]; check: (r: RotatedScanResult, dir: string) => void }> = [];
for (const gzip of [true, false]) {
  const kind = gzip ? 'gzip' : 'plain';
  cases.push({
    name: `reads a ${kind} rotation merged by hand that holds lines of the window, told by its last write`,
    // The day rotated late: the older file runs to 23:00, past where the current one starts.
    rotations: [{ name: `exim_mainlog-20261121${gzip ? '.gz' : ''}`, lines: hourly('2026-11-21', 0, 23, 'old'), gzip, lastWrite: '2026-11-21 23:00:00' }],
    check: (r, dir) => {
      expect(r.window.from).toBe('2026-11-21 21:00:00');
      expect(r.files).toEqual([join(dir, `exim_mainlog-20261121${gzip ? '.gz' : ''}`), join(dir, 'exim_mainlog')]);
      expect(counts(r)).toEqual({ old: 3, new: 5 });
      expect(r.left_out).toEqual([]);
    },
  });
  cases.push({
    name: `leaves a ${kind} rotation alone when its last write is before the window`,
    rotations: [{ name: `exim_mainlog-20261121${gzip ? '.gz' : ''}`, lines: hourly('2026-11-21', 0, 20, 'old'), gzip, lastWrite: '2026-11-21 20:00:00' }],
    check: (r, dir) => {
      expect(r.files).toEqual([join(dir, 'exim_mainlog')]);
      expect(counts(r)).toEqual({ new: 5 });
      expect(r.left_out).toEqual([]);
    },
  });
}
cases.push({
  name: 'reports a rotation whose last write is in the window and that breaks before its end as left out, and reads the rest',
  rotations: [{ name: 'exim_mainlog-20261121.gz', bytes: brokenGzip(), lastWrite: '2026-11-21 22:00:00' }],
  check: (r, dir) => {
    expect(r.files).toEqual([join(dir, 'exim_mainlog')]);
    expect(counts(r)).toEqual({ new: 5 });
    expect(r.unreadable_files).toBeUndefined();
    expect(r.left_out).toHaveLength(1);
    expect(r.left_out[0]).toMatchObject({ file: join(dir, 'exim_mainlog-20261121.gz'), bytes: brokenGzip().length });
    expect(r.left_out[0]!.reason).toMatch(/^it starts before the window and could not be read to tell whether it holds lines of it \(corrupt or truncated gzip data/);
  },
});

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'runbook-host-order-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('rotations out of time order on this machine', () => {
  for (const [i, c] of cases.entries()) {
    it(c.name, async () => {
      const dir = join(root, `local-${i}`);
      await writeSet(dir, c.rotations);
      c.check(await scanMainlogWithRotation(join(dir, 'exim_mainlog'), { since: '4h' }), dir);
    });
  }

  it("exim.mainlog.scan on a local inventory host reads the rotation, and leaves out (for the verdict's problems) the one it cannot read", async () => {
    const dir = join(root, 'action');
    await writeSet(dir, [
      { name: 'exim_mainlog-20261121', lines: hourly('2026-11-21', 0, 23, 'old'), gzip: false, lastWrite: '2026-11-21 23:00:00' },
      { name: 'exim_mainlog-20261120.gz', bytes: brokenGzip(), lastWrite: '2026-11-21 22:00:00' },
    ]);
    const action = eximDetectionActions.find((a) => a.name === 'exim.mainlog.scan') as ReadOnlyAction;
    const r = await action.run(makeContext(), { path: join(dir, 'exim_mainlog'), since: '4h' } as never);
    expect(r.outputs['files']).toEqual([join(dir, 'exim_mainlog-20261121'), join(dir, 'exim_mainlog')]);
    expect(counts(r.outputs as never)).toEqual({ old: 3, new: 5 });
    expect(r.outputs['left_out']).toEqual([expect.objectContaining({ file: join(dir, 'exim_mainlog-20261120.gz') })]);
  });
});

describe.runIf(sshAvailable || process.env.CI)('rotations out of time order on a host over SSH', () => {
  let fleet: SshTestFleet;
  beforeAll(async () => {
    fleet = await startSshHosts(1, { namePrefix: 'order' });
  });
  afterAll(async () => {
    await fleet?.stop();
  });

  for (const counter of ['native', 'perl'] as const) {
    for (const [i, c] of cases.entries()) {
      it(`${c.name} (${counter} counter)`, async () => {
        const host = fleet.hosts[0]!;
        // /var/log/exim4 on the host is this directory.
        await writeSet(join(host.root, 'var/log/exim4', `${counter}-${i}`), c.rotations);
        const t = fleet.transport(host);
        const reports: CounterReport[] = [];
        try {
          const r = await scanMainlogRemoteRotated(t, `/var/log/exim4/${counter}-${i}/exim_mainlog`, { since: '4h', counter: counter === 'native' ? 'auto' : 'perl', onCounter: (x) => reports.push(x) });
          c.check(r, `/var/log/exim4/${counter}-${i}`);
          expect(reports.every((x) => x.counter === counter && x.fallback === undefined)).toBe(true);
        } finally {
          await t.close();
        }
      });
    }
  }
});
