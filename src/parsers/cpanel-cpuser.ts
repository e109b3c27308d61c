/**
 * cPanel's account file (`/var/cpanel/users/USER`, "cpuser"): `KEY=value` lines. Only the
 * per-account outbound spam threshold is read here. Pure.
 */

/** cPanel's per-account override of `email_outbound_spam_detect_threshold` (distinct recipients an hour). */
export const OUTBOUND_SPAM_THRESHOLD_KEY = 'EMAIL_OUTBOUND_SPAM_DETECT_THRESHOLD';

/**
 * The override's value from a cpuser line `EMAIL_OUTBOUND_SPAM_DETECT_THRESHOLD=N`: a whole
 * number of 1 or more, else null (absent, empty or not a number: cPanel's server setting applies).
 */
export function outboundSpamThreshold(line: string): number | null {
  const m = /^EMAIL_OUTBOUND_SPAM_DETECT_THRESHOLD=\s*(\d{1,9})\s*$/.exec(line);
  if (m === null) return null;
  const n = Number(m[1]);
  return n >= 1 ? n : null;
}

/**
 * The override of a whole cpuser file, or of the lines of it a host's grep returned: the last
 * `EMAIL_OUTBOUND_SPAM_DETECT_THRESHOLD=` line's value (cPanel writes the key once), or null.
 */
export function outboundSpamThresholdOf(text: string): number | null {
  let found: number | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith(OUTBOUND_SPAM_THRESHOLD_KEY)) continue;
    const n = outboundSpamThreshold(line);
    if (n !== null) found = n;
  }
  return found;
}
