/**
 * Main logs, spools and webmail logins of two incidents that Exim's own view hides: a flood of
 * distinct recipients through webmail (127.0.0.1) and a script whose mail mostly fails under
 * the volume threshold. Shared by the verdict's tests and the shipped playbook's dry-run.
 */
import { messageId, writeSpoolMessage } from '../../fixtures/sim/lib/spool.mjs';
import { HOUR, SmallLogs, T0 } from './small-logs.js';

const stamp = (epoch: number): string => new Date(epoch * 1000).toISOString().slice(0, 19).replace('T', ' ');

/** cpsrvd's session_log NEW line of a webmail login. */
export function webmailLogin(t: number, ip: string, user: string): string {
  return `[${stamp(t)} +0000] info [cpsrvd] ${ip} NEW ${user}:Wm${t.toString(36)}x address=${ip},app=webmaild,creator=${user},method=handle_form_login,path=form,possessed=0`;
}

/** 60 messages of 10 distinct recipients each through webmail in one hour: 600 distinct. */
export function webmailFloodHour(logs: SmallLogs, mailbox: string, at: number, subject: string, list: string): void {
  for (let i = 0; i < 60; i++) {
    const t = at + i * 55;
    const rcpts = Array.from({ length: 10 }, (_, k) => `${list}${i}-${k}@${list}-list.test`);
    const id = logs.smtp(t, { sender: mailbox, ip: '127.0.0.1', authId: mailbox, subject, rcpts, helo: 'localhost' });
    for (const r of rcpts) logs.outcome(t + 1, id, '=>', r);
  }
}

export const SPAM_DIR = '/home/zzfailshop/public_html/wp-content/uploads/2026';
export const FORM_DIR = '/home/zzfailshop/public_html';
export const NEWS_DIR = '/home/zzfailnews/public_html/wp-content/plugins/mailer';
export const SHOP_SENDER = 'zzfailshop@host.example.test';
export const SCRIPT_BOT = '45.33.41.7';

/**
 * A script mailing a harvested list, 30 messages (under the window's 100): three of its four
 * recipients do not exist. Its envelope sender is the account's default, also used by the site's
 * contact form, whose mail is delivered: the sender's own rate (90 of 240) says nothing, the
 * directory's (90 of 120) does. Next to it a newsletter plugin with an ordinary bounce rate.
 */
export function failingScriptLogs(logs: SmallLogs, at = T0 + 15 * HOUR): void {
  for (let i = 0; i < 60; i++) {
    const t = T0 + 8 * HOUR + i * 500;
    const rcpts = [`c${i}@clients.test`, `sales@zzfailshop.test`];
    const id = logs.local(t, { cwd: FORM_DIR, sender: SHOP_SENDER, user: 'zzfailshop', subject: `Contact form ${i}`, rcpts });
    for (const r of rcpts) logs.outcome(t + 1, id, '=>', r);
  }
  for (let i = 0; i < 30; i++) {
    const t = at + i * 400;
    const rcpts = [0, 1, 2, 3].map((k) => `h${i}-${k}@harvested.test`);
    const id = logs.local(t, { cwd: SPAM_DIR, sender: SHOP_SENDER, user: 'zzfailshop', subject: 'Your account is suspended', rcpts });
    for (const r of rcpts.slice(0, 3)) logs.outcome(t + 1, id, '**', r);
    logs.outcome(t + 1, id, '==', rcpts[3]!);
    logs.outcome(t + 900, id, '=>', rcpts[3]!);
  }
  for (let i = 0; i < 60; i++) {
    const t = T0 + 10 * HOUR + i * 300;
    const rcpts = Array.from({ length: 10 }, (_, k) => `s${i}-${k}@subscribers.test`);
    const id = logs.local(t, { cwd: NEWS_DIR, sender: 'news@zzfailnews.test', user: 'zzfailnews', subject: 'Our news', rcpts });
    rcpts.forEach((r, k) => logs.outcome(t + 1, id, k === 0 ? '**' : '=>', r));
  }
}

/** The script's queued mail (X-PHP-Script names it inside the flagged directory). */
export function failingScriptSpool(spool: string, at = T0 + 21 * HOUR): void {
  for (let i = 0; i < 3; i++) {
    const t = at + i;
    writeSpoolMessage(spool, { id: messageId(t, 100 + (t % 5000)), time: t, login: 'zzfailshop', uid: 1103, gid: 1103, sender: SHOP_SENDER, protocol: 'local', authId: 'zzfailshop', recipients: [`q${i}@harvested.test`], headers: [['Subject', 'Your account is suspended'], ['X-PHP-Script', `zzfailshop.test/wp-content/uploads/2026/x9.php for ${SCRIPT_BOT}`]], body: 'x\n' });
  }
}

