/**
 * Exim main-log timestamps are local wall-clock `YYYY-MM-DD HH:MM:SS` without a zone. They are
 * compared as text (the format sorts lexically), so no time-zone guess is needed. A relative
 * window (`24h`) is measured back from a reference time given in the same wall-clock form:
 * the log's last timestamp, which on a live server is "now" in the server's own zone.
 */

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** `90s`, `30m`, `24h`, `7d`, `1h30m` → seconds; null when malformed. */
export function parseWindow(text: string): number | null {
  const t = text.trim();
  if (!/^(?:\d+[smhdw])+$/.test(t)) return null;
  let total = 0;
  for (const m of t.matchAll(/(\d+)([smhdw])/g)) total += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
  return total;
}

/** Wall-clock text → seconds, treating it as if it were UTC (only differences matter). */
export function wallClockSeconds(ts: string): number | null {
  const m = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d)(?::(\d\d))?$/.exec(ts);
  if (m === null) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  return Number.isNaN(ms) ? null : ms / 1000;
}

export function formatWallClock(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

export type SinceResult = { ok: true; from: string } | { ok: false; error: string };

/**
 * Resolve `since` to the first wall-clock timestamp to include. `since` is a window (`24h`,
 * counted back from `reference`) or a time `YYYY-MM-DD[ T]HH:MM[:SS]`; a trailing `Z` or
 * offset is converted to UTC, which is right for logs written in UTC.
 */
export function resolveSince(since: string, reference: string | null): SinceResult {
  const window = parseWindow(since);
  if (window !== null) {
    const ref = reference === null ? null : wallClockSeconds(reference);
    if (ref === null) return { ok: false, error: `cannot apply window ${since}: the log has no timestamp to count back from` };
    return { ok: true, from: formatWallClock(ref - window) };
  }
  const zoned = /^(\d{4}-\d\d-\d\d[ T]\d\d:\d\d(?::\d\d)?)(?:\.\d+)?(Z|[+-]\d\d:?\d\d)$/.exec(since.trim());
  if (zoned !== null) {
    const d = new Date(since.trim().replace(' ', 'T'));
    if (Number.isNaN(d.getTime())) return { ok: false, error: `not a time: ${since}` };
    return { ok: true, from: formatWallClock(Math.floor(d.getTime() / 1000)) };
  }
  const plain = wallClockSeconds(since.trim());
  if (plain === null) return { ok: false, error: `since must be a window like 24h or 30m, or a time like 2026-11-22 10:00, got ${JSON.stringify(since)}` };
  return { ok: true, from: formatWallClock(plain) };
}
