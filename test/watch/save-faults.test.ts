// The watcher's state when the disk holding it fills (a real tmpfs): a save cut short by ENOSPC
// leaves the last state saved in place and the watcher dirty, so that the next save writes it
// again once there is room; nothing read before is lost or read twice across a restart.
import { execFileSync } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RuleSpec } from '../../src/watch/rules.js';
import { loadState } from '../../src/watch/state.js';
import { Watcher, type Progress, type WatcherOptions } from '../../src/watch/watcher.js';
import { authArrival, delivery, iso, text } from './lines.js';

const isRoot = process.getuid?.() === 0;
const inCi = (process.env.CI ?? '') !== '';

let base: string;
let disk: string;
let mainlog: string;
let statePath: string;
let mounted = false;

const exactlyAt = (n: number): RuleSpec[] => [{ name: 'count', key: 'auth_id', limits: [{ metric: 'messages', threshold: n, window: '1d' }] }];

function options(rules: RuleSpec[]): WatcherOptions {
  return { mainlog, statePath, rules, startAt: 'beginning', maxKeys: 1000, maxDistinct: 1000, joinSeconds: 7200, maxMessages: 10_000, saveEverySeconds: 0, rescanSeconds: 0 };
}

const burst = (from: number, to: number): string[] => {
  const out: string[] = [];
  for (let i = from; i < to; i++) out.push(authArrival(i, 'alice@example.test'), delivery(i, `victim${i}@remote.test`));
  return out;
};

/** Fills the disk holding `dir` with one file: returns its path (removed to make room again). */
function fill(dir: string): string {
  const filler = join(dir, 'filler');
  const fd = openSync(filler, 'w');
  const chunk = Buffer.alloc(4096, 0x2e);
  try {
    for (;;) {
      try {
        if (writeSync(fd, chunk) < chunk.length) break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        break;
      }
    }
  } finally {
    closeSync(fd);
  }
  return filler;
}

describe.skipIf(!isRoot && !inCi)('the watcher when the disk holding its state fills (tmpfs)', () => {
  beforeEach(() => {
    expect(isRoot, 'mounting a tmpfs needs root').toBe(true);
    base = mkdtempSync(join(tmpdir(), 'runbook-watch-state-full-'));
    disk = join(base, 'state');
    mkdirSync(disk);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0755', 'tmpfs', disk]);
    mounted = true;
    mainlog = join(base, 'exim_mainlog');
    statePath = join(disk, 'watch-state.json');
    writeFileSync(mainlog, '');
  });
  afterEach(() => {
    if (mounted) execFileSync('umount', [disk]);
    mounted = false;
    rmSync(base, { recursive: true, force: true });
  });

  it('a failed save keeps the last state and stays dirty: the next save writes what was read, and a restart goes on from there', async () => {
    appendFileSync(mainlog, text(burst(0, 5)));
    const w = await Watcher.open(options(exactlyAt(12)));
    await w.readAppended();
    const first = readFileSync(statePath, 'utf8');
    const savedAt = (await loadState(statePath))!.files[mainlog]!.offset;

    const filler = fill(disk);
    appendFileSync(mainlog, text(burst(5, 10)));
    const progress: Progress[][] = [];
    w.on('progress', (p) => progress.push(p));
    await expect(w.readAppended()).rejects.toThrow(/ENOSPC/);
    // The state file is the one saved before, whole; no temporary file is left behind.
    expect(readFileSync(statePath, 'utf8')).toBe(first);
    expect(execFileSync('ls', ['-A', disk]).toString().trim().split('\n').sort()).toEqual(['filler', 'watch-state.json']);

    // Room again. Nothing new in the log: the save still has to be made, and is.
    unlinkSync(filler);
    await w.readAppended();
    expect(progress.at(-1)!.map((p) => p.saved)).toEqual([true]);
    const state = (await loadState(statePath))!;
    expect(state.files[mainlog]!.offset).toBeGreaterThan(savedAt);
    expect(state.files[mainlog]!.offset).toBe(readFileSync(mainlog).length);

    // A restart from it neither counts the lines read before the failure twice nor misses one.
    appendFileSync(mainlog, text(burst(10, 12)));
    const again = await Watcher.open(options(exactlyAt(12)));
    expect((await again.readAppended()).map((t) => [t.trippedAt, t.observed.value])).toEqual([[iso(11), 12]]);
    await again.stop();
    await w.stop();
  });

  it('stop() after a failed save writes the state once there is room', async () => {
    appendFileSync(mainlog, text(burst(0, 3)));
    const w = await Watcher.open(options(exactlyAt(12)));
    await w.readAppended();
    const filler = fill(disk);
    appendFileSync(mainlog, text(burst(3, 6)));
    await expect(w.readAppended()).rejects.toThrow(/ENOSPC/);
    unlinkSync(filler);
    await w.stop();
    expect((await loadState(statePath))!.files[mainlog]!.offset).toBe(readFileSync(mainlog).length);
  });
});
