/**
 * Exim message IDs. Exim 4.97+ writes 23-char IDs (`TTTTTT-PPPPPPPPPPP-SSSS`), older
 * versions 16-char ones (`TTTTTT-PPPPPP-SS`); both coexist in a spool or log after an upgrade.
 */

/** Exim's own validator, anchored: `[^\W_]` is `[0-9A-Za-z]`. */
export const EXIM_ID_PATTERN = /^(?:[0-9A-Za-z]{6}-[0-9A-Za-z]{11}-[0-9A-Za-z]{4}|[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2})$/;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export type EximIdFormat = 'old' | 'new';

export interface EximId {
  id: string;
  format: EximIdFormat;
  /** Arrival time encoded in the first six characters, seconds since the epoch. */
  epochSeconds: number;
  /** The split-spool subdirectory: the 6th character (last of the time part). */
  spoolSubdir: string;
}

export function isEximId(text: string): boolean {
  return EXIM_ID_PATTERN.test(text);
}

/** Byte-level check used by the log scanner (no string allocation). */
export function eximIdLengthAt(buf: Uint8Array, start: number, end: number): 0 | 16 | 23 {
  const len = end - start;
  if (len >= 23 && buf[start + 6] === 0x2d && buf[start + 18] === 0x2d && isAlnumRun(buf, start, 6) &&
      isAlnumRun(buf, start + 7, 11) && isAlnumRun(buf, start + 19, 4) &&
      (len === 23 || buf[start + 23] === 0x20)) return 23;
  if (len >= 16 && buf[start + 6] === 0x2d && buf[start + 13] === 0x2d && isAlnumRun(buf, start, 6) &&
      isAlnumRun(buf, start + 7, 6) && isAlnumRun(buf, start + 14, 2) &&
      (len === 16 || buf[start + 16] === 0x20)) return 16;
  return 0;
}

function isAlnumRun(buf: Uint8Array, start: number, n: number): boolean {
  for (let i = start; i < start + n; i++) {
    const c = buf[i]!;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a))) return false;
  }
  return true;
}

/** Decode base62 (`0-9A-Za-z`); returns NaN for any other character. */
export function decodeBase62(text: string): number {
  let value = 0;
  for (const ch of text) {
    const digit = BASE62.indexOf(ch);
    if (digit < 0) return Number.NaN;
    value = value * 62 + digit;
  }
  return value;
}

/** Parse an ID, or null when it is not a well-formed Exim message ID. */
export function parseEximId(text: string): EximId | null {
  if (!isEximId(text)) return null;
  return {
    id: text,
    format: text.length === 23 ? 'new' : 'old',
    epochSeconds: decodeBase62(text.slice(0, 6)),
    spoolSubdir: text.charAt(5),
  };
}

/** Relative path of a message's header file under the spool's `input/` directory. */
export function spoolHeaderPath(id: string, split: boolean): string {
  return split ? `${id.charAt(5)}/${id}-H` : `${id}-H`;
}
