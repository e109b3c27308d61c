/**
 * Main-log lines of rotated-log tests: one `cwd=` line per time, tagged by the account it
 * names, so a scan's per-directory counts tell which file and which hours were read.
 */

export const cwd = (time: string, tag: string): string => `${time} cwd=/home/${tag}/public_html 3 args: /usr/sbin/sendmail -t -i`;

/** One line an hour on `day` from `fromHour` to `toHour`, inclusive. */
export const hourly = (day: string, fromHour: number, toHour: number, tag: string): string[] =>
  Array.from({ length: toHour - fromHour + 1 }, (_, i) => cwd(`${day} ${String(fromHour + i).padStart(2, '0')}:00:00`, tag));

/** The current log: the 21st from 10:00 to the 22nd 01:00 (log time). With `4h` the window opens at 21:00 on the 21st, inside it. */
export const current = [...hourly('2026-11-21', 10, 23, 'new'), cwd('2026-11-22 00:00:00', 'new'), cwd('2026-11-22 01:00:00', 'new')];

/** A log file's text: its lines, each ended. */
export const text = (lines: string[]): string => `${lines.join('\n')}\n`;

/** A scan's count per tag. */
export const counts = (r: { cwd: { path: string; count: number }[] }): Record<string, number> => Object.fromEntries(r.cwd.map((c) => [c.path.split('/')[2]!, c.count]));
