/**
 * Builds small main logs and maillogs line by line (cPanel log selectors, as in
 * realistic-incident.ts) for tests of one verdict rule at a time.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SERVER_IP = '192.0.2.10';
/** 2026-12-06 00:00:00 UTC. */
export const T0 = Date.UTC(2026, 11, 6) / 1000;
export const HOUR = 3600;

const stamp = (epoch: number): string => new Date(epoch * 1000).toISOString().slice(0, 19).replace('T', ' ');
function syslogStamp(epoch: number): string {
  const d = new Date(epoch * 1000);
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()]!;
  return `${mon} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)}`;
}

export class SmallLogs {
  readonly main: { time: number; text: string }[] = [];
  readonly mail: { time: number; text: string }[] = [];
  #seq = 0;

  #id(epoch: number): string {
    const a = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    const b62 = (n: number, w: number): string => {
      let s = '';
      for (let i = 0; i < w; i++) {
        s = a[n % 62]! + s;
        n = Math.floor(n / 62);
      }
      return s;
    };
    this.#seq++;
    return `${b62(epoch, 6)}-${b62(1000 + this.#seq, 6)}-${b62(this.#seq % 3844, 2)}`;
  }

  /** A message submitted with SMTP AUTH; returns its id (for outcome). */
  smtp(time: number, o: { sender: string; ip: string; authId: string; subject: string; rcpts: string[]; helo?: string }): string {
    const id = this.#id(time);
    this.main.push({ time, text: `${stamp(time)} ${id} <= ${o.sender} H=(${o.helo ?? 'laptop'}) [${o.ip}]:${40000 + (time % 20000)} I=[${SERVER_IP}]:587 P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=dovecot_login:${o.authId} S=${1200 + (time % 700)} id=${time}.${this.#seq}@mua T="${o.subject}" for ${o.rcpts.join(' ')}` });
    return id;
  }

  /** A delivery attempt of message `id` to `rcpt`: delivered (`=>`), deferred (`==`) or failed for good (`**`). */
  outcome(time: number, id: string, flag: '=>' | '==' | '**', rcpt: string): void {
    const tail = flag === '=>' ? 'R=lookuphost T=remote_smtp H=mx.remote.test [198.51.100.200] C="250 OK"'
      : flag === '==' ? `R=lookuphost T=remote_smtp defer (-44) H=mx.remote.test [198.51.100.200]: SMTP error from remote mail server after RCPT TO:<${rcpt}>: 451 4.7.1 Greylisted`
      : `R=lookuphost T=remote_smtp H=mx.remote.test [198.51.100.200]: SMTP error from remote mail server after RCPT TO:<${rcpt}>: 550 5.1.1 User unknown`;
    this.main.push({ time, text: `${stamp(time)} ${id} ${flag} ${rcpt} ${tail}` });
  }

  /** A message submitted by a script (cwd= line, then its arrival); returns its id (for outcome). */
  local(time: number, o: { cwd: string; sender: string; user: string; subject: string; rcpts: string[] }): string {
    const id = this.#id(time);
    this.main.push({ time, text: `${stamp(time)} cwd=${o.cwd} 3 args: /usr/sbin/sendmail -t -i` });
    this.main.push({ time, text: `${stamp(time)} ${id} <= ${o.sender} U=${o.user} P=local S=${500 + (time % 300)} T="${o.subject}" for ${o.rcpts.join(' ')}` });
    return id;
  }

  imap(time: number, user: string, ip: string): void {
    this.mail.push({ time, text: `${syslogStamp(time)} host dovecot[2211]: imap-login: Login: user=<${user}>, method=PLAIN, rip=${ip}, lip=${SERVER_IP}, mpid=${4000 + this.mail.length}, TLS, session=<Q2sNAb3Q4OgkYXBa>` });
  }

  /** Writes `exim_mainlog` and `maillog` into `dir`. */
  write(dir: string): { mainlog: string; maillog: string } {
    const out = (rows: { time: number; text: string }[], name: string): string => {
      const path = join(dir, name);
      writeFileSync(path, [...rows].sort((a, b) => a.time - b.time).map((l) => `${l.text}\n`).join(''));
      return path;
    };
    return { mainlog: out(this.main, 'exim_mainlog'), maillog: out(this.mail, 'maillog') };
  }
}
