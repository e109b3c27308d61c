// The follower on real files: rotation by rename (the old file read on after the switch, as
// `tail -F` does while Exim still writes to it) and copytruncate, every line seen once, in
// order per file. Each read is an explicit drain after the writes; the retirement grace is an
// injected clock, so nothing waits on time.
import { appendFileSync, copyFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogFollower, type FilePosition, type FollowNotice } from '../../src/watch/follow.js';

let dir: string;
let log: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'runbook-follow-'));
  log = join(dir, 'exim_mainlog');
  writeFileSync(log, '');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lines = (prefix: string, from: number, to: number): string => {
  let out = '';
  for (let i = from; i < to; i++) out += `2026-12-07 06:00:${String(i).padStart(2, '0')} ${prefix}${i} <= someone@example.test\n`;
  return out;
};

/** A follower whose every handed line is recorded with the file it came from. */
function follower(position: FilePosition | null = null) {
  const clock = { now: 1_000_000 };
  const seen: { from: string; line: string }[] = [];
  const notices: FollowNotice[] = [];
  let saved: FilePosition | null = position;
  const f = new LogFollower(log, position, { startAt: 'beginning', notice: (n) => notices.push(n), now: () => clock.now, retireAfterMs: 60_000 });
  const drain = async () => {
    await f.drain((ls, pos, from) => {
      for (const l of ls) seen.push({ from: basename(from), line: l.split(' ')[2]! });
      saved = pos;
    });
  };
  return { f, seen, notices, clock, drain, saved: () => saved };
}

const ofFile = (seen: { from: string; line: string }[], prefix: string) => seen.filter((s) => s.line.startsWith(prefix)).map((s) => s.line);
const range = (prefix: string, from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`);

describe('rotation by rename', () => {
  it('lines written to the renamed file after the switch are read, each once, in order per file', async () => {
    const r = follower();
    appendFileSync(log, lines('old', 0, 3));
    await r.drain();
    appendFileSync(log, lines('old', 3, 5));
    renameSync(log, `${log}.1`);
    writeFileSync(log, lines('new', 0, 2));
    await r.drain();
    // Exim processes that opened the log before the rename still write to it.
    appendFileSync(`${log}.1`, lines('old', 5, 8));
    appendFileSync(log, lines('new', 2, 4));
    await r.drain();
    appendFileSync(`${log}.1`, lines('old', 8, 9));
    await r.drain();
    await r.drain();
    expect(ofFile(r.seen, 'old')).toEqual(range('old', 0, 9));
    expect(ofFile(r.seen, 'new')).toEqual(range('new', 0, 4));
    expect(r.seen.length).toBe(13);
    // Lines of the renamed file after the switch are handed as coming from it.
    expect(r.seen.filter((s) => s.line === 'old8').map((s) => s.from)).toEqual(['exim_mainlog.1']);
    expect(r.notices.map((n) => n.type)).toEqual(['rotated']);
    await r.f.close();
  });

  it('a retired file is closed once quiet, after a last read that takes its unfinished line; later writes to it are not read', async () => {
    const r = follower();
    appendFileSync(log, lines('old', 0, 2));
    await r.drain();
    renameSync(log, `${log}.1`);
    writeFileSync(log, lines('new', 0, 1));
    await r.drain();
    appendFileSync(`${log}.1`, '2026-12-07 06:00:09 old-unfinished');
    await r.drain();
    expect(r.seen.map((s) => s.line)).toEqual(['old0', 'old1', 'new0']);
    expect(r.saved()?.retired).toHaveLength(1);
    r.clock.now += 60_000;
    await r.drain();
    expect(r.seen.map((s) => s.line)).toEqual(['old0', 'old1', 'new0', 'old-unfinished']);
    // No longer followed, and the handed position says so.
    expect(r.saved()?.retired).toBeUndefined();
    appendFileSync(`${log}.1`, lines('late', 0, 1));
    appendFileSync(log, lines('new', 1, 2));
    await r.drain();
    expect(r.seen.map((s) => s.line).slice(4)).toEqual(['new1']);
    await r.f.close();
  });

  it('a restart while a renamed file is still followed finds it again by inode and reads on from where it stopped', async () => {
    const a = follower();
    appendFileSync(log, lines('old', 0, 2));
    await a.drain();
    renameSync(log, `${log}.1`);
    writeFileSync(log, lines('new', 0, 2));
    await a.drain();
    await a.f.close();
    const saved = JSON.parse(JSON.stringify(a.saved())) as FilePosition;
    expect(saved.retired).toHaveLength(1);
    appendFileSync(`${log}.1`, lines('old', 2, 4));
    appendFileSync(log, lines('new', 2, 3));
    const b = follower(saved);
    await b.drain();
    expect(b.seen.map((s) => s.line)).toEqual(['old2', 'old3', 'new2']);
    await b.f.close();
  });

  it('a second rotation before the first renamed file went quiet keeps both followed', async () => {
    const r = follower();
    appendFileSync(log, lines('a', 0, 1));
    await r.drain();
    renameSync(log, `${log}.1`);
    writeFileSync(log, lines('b', 0, 1));
    await r.drain();
    renameSync(`${log}.1`, `${log}.2`);
    renameSync(log, `${log}.1`);
    writeFileSync(log, lines('c', 0, 1));
    await r.drain();
    appendFileSync(`${log}.2`, lines('a', 1, 2));
    appendFileSync(`${log}.1`, lines('b', 1, 2));
    appendFileSync(log, lines('c', 1, 2));
    await r.drain();
    expect(ofFile(r.seen, 'a')).toEqual(['a0', 'a1']);
    expect(ofFile(r.seen, 'b')).toEqual(['b0', 'b1']);
    expect(ofFile(r.seen, 'c')).toEqual(['c0', 'c1']);
    await r.f.close();
  });
});

describe('copytruncate', () => {
  it('what was written before the copy is read from the copy, the truncated file from its start: nothing replayed, nothing lost', async () => {
    const r = follower();
    appendFileSync(log, lines('first', 0, 3));
    await r.drain();
    appendFileSync(log, lines('first', 3, 6));
    copyFileSync(log, `${log}.1`);
    truncateSync(log, 0);
    // Longer than what was read before the truncation: its size alone would not tell.
    appendFileSync(log, lines('second-longer-line-', 0, 8));
    await r.drain();
    appendFileSync(log, lines('second-longer-line-', 8, 10));
    await r.drain();
    await r.drain();
    expect(r.seen.map((s) => s.line)).toEqual([...range('first', 0, 6), ...range('second-longer-line-', 0, 10)]);
    expect(r.notices).toMatchObject([{ type: 'rotated', how: 'truncated', restFrom: `${log}.1` }]);
    await r.f.close();
  });

  it('a truncation seen before anything new is written, then two more rounds: still each line once', async () => {
    const r = follower();
    appendFileSync(log, lines('x', 0, 4));
    await r.drain();
    copyFileSync(log, `${log}.1`);
    truncateSync(log, 0);
    await r.drain();
    appendFileSync(log, lines('y', 0, 2));
    await r.drain();
    renameSync(`${log}.1`, `${log}.2`);
    copyFileSync(log, `${log}.1`);
    truncateSync(log, 0);
    appendFileSync(log, lines('z', 0, 3));
    await r.drain();
    expect(r.seen.map((s) => s.line)).toEqual([...range('x', 0, 4), ...range('y', 0, 2), ...range('z', 0, 3)]);
    await r.f.close();
  });
});
