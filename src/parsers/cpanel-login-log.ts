/**
 * cpsrvd's login records: `/usr/local/cpanel/logs/session_log` (one `NEW` line per session)
 * and `/usr/local/cpanel/logs/login_log` (SUCCESS/FAILED/DEFERRED LOGIN, current and pre-2014
 * formats). When a mailbox is used through webmail, Exim and Dovecot see only 127.0.0.1; the
 * client's address is here. Formats: reference owners-holds-blocklists-malware.md §1.6. Pure.
 *
 *   [2015-10-30 12:24:06 -0500] info [cpsrvd] 14.2.19.78 NEW user:TOKEN address=14.2.19.78,app=cpaneld,creator=user,method=handle_form_login,path=form,possessed=0
 *   [2018-09-19 16:02:36 +0000] info [webmaild] 10.10.10.10 - box@dom.example (possessor: blahuser) - SUCCESS LOGIN webmaild
 *   [2018-10-15 15:42:18 +0000] info [cpaneld] 10.10.10.10 - user "POST /login/?login_only=1 HTTP/1.1" FAILED LOGIN cpaneld: access denied …
 *   192.168.0.22 - user [07/15/2013:16:21:50 -0000] "POST /login/?login_only=1 HTTP/1.1" FAILED LOGIN whostmgrd: user password incorrect
 */
import { isIP } from 'node:net';

export interface CpanelLogin {
  /** Wall-clock time as written (`YYYY-MM-DD HH:MM:SS`), the server's local time like Exim's log. */
  time: string;
  /** The `±ZZZZ` offset written with it. */
  offset: string;
  ip: string;
  /** The login name: a mailbox (`box@domain`) for webmail, a cPanel user, `root`. */
  user: string;
  /** The service: `webmaild`, `cpaneld`, `whostmgrd` (from `app=` or the LOGIN line). */
  app: string;
  outcome: 'session' | 'success' | 'failed' | 'deferred';
}

const SESSION = /^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) ([+-]\d{4})\] \w+ \[[\w-]+\] (\S+) NEW ([^:\s]+):\S+(?: (\S+))?/;
const LOGIN = /^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) ([+-]\d{4})\] \w+ \[([\w-]+)\] (\S+) - (\S+) .*?\b(SUCCESS|FAILED|DEFERRED) LOGIN (\w+)/;
const OLD_LOGIN = /^(\S+) - (\S+) \[(\d\d)\/(\d\d)\/(\d{4}):(\d\d:\d\d:\d\d) ([+-]\d{4})\] "[^"]*" (SUCCESS|FAILED|DEFERRED) LOGIN (\w+)/;

function address(text: string): string | null {
  const t = text.startsWith('::ffff:') && isIP(text.slice(7)) === 4 ? text.slice(7) : text;
  return isIP(t) === 0 ? null : t;
}

const OUTCOME = { SUCCESS: 'success', FAILED: 'failed', DEFERRED: 'deferred' } as const;

/** One session_log or login_log line, or null for anything else (PURGE lines, other text). */
export function parseCpanelLogin(line: string): CpanelLogin | null {
  const s = SESSION.exec(line);
  if (s !== null) {
    const ip = address(s[3]!);
    if (ip === null) return null;
    const app = /(?:^|,)app=([\w-]+)/.exec(s[5] ?? '')?.[1] ?? '';
    return { time: s[1]!, offset: s[2]!, ip, user: s[4]!, app, outcome: 'session' };
  }
  const l = LOGIN.exec(line);
  if (l !== null) {
    const ip = address(l[4]!);
    if (ip === null) return null;
    return { time: l[1]!, offset: l[2]!, ip, user: l[5]!, app: l[7]!, outcome: OUTCOME[l[6] as keyof typeof OUTCOME] };
  }
  const o = OLD_LOGIN.exec(line);
  if (o !== null) {
    const ip = address(o[1]!);
    if (ip === null) return null;
    return { time: `${o[5]!}-${o[3]!}-${o[4]!} ${o[6]!}`, offset: o[7]!, ip, user: o[2]!, app: o[9]!, outcome: OUTCOME[o[8] as keyof typeof OUTCOME] };
  }
  return null;
}

/** A webmail login that got in: a session created for a mailbox, or webmaild's SUCCESS line. */
export function isWebmailLogin(l: CpanelLogin): boolean {
  return (l.outcome === 'session' || l.outcome === 'success') && l.app === 'webmaild';
}
