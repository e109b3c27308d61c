/**
 * A small main log and maillog of an ordinary day and a half on a cPanel host, with an incident
 * in the middle: two compromised mailboxes (their owners keep working), a cPanel account login
 * with forged envelope senders, cPanel's own notices, cron mail, a daily newsletter, a common
 * subject many people use, inbound mail, webmail and a site's SMTP plugin on the server itself.
 * Lines follow reference/owners-holds-blocklists-malware.md §1 and §7 (cPanel log selectors).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SERVER_IP = '192.0.2.10';
export const HOSTNAME = 'host.example.test';
/** 2026-12-06 00:00:00 UTC: the log starts here; the incident begins the next night. */
const T0 = Date.UTC(2026, 11, 6) / 1000;
const HOUR = 3600;

export const EXPECT = {
  alice: 'alice@example.test',
  bob: 'bob@other.test',
  account: 'shopuser',
  aliceOffice: '198.51.100.10',
  alicePhone: '2001:db8:aaaa:1::10',
  bobHome: '198.51.100.20',
  /** Twelve attackers, each alone in its /24; the first read alice's mail and the second sent a test message the day before. */
  aliceAttackers: Array.from({ length: 12 }, (_, i) => `45.33.${10 + i}.7`),
  /** Five attackers in one /24 that nothing legitimate uses. */
  aliceNetwork: Array.from({ length: 5 }, (_, i) => `91.200.12.${20 + i}`),
  aliceNetworkBlock: '91.200.12.0/24',
  /** An attacker rotating inside one IPv6 /64. */
  aliceV6: Array.from({ length: 6 }, (_, i) => `2a0b:4140:d00:7::${(i + 1).toString(16)}`),
  aliceV6Block: '2a0b:4140:d00:7::/64',
  bobAttackers: ['185.220.101.1', '185.220.101.2', '185.220.101.3'],
  accountAttacker: '77.88.1.2',
  /** The incident's first message (alice's first attacker). */
  began: '2026-12-07T03:17:05',
  serviceId: '__cpanel__service__auth__icontact__q7x9wz',
  newsletter: 'news@shop.example.test',
  cron: `root@${HOSTNAME}`,
};

