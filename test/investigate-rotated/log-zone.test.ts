// A rotation is read by its last write when that may be inside the window: the mtime (an epoch)
// against log times stamped in the zone Exim runs in, which need not be the system's. Told from
// the current log's own last write and last line; when that cannot be told, every mtime is taken
// as late as any zone could stamp it (UTC+14), and the scan says so. A last write older than a
// line of its own file (a `cp -p` copy, a file restored from a backup) bounds nothing: the file is
// read. The host's reading, perl's and the native counter's agree, on real files.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { eximDetectionActions } from '../../src/actions/exim/detection.js';
import type { ReadOnlyAction } from '../../src/actions/types.js';
import { asUtcSeconds, inferLogZone, lastWriteInLogTime, utcStamp } from '../../src/investigate/log-zone.js';
import { scanMainlogWithRotation, type RotatedScanResult } from '../../src/investigate/rotated-logs.js';
import { nativeCounter } from '../../src/remote/native-count.js';
import { scanMainlogRemoteRotated } from '../../src/remote/rotated-scan.js';
import type { CounterReport } from '../../src/remote/scan.js';
import { LocalTransport } from '../../src/transport/local.js';
import { makeContext } from '../actions/support/context.js';
import { counts, current, cwd, hourly, text } from './cwd-lines.js';

