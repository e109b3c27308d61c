// Exim main-log and Dovecot maillog lines in the formats of the reference (cPanel selectors),
// with one log second per index so a test can tell exactly which line tripped a rule.
import { once } from 'node:events';
import type { Trigger } from '../../src/watch/types.js';
import type { Progress, Watcher } from '../../src/watch/watcher.js';

const BASE = Date.UTC(2026, 11, 7, 6, 0, 0) / 1000;

/** Log time of index `i` (seconds after 06:00:00). */
export function at(i: number): string {
  return new Date((BASE + i) * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

export function iso(i: number): string {
  return at(i).replace(' ', 'T');
}

export function msgId(i: number): string {
  return `1xaS8D-${String(i).padStart(6, '0')}-0e`;
}

/** An SMTP AUTH submission from `ip` logged in as `mailbox`. */
export function authArrival(i: number, mailbox: string, ip = '203.0.113.7', rcpts = [`victim${i}@remote.test`]): string {
  return `${at(i)} ${msgId(i)} <= ${mailbox} H=(laptop) [${ip}]:53033 P=esmtpa A=dovecot_login:${mailbox} S=276 T="Invoice overdue" for ${rcpts.join(' ')}`;
}

/** A PHP mail() run from `dir` and its arrival (same second). */
export function scriptRun(i: number, dir: string, user: string): string[] {
  return [
    `${at(i)} cwd=${dir} 3 args: /usr/sbin/sendmail -t -i`,
    `${at(i)} ${msgId(i)} <= ${user}@host.example.test U=${user} P=local S=431 T="Your parcel is waiting" for ok${i}@remote.test`,
  ];
}

export function delivery(i: number, rcpt: string): string {
  return `${at(i)} ${msgId(i)} => ${rcpt} R=dkim_lookuphost T=dkim_remote_smtp H=mx.remote.test [198.51.100.9] C="250 2.0.0 Ok"`;
}

export function eximAuthFailure(i: number, ip: string, setId: string): string {
  return `${at(i)} dovecot_login authenticator failed for (laptop) [${ip}]:44637: 535 Incorrect authentication data (set_id=${setId})`;
}

export function dovecotFailure(i: number, ip: string, user: string): string {
  const t = new Date((BASE + i) * 1000);
  const stamp = `Dec  ${t.getUTCDate()} ${t.toISOString().slice(11, 19)}`;
  return `${stamp} host dovecot: imap-login: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 2 secs): user=<${user}>, method=PLAIN, rip=${ip}, lip=192.0.2.10, TLS, session=<yuUwPAVi191/AAAC>`;
}

export function dovecotLogin(i: number, ip: string, user: string): string {
  const t = new Date((BASE + i) * 1000);
  const stamp = `Dec  ${t.getUTCDate()} ${t.toISOString().slice(11, 19)}`;
  return `${stamp} host dovecot[2071]: imap-login: Login: user=<${user}>, method=PLAIN, rip=${ip}, lip=192.0.2.10, mpid=12443, TLS, session=<L8hVOgVigaN/AAAC>`;
}

export const text = (lines: string[]): string => lines.map((l) => `${l}\n`).join('');

/** Resolves when the watcher has read `file` up to `offset` (its progress event says so). */
export async function readUpTo(watcher: Watcher, file: string, offset: number): Promise<void> {
  for (;;) {
    const [progress] = (await once(watcher, 'progress')) as [Progress[]];
    const p = progress.find((f) => f.file === file);
    if (p !== undefined && p.offset >= offset) return;
  }
}

/** The next triggers the watcher fires. */
export async function nextTriggers(watcher: Watcher): Promise<Trigger[]> {
  const [t] = (await once(watcher, 'triggers')) as [Trigger[]];
  return t;
}
