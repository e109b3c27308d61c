// The follower under faults of the disk holding the log: the disk fills while lines are written
// (a real tmpfs: the last write is cut short by ENOSPC, leaving half a line), and the old file
// is deleted, not just renamed, while lines written to it are still being drained. A line is
// handed once, whole, when its newline arrives: never its first half, never twice, also across
// a restart from the saved position. Each read is an explicit drain after the writes.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, renameSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogFollower, type FilePosition, type FollowNotice } from '../../src/watch/follow.js';

const isRoot = process.getuid?.() === 0;
const inCi = (process.env.CI ?? '') !== '';

let base: string;
let disk: string;
let log: string;
let mounted = false;

/** 100 bytes, newline included: 4096 is no multiple of it, so a full page cuts a line. */
const line = (i: number): string => `2026-12-07 06:00:00 1vAb${String(i).padStart(2, '0').slice(-2)}-000Aaa-0A <= n${String(i).padStart(5, '0')}@example.test`.padEnd(99, '.') + '\n';

/** Followers of the running test: closed after it, also when it fails (an open file keeps the tmpfs busy). */
const made: LogFollower[] = [];

function follower(position: FilePosition | null = null) {
  const clock = { now: 1_000_000 };
  const seen: string[] = [];
  const notices: FollowNotice[] = [];
  let saved: FilePosition | null = position;
  const f = new LogFollower(log, position, { startAt: 'beginning', notice: (n) => notices.push(n), now: () => clock.now, retireAfterMs: 60_000 });
  made.push(f);
  const drain = async () => {
    await f.drain((ls, pos) => {
      seen.push(...ls);
      saved = pos;
    });
  };
  return { f, seen, notices, clock, drain, saved: () => saved };
}

/**
 * Appends lines from `from` through one descriptor (as Exim holds the log) until the disk is
 * full: returns the index of the line cut short and the part of it not written.
 */
function writeUntilFull(fd: number, from: number): { cut: number; rest: string } {
  for (let i = from; ; i++) {
    const bytes = Buffer.from(line(i));
    let written: number;
    try {
      written = writeSync(fd, bytes);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      written = 0;
    }
    if (written < bytes.length) return { cut: i, rest: bytes.subarray(written).toString() };
  }
}

describe.skipIf(!isRoot && !inCi)('the follower when the disk holding the log fills (tmpfs)', () => {
  beforeEach(() => {
    expect(isRoot, 'mounting a tmpfs needs root').toBe(true);
    base = mkdtempSync(join(tmpdir(), 'runbook-follow-full-'));
    disk = join(base, 'log');
    execFileSync('mkdir', [disk]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', disk]);
    mounted = true;
    log = join(disk, 'exim_mainlog');
    writeFileSync(log, '');
  });
  afterEach(async () => {
    for (const f of made.splice(0)) await f.close();
    if (mounted) execFileSync('umount', [disk]);
    mounted = false;
    rmSync(base, { recursive: true, force: true });
  });

  it('half a line cut by a full disk is not handed; once completed it is, once, also across a restart', async () => {
    const r = follower();
    const fd = openSync(log, 'a');
    try {
      const { cut, rest } = writeUntilFull(fd, 0);
      expect(rest.length).toBeGreaterThan(0);
      expect(rest.length).toBeLessThan(100);
      await r.drain();
      expect(r.seen).toEqual(Array.from({ length: cut }, (_, i) => line(i).slice(0, -1)));
      // Read again while the disk is still full: nothing new, the half line still not handed.
      await r.drain();
      expect(r.seen).toHaveLength(cut);
      const restartedAtFull = r.saved();

      // Room again: the writer completes the line and goes on.
      execFileSync('mount', ['-o', 'remount,size=256k', disk]);
      writeSync(fd, rest);
      writeSync(fd, line(cut + 1));
      await r.drain();
      await r.drain();
      expect(r.seen.slice(cut)).toEqual([line(cut).slice(0, -1), line(cut + 1).slice(0, -1)]);
      expect(r.seen.filter((l) => l === line(cut).slice(0, -1))).toHaveLength(1);

      // A restart from the position saved while the disk was full takes the completed line once.
      const again = follower(restartedAtFull);
      await again.drain();
      expect(again.seen).toEqual([line(cut).slice(0, -1), line(cut + 1).slice(0, -1)]);
      // And from the position saved last: nothing is handed again.
      const last = follower(r.saved());
      await last.drain();
      expect(last.seen).toEqual([]);
      for (const x of [r, again, last]) await x.f.close();
    } finally {
      closeSync(fd);
    }
  });

  it('the disk fills, the log is rotated by rename with half a line in it, the old writer completes it: handed once, from the old file', async () => {
    const r = follower();
    const fd = openSync(log, 'a');
    try {
      const { cut, rest } = writeUntilFull(fd, 0);
      await r.drain();
      expect(r.seen).toHaveLength(cut);
      execFileSync('mount', ['-o', 'remount,size=256k', disk]);
      renameSync(log, `${log}.1`);
      writeFileSync(log, line(500));
      await r.drain();
      // Exim processes holding the old file finish the line there.
      writeSync(fd, rest);
      await r.drain();
      await r.drain();
      const whole = line(cut).slice(0, -1);
      expect(r.seen.filter((l) => l === whole)).toHaveLength(1);
      expect(r.seen).toContain(line(500).slice(0, -1));
      // No fragment of the cut line was ever handed as a line of its own.
      expect(r.seen.filter((l) => l.length !== 99)).toEqual([]);
      // Quiet long enough: the old file is closed; nothing is handed again.
      r.clock.now += 120_000;
      const before = r.seen.length;
      await r.drain();
      expect(r.seen).toHaveLength(before);
      await r.f.close();
    } finally {
      closeSync(fd);
    }
  });
});

describe('the follower when the old log is deleted, not just renamed, while being drained', () => {
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'runbook-follow-deleted-'));
    log = join(base, 'exim_mainlog');
    writeFileSync(log, '');
  });
  afterEach(async () => {
    for (const f of made.splice(0)) await f.close();
    rmSync(base, { recursive: true, force: true });
  });

  it('renamed, then deleted while its writer still appends: every line once, from the open file', async () => {
    const r = follower();
    const fd = openSync(log, 'a');
    try {
      for (let i = 0; i < 5; i++) writeSync(fd, line(i));
      await r.drain();
      renameSync(log, `${log}.1`);
      writeFileSync(log, line(100));
      await r.drain();
      // logrotate compresses and deletes the renamed file; an Exim process still writes to it.
      unlinkSync(`${log}.1`);
      writeSync(fd, line(5));
      writeSync(fd, line(6).slice(0, 40));
      await r.drain();
      writeSync(fd, line(6).slice(40));
      await r.drain();
      expect(r.seen).toEqual([...[0, 1, 2, 3, 4].map((i) => line(i).slice(0, -1)), line(100).slice(0, -1), line(5).slice(0, -1), line(6).slice(0, -1)]);
      // A restart now: the deleted file cannot be found again, and the follower says so; the new log is not read twice.
      const again = follower(r.saved());
      await again.drain();
      expect(again.seen).toEqual([]);
      expect(again.notices.map((n) => n.type)).toEqual(['gap']);
      await again.f.close();
      await r.f.close();
    } finally {
      closeSync(fd);
    }
  });

  it('deleted with no new log yet, its writer still appending, then a new log: each line once, none lost', async () => {
    const r = follower();
    const fd = openSync(log, 'a');
    try {
      for (let i = 0; i < 3; i++) writeSync(fd, line(i));
      await r.drain();
      unlinkSync(log);
      expect(existsSync(log)).toBe(false);
      writeSync(fd, line(3));
      await r.drain();
      writeSync(fd, line(4));
      writeFileSync(log, line(200));
      await r.drain();
      writeSync(fd, line(5));
      await r.drain();
      expect(r.seen).toEqual([0, 1, 2, 3, 4].map((i) => line(i).slice(0, -1)).concat([line(200).slice(0, -1), line(5).slice(0, -1)]));
      await r.f.close();
    } finally {
      closeSync(fd);
    }
  });
});