function stamp(epoch: number): string {
  return new Date(epoch * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

function syslogStamp(epoch: number): string {
  const d = new Date(epoch * 1000);
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()]!;
  return `${mon} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)}`;
}

let seq = 0;
function id(epoch: number): string {
  const b62 = (n: number, w: number): string => {
    const a = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    let s = '';
    for (let i = 0; i < w; i++) {
      s = a[n % 62]! + s;
      n = Math.floor(n / 62);
    }
    return s;
  };
  seq++;
  return `${b62(epoch, 6)}-${b62(1000 + seq, 6)}-${b62(seq % 3844, 2)}`;
}

export interface IncidentLogs {
  mainlog: string;
  maillog: string;
  /** Main-log lines with their times, for tests that build other logs from them. */
  lines: { time: number; text: string }[];
}

/** Writes `exim_mainlog` and `maillog` into `dir`. */
export function writeRealisticIncident(dir: string): IncidentLogs {
  seq = 0;
  const lines: { time: number; text: string }[] = [];
  const mail: { time: number; text: string }[] = [];
  const smtp = (time: number, sender: string, ip: string, authId: string, subject: string, rcpts: string[], helo = 'laptop', auth = 'dovecot_login'): void => {
    const host = ip === '127.0.0.1' ? `H=localhost (${helo}) [${ip}]` : `H=(${helo}) [${ip}]`;
    const a = authId === '' ? '' : ` A=${auth}:${authId}`;
    lines.push({ time, text: `${stamp(time)} ${id(time)} <= ${sender} ${host}:${40000 + (time % 20000)} I=[${SERVER_IP}]:587 P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no${a} S=${1200 + (time % 700)} id=${time}.${seq}@mua T="${subject}" for ${rcpts.join(' ')}` });
  };
  const local = (time: number, cwd: string, args: string, sender: string, user: string, subject: string, rcpts: string[]): void => {
    lines.push({ time, text: `${stamp(time)} cwd=${cwd} ${args}` });
    lines.push({ time, text: `${stamp(time)} ${id(time)} <= ${sender} U=${user} P=local S=${500 + (time % 300)} T="${subject}" for ${rcpts.join(' ')}` });
  };
  const inbound = (time: number, sender: string, ip: string, rcpt: string): void => {
    lines.push({ time, text: `${stamp(time)} ${id(time)} <= ${sender} H=mail-${ip.replace(/\./g, '-')}.example.net [${ip}]:25 I=[${SERVER_IP}]:25 P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no S=4100 id=${time}@example.net T="Re: meeting" for ${rcpt}` });
  };
  const imap = (time: number, user: string, ip: string, proto = 'imap'): void => {
    mail.push({ time, text: `${syslogStamp(time)} ${HOSTNAME.split('.')[0]} dovecot[2211]: ${proto}-login: Login: user=<${user}>, method=PLAIN, rip=${ip}, lip=${SERVER_IP}, mpid=${4000 + mail.length}, TLS, session=<Q2sNAb3Q4OgkYXBa>` });
  };

  for (let h = 0; h < 36; h++) {
    const base = T0 + h * HOUR;
    const hourOfDay = h % 24;
    const office = hourOfDay >= 8 && hourOfDay <= 17;
    // Alice works from the office, reads mail from there and from her phone.
    if (office) {
      for (let k = 0; k < 3; k++) smtp(base + 300 + k * 900, EXPECT.alice, EXPECT.aliceOffice, EXPECT.alice, k === 0 ? 'Invoice' : `Project ${h}-${k}`, [`client${k}@customer.test`]);
      imap(base + 120, EXPECT.alice, EXPECT.aliceOffice);
    }
    if (hourOfDay % 4 === 0) imap(base + 200, EXPECT.alice, EXPECT.alicePhone);
    // Bob sends a few from home in the evening and collects over POP3.
    if (hourOfDay >= 18 && hourOfDay <= 22) {
      smtp(base + 600, EXPECT.bob, EXPECT.bobHome, EXPECT.bob, 'Hello', ['friend@remote.test']);
      imap(base + 500, EXPECT.bob, EXPECT.bobHome, 'pop3');
    }
    // Webmail and a site's SMTP plugin on this server log in as alice now and then.
    if (hourOfDay === 11) {
      smtp(base + 1500, EXPECT.alice, '127.0.0.1', EXPECT.alice, 'From webmail', ['x@customer.test'], 'localhost');
      smtp(base + 1600, EXPECT.alice, SERVER_IP, EXPECT.alice, 'Contact form', ['alice@example.test'], HOSTNAME, 'dovecot_plain');
    }
    // Many people send "Invoice" and "Hello": common subjects, not spam.
    for (let k = 0; k < 5; k++) smtp(base + 1800 + k * 60, `staff${k}@example.test`, `198.51.100.${40 + k}`, `staff${k}@example.test`, k % 2 === 0 ? 'Invoice' : 'Hello', ['payable@customer.test']);
    // cPanel's notices (iContact) and root's cron mail.
    for (let k = 0; k < 5; k++) smtp(base + 2000 + k * 30, `cpanel@${HOSTNAME}`, '127.0.0.1', EXPECT.serviceId, 'Disk usage warning', [`user${k}@example.test`], 'localhost', 'dovecot_plain');
    for (let k = 0; k < 5; k++) local(base + 2400 + k * 60, '/root', '9 args: /usr/sbin/sendmail -FCronDaemon -i -odi -oem -oi -t -f root', EXPECT.cron, 'root', `Cron <root@host> /usr/local/cpanel/scripts/job${k}`, ['root']);
    // The daily newsletter at 10:00, 150 messages in a few minutes.
    if (hourOfDay === 10) for (let k = 0; k < 150; k++) local(base + 60 + k, '/home/shopuser/public_html/newsletter', '3 args: /usr/sbin/sendmail -t -i', EXPECT.newsletter, 'shopuser', 'Our December offers', [`subscriber${k}@remote.test`]);
    for (let k = 0; k < 3; k++) inbound(base + 2800 + k * 100, `partner${k}@example.net`, `203.0.113.${100 + k}`, EXPECT.alice);
  }

  // The day before, the attackers tried the stolen password: an IMAP login and one test message.
  imap(T0 + 20 * HOUR + 600, EXPECT.alice, EXPECT.aliceAttackers[0]!);
  smtp(T0 + 21 * HOUR + 900, EXPECT.alice, EXPECT.aliceAttackers[1]!, EXPECT.alice, 'test', ['check@victims.test'], 'User');

  // The incident: from 03:17 on the second day alice's password is used from everywhere.
  const start = T0 + 24 * HOUR + 3 * HOUR + 17 * 60 + 5;
  const attackers = [...EXPECT.aliceAttackers, ...EXPECT.aliceNetwork, ...EXPECT.aliceV6];
  for (let i = 0; i < 1150; i++) {
    const ip = attackers[i % attackers.length]!;
    const forged = i % 3 === 0 ? `billing${i}@random-${i % 7}.test` : EXPECT.alice;
    smtp(start + i * 12, forged, ip, EXPECT.alice, 'Invoice', [`v${i}a@victims.test`, `v${i}b@victims.test`], 'User', i % 2 === 0 ? 'dovecot_login' : 'dovecot_plain');
  }
  // Alice's phone sends one message during the incident (she reads mail there too).
  smtp(start + 3600, EXPECT.alice, EXPECT.alicePhone, EXPECT.alice, 'Re: lunch', ['friend@remote.test'], 'iphone');
  // bob from 05:00, 150 messages from three addresses.
  const bobStart = T0 + 24 * HOUR + 5 * HOUR;
  // The same campaign: alice's subject, RFC 2047-encoded ("Invoice").
  for (let i = 0; i < 150; i++) smtp(bobStart + i * 20, EXPECT.bob, EXPECT.bobAttackers[i % 3]!, EXPECT.bob, '=?UTF-8?B?SW52b2ljZQ==?=', [`p${i}@victims.test`]);
  // The cPanel account's own login (no @) from 04:00, forging envelope senders.
  const accStart = T0 + 24 * HOUR + 4 * HOUR;
  for (let i = 0; i < 120; i++) smtp(accStart + i * 25, `x${i}@shop.example.test`, EXPECT.accountAttacker, EXPECT.account, 'Payment failed', [`a${i}@victims.test`], 'User');

  lines.sort((a, b) => a.time - b.time);
  mail.sort((a, b) => a.time - b.time);
  const mainlog = join(dir, 'exim_mainlog');
  const maillog = join(dir, 'maillog');
  writeFileSync(mainlog, lines.map((l) => `${l.text}\n`).join(''));
  writeFileSync(maillog, mail.map((l) => `${l.text}\n`).join(''));
  return { mainlog, maillog, lines };
}
