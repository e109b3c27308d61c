/**
 * Bursts: when a source's hourly volume left its usual level, and whether an address took part.
 * The verdict tells an incident from a busy sender and an owner from an attacker with these.
 * Pure; times are the log's `YYYY-MM-DD HH:MM:SS`.
 */
import { hourOf, type AddressUse, type SourceActivity } from './activity.js';
import { hourStart } from './hour-keys.js';

export const HOUR_MS = 3_600_000;
/** An hour key as a number of hours; both passes of an hour the clocks went back through are one. */
const hourNumber = (hour: string): number => Date.parse(`${hourStart(hour).replace(' ', 'T')}:00:00Z`) / HOUR_MS;
const hourText = (n: number): string => new Date(n * HOUR_MS).toISOString().slice(0, 13).replace('T', ' ');
/** A burst is at least this many messages an hour and three times the usual hourly volume. */
export const BURST_FLOOR = 10;

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface Burst {
  /** Log time the incident began; null when it was already under way where the log starts. */
  began: string | null;
  peak: number;
  usual: number;
  /** Messages an hour that count as a burst for this source. */
  level: number;
}

/**
 * When a source's burst began: the hours leading up to its busiest hour that stay at least
 * max(BURST_FLOOR, 3 × the usual hourly volume before it, from `logStart`) (one quiet hour tolerated), and in the
 * first of them the first message from an address new since an hour before. Null when the
 * busiest hour is within the source's usual volume: then nothing tells owner from attacker by
 * time, and the volume is not a burst.
 */
export function burstOf(act: SourceActivity, logStart?: string | null): Burst | null {
  if (act.hours.size === 0) return null;
  const counts = new Map<number, number>();
  // The larger pass of a repeated hour: their sum would double the hour into a false burst.
  for (const [h, n] of act.hours) counts.set(hourNumber(h), Math.max(counts.get(hourNumber(h)) ?? 0, n));
  const hours = [...counts.keys()].sort((a, b) => a - b);
  // The latest of the busiest hours: an earlier hour as busy is then history to compare with.
  let peakHour = hours[0]!;
  for (const h of hours) if (counts.get(h)! >= counts.get(peakHour)!) peakHour = h;
  const peak = counts.get(peakHour)!;
  // The usual volume: hours from the start of the log to two hours before the peak (a ramp
  // up to the peak is not usual), quiet hours included.
  const from = logStart !== null && logStart !== undefined ? Math.min(hourNumber(hourOf(logStart)), hours[0]!) : hours[0]!;
  const before: number[] = [];
  for (let h = from; h < peakHour - 2; h++) before.push(counts.get(h) ?? 0);
  // A busiest hour in the log's first hours has too little before it to compare with: then the
  // hours after it stand for the usual volume (a steady sender keeps its level; a burst that
  // began before the log and still runs is told apart by its addresses, not its volume).
  const last = hours[hours.length - 1]!;
  const after: number[] = [];
  if (before.length < 6) for (let h = peakHour + 1; h <= last; h++) after.push(counts.get(h) ?? 0);
  const usual = after.length >= 12 ? median(after) : median(before);
  const level = Math.max(BURST_FLOOR, 3 * usual);
  if (peak < level) return null;
  let start = peakHour;
  let quiet = 0;
  // A run's hours vary around its rate (a botnet's hourly count is noisy): an hour at half the
  // burst level or more is still the run, so a dip of two hours does not cut its start off and
  // leave its own earlier hours to look like "as much before" (below).
  for (let h = peakHour - 1; h >= hours[0]!; h--) {
    if ((counts.get(h) ?? 0) * 2 >= level && (counts.get(h) ?? 0) > usual) {
      start = h;
      quiet = 0;
    } else if (++quiet > 1) break;
  }
  const warmup = `${hourText(start - 1)}:00:00`;
  // Only an address new by the end of the burst's first hour: one first seen later (the owner's
  // phone after a run through webmail, whose 127.0.0.1 is not new) is not when it began.
  const firstEnd = `${hourText(start + 1)}:00:00`;
  let began: string | null = null;
  for (const u of act.ips.values()) if (u.first >= warmup && u.first < firstEnd && (began === null || u.first < began)) began = u.first;
  // A newsletter: as much before, from the same addresses. Its usual volume, not an incident.
  if (began === null && hours.some((h) => h < start - 2 && counts.get(h)! * 2 >= peak)) return null;
  // A burst from the log's first hour began before it: when is not known.
  if (start <= from) return { began: null, peak, usual, level };
  // Without a new address the burst's first hour stands for its start.
  return { began: began ?? `${hourText(start)}:00:00`, peak, usual, level };
}

/**
 * Whether a source's own log covers a day or more: only then can "no burst" mean "its usual
 * volume". A log that starts inside an incident shows no burst either.
 */
export function hasHistory(act: SourceActivity): boolean {
  const hours = [...act.hours.keys()].map(hourNumber);
  return hours.length > 0 && Math.max(...hours) - Math.min(...hours) >= 24;
}

/** A source sending at its usual volume: activity over a day or more and no burst in it. */
export function atUsualVolume(act: SourceActivity | undefined, logStart: string | null): boolean {
  return act !== undefined && hasHistory(act) && burstOf(act, logStart) === null;
}


/** Did the address send at least `level` messages in one hour from the incident's start on? */
export function burstingSince(use: AddressUse | undefined, began: string | null, level: number): boolean {
  if (use?.hours === undefined || began === null) return false;
  const from = hourOf(began);
  for (const [h, n] of use.hours) if (h >= from && n >= level) return true;
  return false;
}

