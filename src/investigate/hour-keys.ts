/**
 * Hour keys of per-hour counts (messages and distinct recipients an hour, activity.ts): the
 * log's local `YYYY-MM-DD HH`, except for the second pass of an hour the clocks went back
 * through. Exim stamps lines with the local wall clock, and adds the zone's offset only when
 * `log_timezone` is set (`2026-10-25 02:30:00 +0100`, Exim's tod.c); when daylight saving ends,
 * an hour of wall-clock time is lived twice, and one key for both passes doubled that hour's
 * count into a false flag. Pure.
 *
 * - Lines with an offset: each absolute hour is its own key. The pass of a local hour with the
 *   smaller offset (the clocks went back) is the second.
 * - Lines without: the repeat is seen in file order, as the time stepping back by more than
 *   REPEAT_STEP within one hour and running forward from there. A line back near where the
 *   first pass was, from well below, before CONFIRMED lines ran forward, ends it: the step was a
 *   late line or two, not the clocks.
 *
 * A spring-forward hour is simply absent: no key, nothing to do. An hour split wrongly in two
 * only lowers its counts; one merged wrongly raised them.
 */

/** Appended to the key of an hour's second pass: sorts after the first pass, before the next hour. */
export const REPEATED_HOUR = ' again';

/** A step back in the time of lines of one hour that no writing order explains: the clocks went back. */
const REPEAT_STEP = 600;
/** How near the first pass's latest time a line must come back to end a repeat as a stray line. */
const STRAY_RETURN = 120;
/** Lines of a second pass after which it is the clocks' and no stray line's. */
const CONFIRMED = 3;

/** The hour's start as `YYYY-MM-DD HH`, whichever pass the key is of. */
export function hourStart(key: string): string {
  return key.endsWith(REPEATED_HOUR) ? key.slice(0, -REPEATED_HOUR.length) : key;
}

/** Whether the key is of an hour's second pass, the clocks having gone back. */
export function isRepeatedHour(key: string): boolean {
  return key.endsWith(REPEATED_HOUR);
}

/** `+0100` / `-0500` → minutes east of UTC, or null. */
export function offsetMinutes(text: string | null | undefined): number | null {
  if (text === null || text === undefined) return null;
  const m = /^([+-])(\d\d)(\d\d)$/.exec(text);
  if (m === null) return null;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/** Seconds into its hour of `YYYY-MM-DD HH:MM:SS` (no allocation: this runs for every arrival read). */
function secondsIntoHour(time: string): number {
  const d = (i: number): number => time.charCodeAt(i) - 48;
  return (d(14) * 10 + d(15)) * 60 + d(17) * 10 + d(18);
}

/** The hour keys of one log read in file order (a rotated set oldest first). */
export class HourKeys {
  /** The latest hour of lines without an offset, and the latest second into it of the current pass. */
  #hour: string | null = null;
  #max = 0;
  /** In the latest hour's second pass: the first pass's latest second, and this pass's. */
  #repeat: { firstMax: number; passMax: number; lines: number } | null = null;
  /** Local hour → the offset its first lines carried (the last few hours only). */
  readonly #offsets = new Map<string, number>();
  /** The last hour found to be a real time. */
  #valid: string | null = null;

  /**
   * The key of a line at `time` (`YYYY-MM-DD HH:MM:SS`, local) with the zone offset it carried
   * (minutes, null when none), or null when the stamp is no real hour (a mangled line, `25:`).
   */
  key(time: string, offset: number | null): string | null {
    // Most lines are of the hour before them: its string again, not a new one.
    let hour = this.#valid;
    if (hour === null || !time.startsWith(hour)) {
      hour = time.slice(0, 13);
      // Hour keys are times to the verdict, whose date arithmetic on one that is none threw.
      if (time.length < 19 || Number.isNaN(Date.parse(`${hour.replace(' ', 'T')}:00:00Z`))) return null;
      this.#valid = hour;
    }
    return offset === null ? this.#plain(hour, secondsIntoHour(time)) : this.#zoned(hour, offset);
  }

  #zoned(hour: string, offset: number): string {
    const first = this.#offsets.get(hour);
    if (first === undefined) {
      if (this.#offsets.size >= 4) this.#offsets.delete(this.#offsets.keys().next().value!);
      this.#offsets.set(hour, offset);
      return hour;
    }
    return offset < first ? `${hour}${REPEATED_HOUR}` : hour;
  }

  #plain(hour: string, s: number): string {
    if (this.#hour === null || hour > this.#hour) {
      this.#hour = hour;
      this.#max = s;
      this.#repeat = null;
      return hour;
    }
    // A line of an earlier hour, late across the hour's turn: its own hour, as written.
    if (hour < this.#hour) return hour;
    const r = this.#repeat;
    if (r === null) {
      if (s < this.#max - REPEAT_STEP) {
        this.#repeat = { firstMax: this.#max, passMax: s, lines: 1 };
        return `${hour}${REPEATED_HOUR}`;
      }
      if (s > this.#max) this.#max = s;
      return hour;
    }
    if (r.lines < CONFIRMED && s >= r.firstMax - STRAY_RETURN && r.passMax < r.firstMax - REPEAT_STEP) {
      this.#repeat = null;
      if (s > this.#max) this.#max = s;
      return hour;
    }
    if (s > r.passMax) r.passMax = s;
    r.lines++;
    return `${hour}${REPEATED_HOUR}`;
  }
}
