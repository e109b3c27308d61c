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

/**
 * The verdict's problem for an account whose cpuser file was not read (`why`): its mailboxes
 * are held to the threshold given, which may be higher than their own; `remedy` says what to do.
 */
export function unreadAccountFile(accountOf: ReadonlyMap<string, string>, user: string, file: string, why: string, remedy: string): string {
  const boxes = [...accountOf].filter(([, u]) => u === user).map(([m]) => m);
  return `cannot read the cPanel account file ${file} (${why}): account ${user}'s own outbound spam threshold is not known, so ${boxes.join(', ')} ${boxes.length === 1 ? 'is' : 'are'} held to the threshold given; ${remedy}`;
}

/**
 * The accounts whose cpuser file grep could not read, and why, from its complaints on stderr
 * (`grep: DIR/USER: No such file or directory`): only names of `users`, so nothing else of
 * the host's text reaches the verdict.
 */
export function grepUnreadFiles(stderr: string, dir: string, users: Iterable<string>): Map<string, string> {
  const wanted = new Set(users);
  const out = new Map<string, string>();
  const prefix = `grep: ${dir}/`;
  for (const line of stderr.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const colon = line.indexOf(': ', prefix.length);
    const user = line.slice(prefix.length, colon < 0 ? undefined : colon);
    // The reason as grep's locale words it, cut short; a line without one still names the file.
    if (wanted.has(user)) out.set(user, colon < 0 ? 'grep could not read it' : line.slice(colon + 2, colon + 2 + 80).toLowerCase());
  }
  return out;
}
