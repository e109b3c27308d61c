// Sliding windows in log time: what falls out, what a late line counts as, and that a restored
// window is the window that was dumped.
import { describe, expect, it } from 'vitest';
import { CountWindow, DistinctWindow } from '../../src/watch/windows.js';

describe('CountWindow', () => {
  it('holds the events dated after now - window, whatever came before', () => {
    const w = new CountWindow(120);
    expect(w.add(0)).toBe(1);
    expect(w.add(60, 2)).toBe(3);
    expect(w.add(120)).toBe(3); // the event at 0 is exactly 120 s old: out
    expect(w.first).toBe(60);
    expect(w.add(500)).toBe(1);
    w.evict(10_000);
    expect(w.empty).toBe(true);
  });

  it('a line older than the newest counted one counts at the newest time (logs interleave)', () => {
    const w = new CountWindow(60);
    w.add(100);
    expect(w.add(30)).toBe(2);
    expect(w.add(159)).toBe(3);
    expect(w.add(160)).toBe(2); // 159 and 160; both events at 100 are out
  });

  it('dump and restore give the same window', () => {
    const w = new CountWindow(3600);
    for (let t = 0; t < 10_000; t += 7) w.add(t);
    const r = CountWindow.restore(3600, JSON.parse(JSON.stringify(w.dump())) as { t: number[]; c: number[] });
    expect([r.count, r.first]).toEqual([w.count, w.first]);
    expect(r.add(10_007)).toBe(w.add(10_007));
  });
});

describe('DistinctWindow', () => {
  it('counts each value once, by its latest time', () => {
    const w = new DistinctWindow(60, 100);
    w.add(0, 'a');
    w.add(10, 'b');
    expect(w.add(50, 'a')).toBe(2);
    expect(w.add(65, 'c')).toBe(3); // 'a' was seen again at 50
    expect(w.add(71, 'd')).toBe(3); // 'b' (10) is out
    expect(w.add(111, 'e')).toBe(3); // 'a' (50) is out
  });

  it('keeps at most cap values and counts what it left out', () => {
    const w = new DistinctWindow(3600, 3);
    for (const v of ['a', 'b', 'c', 'd', 'e']) w.add(1, v);
    expect([w.count, w.dropped]).toEqual([3, 2]);
    const r = DistinctWindow.restore(3600, 3, JSON.parse(JSON.stringify(w.dump())) as { v: string[]; t: number[]; d: number });
    expect([r.count, r.dropped]).toEqual([3, 2]);
  });
});