const root = mkdtempSync(join(tmpdir(), 'runbook-log-zone-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const home = join(root, 'home');
mkdirSync(join(home, '.cache'), { recursive: true });
const local = new LocalTransport({ env: { HOME: home } });
const built = nativeCounter() !== null;

const systemZone = process.env.TZ;
afterEach(() => {
  if (systemZone === undefined) delete process.env.TZ;
  else process.env.TZ = systemZone;
});

/** A moment stamped `stamp` by an Exim `ahead` seconds east of UTC, as a Date (what utimes takes). */
const realTime = (stamp: string, ahead: number): Date => new Date((asUtcSeconds(stamp) - ahead) * 1000);

type Rotation = { name: string; lines: string[]; gzip: boolean; lastWrite: Date };

let sets = 0;
/** The set: the current log last written at `currentWrite` (its last line by default), and its rotations. */
function writeSet(ahead: number, rotations: Rotation[], currentWrite?: Date): string {
  const dir = join(root, `set${sets++}`);
  mkdirSync(dir);
  const log = join(dir, 'exim_mainlog');
  writeFileSync(log, text(current));
  const when = currentWrite ?? realTime(current.at(-1)!.slice(0, 19), ahead);
  utimesSync(log, when, when);
  for (const r of rotations) {
    const path = join(dir, r.name);
    writeFileSync(path, r.gzip ? gzipSync(Buffer.from(text(r.lines))) : text(r.lines));
    utimesSync(path, r.lastWrite, r.lastWrite);
  }
  return log;
}

/** The three readings of one set, which must agree: the host's own, perl's and the native counter's. */
async function readings(log: string): Promise<RotatedScanResult> {
  const onHost = await scanMainlogWithRotation(log, { since: '4h' });
  const reports: CounterReport[] = [];
  const byPerl = await scanMainlogRemoteRotated(local, log, { since: '4h', counter: 'perl' });
  expect(byPerl).toEqual(onHost);
  if (built) {
    const byNative = await scanMainlogRemoteRotated(local, log, { since: '4h', counter: 'native', onCounter: (r) => reports.push(r) });
    expect(byNative).toEqual(onHost);
    expect(reports.every((r) => r.counter === 'native')).toBe(true);
  }
  return onHost;
}

describe('the zone the main log is stamped in', () => {
  const at = (stamp: string): number => asUtcSeconds(stamp);
  it('is the system\'s when the current log\'s last write is its last line in the system\'s offset', () => {
    expect(inferLogZone({ mtime: at('2026-11-22 00:00:02') - 3600, systemOffset: 3600 }, '2026-11-22 00:00:00')).toEqual({ kind: 'system' });
  });
  it('is another fixed offset when it is a whole quarter hour off the system\'s', () => {
    expect(inferLogZone({ mtime: at('2026-11-22 00:00:00') - 36_000, systemOffset: 0 }, '2026-11-22 00:00:00')).toEqual({ kind: 'fixed', offset: 36_000 });
    expect(inferLogZone({ mtime: at('2026-11-22 00:00:30') + 5 * 3600 + 1800, systemOffset: 0 }, '2026-11-22 00:00:00')).toEqual({ kind: 'fixed', offset: -(5 * 3600 + 1800) });
  });
  it('cannot be told from a current log touched long after its last line, or without one', () => {
    expect(inferLogZone({ mtime: at('2026-11-22 07:13:00'), systemOffset: 0 }, '2026-11-22 00:00:00').kind).toBe('unknown');
    expect(inferLogZone({ mtime: at('2026-11-22 00:00:00'), systemOffset: 0 }, null).kind).toBe('unknown');
    expect(inferLogZone(null, '2026-11-22 00:00:00').kind).toBe('unknown');
  });
  it('puts a last write in log time: exactly, an hour late for daylight saving, or 14 hours late when unknown', () => {
    const w = { mtime: at('2026-11-21 13:00:00'), systemOffset: 0 };
    expect(lastWriteInLogTime(w, { kind: 'system' })).toBe('2026-11-21 13:00:00');
    expect(lastWriteInLogTime(w, { kind: 'fixed', offset: 36_000 })).toBe('2026-11-22 00:00:00');
    expect(lastWriteInLogTime(w, { kind: 'unknown', why: '' })).toBe(utcStamp(at('2026-11-21 13:00:00') + 14 * 3600));
  });
});

describe('rotations read by last write, on real files', () => {
  it('Exim ten hours ahead of the system: a rotation holding lines of the window is read though its mtime, in the system\'s time, is before it', async () => {
    process.env.TZ = 'UTC';
    const ahead = 10 * 3600;
    const log = writeSet(ahead, [
      // Merged by hand: runs to 23:00 (log time), past the window's start at 21:00.
      { name: 'exim_mainlog-20261121.gz', lines: hourly('2026-11-21', 0, 23, 'old'), gzip: true, lastWrite: realTime('2026-11-21 23:00:00', ahead) },
      { name: 'exim_mainlog-20261120', lines: hourly('2026-11-20', 0, 23, 'older'), gzip: false, lastWrite: realTime('2026-11-20 23:00:00', ahead) },
    ]);
    const r = await readings(log);
    expect(r.window.from).toBe('2026-11-21 21:00:00');
    expect(counts(r)).toEqual({ old: 3, new: 5 });
    expect(r.files).toEqual([join(log, '..', 'exim_mainlog-20261121.gz'), log]);
    expect(r.notes).toBeUndefined();
  });

  it('Exim in UTC on a system in Tokyo, and in the system\'s zone across a daylight-saving change: read exactly as far as needed', async () => {
    process.env.TZ = 'Asia/Tokyo';
    const utc = writeSet(0, [
      { name: 'exim_mainlog-20261121', lines: hourly('2026-11-21', 0, 23, 'old'), gzip: false, lastWrite: realTime('2026-11-21 23:00:00', 0) },
    ]);
    expect(counts(await readings(utc))).toEqual({ old: 3, new: 5 });
    process.env.TZ = 'America/New_York';
    // The current log in EST (-5), the rotation last written in EDT (-4) on the 1st of November.
    const dst = writeSet(-5 * 3600, [
      { name: 'exim_mainlog-20261101.gz', lines: hourly('2026-11-01', 0, 1, 'old'), gzip: true, lastWrite: realTime('2026-11-01 01:00:00', -4 * 3600) },
    ]);
    const r = await readings(dst);
    expect(counts(r)).toEqual({ new: 5 });
    expect(r.notes).toBeUndefined();
  });

  it('the zone cannot be told (the current log touched hours after its last line): every rotation last written within 14 hours is read, and the scan says so', async () => {
    process.env.TZ = 'UTC';
    const ahead = 10 * 3600;
    const log = writeSet(
      ahead,
      // gzip: its last line is not at hand, only its last write.
      [{ name: 'exim_mainlog-20261121.gz', lines: hourly('2026-11-21', 0, 23, 'old'), gzip: true, lastWrite: realTime('2026-11-21 23:00:00', ahead) }],
      realTime('2026-11-22 07:13:00', 0),
    );
    const r = await readings(log);
    expect(counts(r)).toEqual({ old: 3, new: 5 });
    const widened = expect.stringMatching(/^the zone the main log is stamped in could not be told \(the current log's last write .*: rotations last written up to 14 hours before the window's start \(in UTC\) were read/);
    expect(r.notes).toEqual([widened]);
    // The scan action puts it on record.
    const ctx = makeContext();
    const action = eximDetectionActions.find((a) => a.name === 'exim.mainlog.scan') as ReadOnlyAction;
    await action.run(ctx, { path: log, since: '4h' } as never);
    expect(ctx.notes).toContainEqual({ message: widened, data: { file: log } });
  });

  for (const gzip of [false, true]) {
    it(`a ${gzip ? 'gzip' : 'plain'} rotation whose mtime is older than its own ${gzip ? 'first' : 'last'} line (cp -p from a backup) is read, not skipped`, async () => {
      process.env.TZ = 'UTC';
      // Its lines run into the window; its mtime is a day older than any of them.
      const log = writeSet(0, [{ name: `exim_mainlog-20261121${gzip ? '.gz' : ''}`, lines: hourly('2026-11-21', 0, 23, 'old'), gzip, lastWrite: realTime('2026-11-19 12:00:00', 0) }]);
      const r = await readings(log);
      expect(counts(r)).toEqual({ old: 3, new: 5 });
    });
  }
});