describe('the follower when logrotate deletes a sibling it has just picked', () => {
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'runbook-follow-race-'));
    log = join(base, 'exim_mainlog');
    writeFileSync(log, '');
  });
  afterEach(async () => {
    for (const f of made.splice(0)) await f.close();
    rmSync(base, { recursive: true, force: true });
  });

  /** A follower from `position` that deletes each sibling the moment it is picked (logrotate's compress-and-delete racing it). */
  function racing(position: FilePosition) {
    const seen: string[] = [];
    const notices: FollowNotice[] = [];
    const deleted: string[] = [];
    const f = new LogFollower(log, position, {
      startAt: 'beginning',
      notice: (n) => notices.push(n),
      onSibling: (file) => {
        unlinkSync(file);
        deleted.push(file);
      },
    });
    made.push(f);
    return { f, seen, notices, deleted, drain: () => f.drain((ls) => void seen.push(...ls)) };
  }

  it('the log rotated while stopped: its rest is read from the sibling picked, though deleted right after', async () => {
    const r = follower();
    writeFileSync(log, line(0) + line(1));
    await r.drain();
    writeFileSync(log, line(2), { flag: 'a' });
    renameSync(log, `${log}.1`);
    writeFileSync(log, line(3));
    const again = racing(r.saved()!);
    await again.drain();
    expect(again.deleted).toEqual([`${log}.1`]);
    expect(again.seen).toEqual([line(2).slice(0, -1), line(3).slice(0, -1)]);
    expect(again.notices.map((n) => n.type)).toEqual(['rotated']);
  });

  it('a retired file found again after a restart, deleted right after: read on, once, and the watcher carries on', async () => {
    const r = follower();
    const fd = openSync(log, 'a');
    try {
      writeSync(fd, line(0));
      await r.drain();
      renameSync(log, `${log}.1`);
      writeFileSync(log, line(1));
      await r.drain();
      const saved = r.saved()!;
      expect(saved.retired).toHaveLength(1);
      // Written to the old file after the position was saved.
      writeSync(fd, line(2));
      const again = racing(saved);
      await again.drain();
      expect(again.deleted).toEqual([`${log}.1`]);
      expect(again.seen).toEqual([line(2).slice(0, -1)]);
      await again.drain();
      expect(again.seen).toEqual([line(2).slice(0, -1)]);
      expect(again.notices).toEqual([]);
    } finally {
      closeSync(fd);
    }
  });

  it('a sibling deleted before it could be opened is no candidate: the gap is said once and reading goes on', async () => {
    const r = follower();
    writeFileSync(log, line(0));
    await r.drain();
    renameSync(log, `${log}.1`);
    writeFileSync(log, line(1));
    // Gone before the restarted follower looks (logrotate was quicker): nothing to open.
    unlinkSync(`${log}.1`);
    const again = racing(r.saved()!);
    await again.drain();
    await again.drain();
    expect(again.seen).toEqual([line(1).slice(0, -1)]);
    expect(again.notices.map((n) => n.type)).toEqual(['gap']);
  });
});
