/**
 * cPanel's per-account distinct recipients per hour thresholds (EMAIL_OUTBOUND_SPAM_DETECT_THRESHOLD
 * in /var/cpanel/users/USER) as overrides per mailbox: the one path from the texts of
 * /etc/userdomains and the cpuser files to the overrides, whether a host's transport read them
 * (src/actions/exim/host-source.ts) or they are copies (file-source.ts). Pure.
 */
import { outboundSpamThresholdOf } from '../parsers/cpanel-cpuser.js';

/** A cPanel account name as /etc/userdomains may give it and as a file name under the cpuser directory. */
export const CPANEL_USER = /^[a-z0-9][a-z0-9_.-]{0,31}$/i;

/**
 * Mailbox (lower-cased) → the cPanel account owning its domain, from /etc/userdomains parsed
 * (domain → user). The catch-all `nobody` and names that cannot be an account (nor a file name
 * under the cpuser directory) own nothing.
 */
export function mailboxAccounts(mailboxes: Iterable<string>, owners: ReadonlyMap<string, string>): Map<string, string> {
  const accountOf = new Map<string, string>();
  for (const m of mailboxes) {
    const user = owners.get(m.slice(m.lastIndexOf('@') + 1).toLowerCase());
    if (user !== undefined && user !== 'nobody' && CPANEL_USER.test(user)) accountOf.set(m.toLowerCase(), user);
  }
  return accountOf;
}

/**
 * Mailbox → its account's own threshold, for the mailboxes of `accountOf` whose account's
 * cpuser text (whole, or only its override lines) sets one; the others keep the server's.
 */
export function recipientOverrides(accountOf: ReadonlyMap<string, string>, cpuserTexts: ReadonlyMap<string, string>): Record<string, number> {
  const byUser = new Map<string, number | null>();
  const out: Record<string, number> = {};
  for (const [mailbox, user] of accountOf) {
    if (!byUser.has(user)) {
      const text = cpuserTexts.get(user);
      byUser.set(user, text === undefined ? null : outboundSpamThresholdOf(text));
    }
    const n = byUser.get(user);
    if (n !== null && n !== undefined) out[mailbox] = n;
  }
  return out;
}
