/**
 * A file's last write (an epoch mtime) against the main log's timestamps, which carry no zone:
 * Exim stamps lines in the zone it runs in (its `timezone` option, or TZ), which need not be the
 * system's. Comparing an mtime in the system's local time with a window start in Exim's is off
 * by the difference, and skips a rotation that holds lines of the window when Exim's zone is
 * ahead of the system's.
 *
 * The zone is told from the current log itself: its last write is the write of its last line
 * (Exim stamps a line as it writes it), so that line read as UTC less the mtime is the offset
 * Exim stamped it with, to within the second or so between the stamp and the write.
 *  - the host's own offset at that mtime: Exim logs in the system's zone, and every mtime is
 *    converted with the system's offset at that moment (daylight saving included);
 *  - another whole quarter hour: Exim logs in another zone, taken as that fixed offset, with an
 *    hour to spare for a daylight-saving change between the file's last write and now;
 *  - neither (the current log was touched, copied, is empty or just rotated): the zone cannot be
 *    told, and an mtime is taken as late as any zone could stamp it (UTC+14), so that no file
 *    that may hold lines of the window is skipped; the scan says so.
 */

/** A file's last write: epoch seconds, and the system's offset from UTC then (seconds east). */
export interface WriteTime {
  mtime: number;
  systemOffset: number;
}

export type LogZone = { kind: 'system' } | { kind: 'fixed'; offset: number } | { kind: 'unknown'; why: string };

/** The furthest any zone is ahead of UTC (Line Islands). */
export const MAX_AHEAD = 14 * 3600;
/** The furthest any zone is behind UTC (Baker Island). */
const MAX_BEHIND = 12 * 3600;
/** Seconds allowed between a line's stamp and its write (a loaded host). */
const WRITE_LAG = 60;
/** A daylight-saving change between a rotation's last write and the current log's. */
const DST_SLACK = 3600;

/** A log timestamp (`YYYY-MM-DD HH:MM:SS`) read as if UTC, in epoch seconds (NaN when malformed). */
export function asUtcSeconds(stamp: string): number {
  return Date.parse(`${stamp.slice(0, 10)}T${stamp.slice(11, 19)}Z`) / 1000;
}

/** Epoch seconds shown as a log timestamp in UTC. */
export function utcStamp(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

/** The system's offset from UTC (seconds east) at `date`, as this process sees it. */
export function localOffsetAt(date: Date): number {
  return -date.getTimezoneOffset() * 60;
}

/** The zone the main log is stamped in, told from the current log's last write and last line. */
export function inferLogZone(current: WriteTime | null, lastLine: string | null): LogZone {
  if (current === null || lastLine === null || lastLine === '') return { kind: 'unknown', why: 'the current log has no timestamped line to compare its last write with' };
  const stamped = asUtcSeconds(lastLine);
  if (!Number.isFinite(stamped)) return { kind: 'unknown', why: 'the current log has no timestamped line to compare its last write with' };
  // stamped = mtime + offset - lag, lag in [0, WRITE_LAG].
  const d = stamped - current.mtime;
  const fits = (offset: number): boolean => offset - d >= -1 && offset - d <= WRITE_LAG;
  if (fits(current.systemOffset)) return { kind: 'system' };
  const quarter = Math.round((d + WRITE_LAG / 2) / 900) * 900;
  if (quarter <= MAX_AHEAD && quarter >= -MAX_BEHIND && fits(quarter)) return { kind: 'fixed', offset: quarter };
  return { kind: 'unknown', why: `the current log's last write (${utcStamp(current.mtime)} UTC) does not match its last line (${lastLine}) in any zone` };
}

/**
 * The latest log time a file's last write can be, in the log's zone: exact in the system's zone,
 * an hour late in another known one, 14 hours after UTC when the zone cannot be told.
 */
export function lastWriteInLogTime(w: WriteTime, zone: LogZone): string {
  switch (zone.kind) {
    case 'system':
      return utcStamp(w.mtime + w.systemOffset);
    case 'fixed':
      return utcStamp(w.mtime + zone.offset + DST_SLACK);
    case 'unknown':
      return utcStamp(w.mtime + MAX_AHEAD);
  }
}

/** What the scan says when the zone could not be told and rotations were read for that. */
export function widenedNote(zone: Extract<LogZone, { kind: 'unknown' }>): string {
  return `the zone the main log is stamped in could not be told (${zone.why}): rotations last written up to 14 hours before the window's start (in UTC) were read, so that none holding lines of it was skipped`;
}
