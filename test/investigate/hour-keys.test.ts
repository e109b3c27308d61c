import { describe, expect, it } from 'vitest';
import { HourKeys, hourStart, isRepeatedHour, offsetMinutes, REPEATED_HOUR } from '../../src/investigate/hour-keys.js';

const keysOf = (lines: [string, string | null][]): string[] => {
  const k = new HourKeys();
  return lines.map(([time, offset]) => k.key(time, offsetMinutes(offset))!);
};
const again = (hour: string): string => `${hour}${REPEATED_HOUR}`;

describe('hour keys across daylight saving changes', () => {
  it('without offsets, the hour lived twice when the clocks go back is two keys: the second pass from where the time stepped back', () => {
    expect(keysOf([
      ['2026-10-25 00:59:00', null],
      ['2026-10-25 01:10:00', null],
      ['2026-10-25 01:59:58', null],
      // 02:00 BST is 01:00 GMT: the wall clock steps back an hour and runs forward again.
      ['2026-10-25 01:00:03', null],
      ['2026-10-25 01:15:00', null],
      ['2026-10-25 01:30:00', null],
      // After a quiet half hour, back where the first pass ended: the second pass ran forward, still its own.
      ['2026-10-25 01:59:59', null],
      ['2026-10-25 02:00:01', null],
    ])).toEqual(['2026-10-25 00', '2026-10-25 01', '2026-10-25 01', again('2026-10-25 01'), again('2026-10-25 01'), again('2026-10-25 01'), again('2026-10-25 01'), '2026-10-25 02']);
  });

  it('lines out of order by seconds, or across the hour\'s turn, are no repeat', () => {
    expect(keysOf([
      ['2026-12-06 10:59:58', null],
      ['2026-12-06 11:00:01', null],
      ['2026-12-06 10:59:59', null],
      ['2026-12-06 11:00:00', null],
      ['2026-12-06 11:09:00', null],
      ['2026-12-06 11:03:00', null],
    ])).toEqual(['2026-12-06 10', '2026-12-06 11', '2026-12-06 10', '2026-12-06 11', '2026-12-06 11', '2026-12-06 11']);
  });

  it('a late line or two are a pass of their own, and the hour goes on as the first pass when lines come back to where they were', () => {
    expect(keysOf([
      ['2026-12-06 11:40:00', null],
      ['2026-12-06 11:10:00', null],
      ['2026-12-06 11:40:01', null],
      ['2026-12-06 11:50:00', null],
      ['2026-12-06 11:20:00', null],
      ['2026-12-06 11:21:00', null],
      ['2026-12-06 11:50:01', null],
    ])).toEqual(['2026-12-06 11', again('2026-12-06 11'), '2026-12-06 11', '2026-12-06 11', again('2026-12-06 11'), again('2026-12-06 11'), '2026-12-06 11']);
  });

  it('a missing hour when the clocks go forward is a gap, nothing more', () => {
    expect(keysOf([
      ['2026-03-29 00:59:59', null],
      ['2026-03-29 02:00:00', null],
      ['2026-03-29 02:30:00', null],
    ])).toEqual(['2026-03-29 00', '2026-03-29 02', '2026-03-29 02']);
  });

  it('with offsets, each absolute hour is its own key: the pass with the smaller offset is the second, whatever the order of its lines', () => {
    expect(keysOf([
      ['2026-11-01 01:20:00', '-0400'],
      ['2026-11-01 01:59:00', '-0400'],
      ['2026-11-01 01:00:30', '-0500'],
      // Out of order by a few seconds across the change: still its own pass.
      ['2026-11-01 01:59:59', '-0400'],
      ['2026-11-01 01:45:00', '-0500'],
      ['2026-11-01 02:05:00', '-0500'],
    ])).toEqual(['2026-11-01 01', '2026-11-01 01', again('2026-11-01 01'), '2026-11-01 01', again('2026-11-01 01'), '2026-11-01 02']);
    // A step back in the wall clock with the same offset is no repeat when offsets are given.
    expect(keysOf([['2026-12-06 11:40:00', '+0000'], ['2026-12-06 11:05:00', '+0000']])).toEqual(['2026-12-06 11', '2026-12-06 11']);
  });

  it('keys sort between their hour and the next, give their hour back, and a stamp of no real hour has none', () => {
    const k = again('2026-10-25 01');
    expect(['2026-10-25 02', k, '2026-10-25 01'].sort()).toEqual(['2026-10-25 01', k, '2026-10-25 02']);
    expect(hourStart(k)).toBe('2026-10-25 01');
    expect(isRepeatedHour(k)).toBe(true);
    expect(isRepeatedHour('2026-10-25 01')).toBe(false);
    expect(new HourKeys().key('2026-12-06 25:10:00', null)).toBeNull();
    expect(offsetMinutes('+0530')).toBe(330);
    expect(offsetMinutes('-0500')).toBe(-300);
    expect(offsetMinutes('0500')).toBeNull();
  });
});
