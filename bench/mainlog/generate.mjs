#!/usr/bin/env node
// Writes a realistic cPanel-selector Exim main log (default 1 GiB) for the scan benchmark.
// Usage: node bench/mainlog/generate.mjs [OUT] [SIZE_MB] [START]   (default bench/out/exim_mainlog, 1024,
// 2026-11-01T00:00:00Z; START moves the whole log in time, e.g. to end just before a staged incident).
// --ordinary: no spam script and no compromised mailbox, only a busy server's ordinary traffic.
// Deterministic (seeded PRNG), so runs are comparable. Never commit the output.
import { mkdirSync, openSync, writeSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';

const out = process.argv[2] ?? 'bench/out/exim_mainlog';
const sizeMb = Number(process.argv[3] ?? 1024);
const target = sizeMb * 1024 * 1024;
const ordinary = process.argv.includes('--ordinary');
mkdirSync(dirname(out), { recursive: true });

let seed = 0x2545f491;
function rnd() {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed / 4294967296;
}
const pick = (a) => a[Math.floor(rnd() * a.length)];
const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
function b62(n, width) {
  let s = '';
  for (let i = 0; i < width; i++) { s = B62[n % 62] + s; n = Math.floor(n / 62); }
  return s;
}
let pid = 1000;
function msgId(t) {
  pid = (pid + 1 + Math.floor(rnd() * 7)) % 3000000;
  return `${b62(t, 6)}-${b62(pid, 11)}-${b62(Math.floor(rnd() * 14776336), 4)}`;
}
function ts(t) {
  return new Date(t * 1000).toISOString().slice(0, 19).replace('T', ' ');
}
const users = Array.from({ length: 300 }, (_, i) => `user${i}`);
const domains = users.map((u, i) => `site${i}.example`);
const remoteDomains = ['gmail.com', 'yahoo.com', 'outlook.com', 'remote.test', 'mail.ru', 'web.de'];
const ips = Array.from({ length: 5000 }, () => `${1 + Math.floor(rnd() * 220)}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.${1 + Math.floor(rnd() * 254)}`);
const subjects = ['Re: meeting', 'Invoice #4411', 'Your order has shipped', 'Password reset', 'Weekly newsletter', 'Fwd: photos', 'Contact form submission', 'Welcome!'];
const spamSubjects = ['You won a \\"prize\\" claim now', 'Most significant deal on prescription medications', 'Urgent: verify your account'];
const serverIp = '192.0.2.10';

let t = Math.floor((process.argv[4] ? Date.parse(process.argv[4]) : Date.UTC(2026, 10, 1)) / 1000);
const fd = openSync(out, 'w');
let written = 0;
let batch = [];
let batchLen = 0;
function emit(line) {
  batch.push(line);
  batchLen += line.length + 1;
  if (batchLen > 4 * 1024 * 1024) flush();
}
function flush() {
  const s = batch.join('\n') + '\n';
  writeSync(fd, s);
  written += Buffer.byteLength(s);
  batch = [];
  batchLen = 0;
}
const rcpt = () => `${pick(['john', 'mary', 'info', 'sales', 'x' + Math.floor(rnd() * 1e6)])}@${pick(remoteDomains)}`;

while (written + batchLen < target) {
  if (rnd() < 0.3) t += 1;
  const now = ts(t);
  const r = rnd();
  const ui = Math.floor(rnd() * users.length);
  const user = users[ui];
  const dom = domains[ui];
  if (r < 0.25) {
    // PHP mail() from a site; a few hot spam scripts dominate.
    const spam = rnd() < 0.5 && !ordinary;
    const su = spam ? users[7] : user;
    const sd = spam ? domains[7] : dom;
    const cwd = spam ? `/home/${su}/public_html/wp-content/uploads/2019/x7k` : `/home/${su}/public_html${pick(['', '/wp-admin', '/forum', '/contact'])}`;
    const id = msgId(t);
    const to = [rcpt(), rcpt()];
    emit(`${now} cwd=${cwd} 3 args: /usr/sbin/sendmail -t -i`);
    emit(`${now} ${id} <= ${spam ? 'support' : 'wordpress'}@${sd} U=${su} P=local S=${800 + Math.floor(rnd() * 4000)} T="${spam ? pick(spamSubjects) : pick(subjects)}" for ${to.join(' ')}`);
    emit(`${now} ${id} => ${to[0]} R=lookuphost T=remote_smtp H=mx.${pick(remoteDomains)} [${pick(ips)}] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes C="250 2.0.0 OK"`);
    emit(`${now} ${id} Completed`);
  } else if (r < 0.5) {
    // Authenticated SMTP submission (a compromised mailbox is one of them).
    const bad = rnd() < 0.3 && !ordinary;
    const box = bad ? `sales@${domains[42]}` : `${pick(['info', 'me', 'office'])}@${dom}`;
    const ip = bad ? pick(ips.slice(0, 20)) : pick(ips);
    const id = msgId(t);
    const to = rcpt();
    emit(`${now} SMTP connection from [${ip}]:${40000 + Math.floor(rnd() * 20000)} (TCP/IP connection count = 3)`);
    emit(`${now} ${id} <= ${box} H=(${pick(['laptop', 'User', '[127.0.0.1]', 'desktop-7'])}) [${ip}]:${40000 + Math.floor(rnd() * 20000)} I=[${serverIp}]:587 P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=dovecot_${rnd() < 0.5 ? 'login' : 'plain'}:${box} S=${1000 + Math.floor(rnd() * 9000)} id=${msgId(t)}@${dom} T="${bad ? pick(spamSubjects) : pick(subjects)}" for ${to}`);
    emit(`${now} ${id} SMTP connection identification H=(laptop) [${ip}]:52100 A=${ip} P=52100 M=${id} U=${user} ID=${1000 + ui} S=${box} B=authenticated_local_user`);
    emit(`${now} ${id} => ${to} R=lookuphost T=remote_smtp H=mx.${pick(remoteDomains)} [${pick(ips)}] C="250 OK"`);
    emit(`${now} ${id} Completed`);
  } else if (r < 0.8) {
    // Incoming mail for a local mailbox.
    const id = msgId(t);
    const ip = pick(ips);
    emit(`${now} ${id} <= ${rcpt()} H=mail.${pick(remoteDomains)} [${ip}]:${10000 + Math.floor(rnd() * 50000)} I=[${serverIp}]:25 P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no S=${2000 + Math.floor(rnd() * 50000)} id=${msgId(t)}@remote T="${pick(subjects)}" for info@${dom}`);
    emit(`${now} ${id} => info <info@${dom}> R=virtual_user T=dovecot_virtual_delivery`);
    emit(`${now} ${id} Completed`);
  } else if (r < 0.88) {
    // Deferrals and bounces.
    const id = msgId(t);
    emit(`${now} ${id} == ${rcpt()} R=lookuphost T=remote_smtp defer (-44) H=mx.${pick(remoteDomains)} [${pick(ips)}]: SMTP error from remote mail server after RCPT TO:<x@y>: 451 4.7.1 Try again later`);
    if (rnd() < 0.3) {
      const b = msgId(t);
      emit(`${now} ${b} <= <> R=${id} U=mailnull P=local S=${1500 + Math.floor(rnd() * 2000)} T="Mail delivery failed: returning message to sender" for support@${domains[7]}`);
    }
  } else if (r < 0.93) {
    // Admin runs of exim (queue listings, removals), which the cwd ranking must ignore.
    emit(`${now} cwd=/root ${pick(['2 args: /usr/sbin/exim -bpu', '2 args: /usr/sbin/exim -bpc', '3 args: /usr/sbin/exim -Mrm ' + msgId(t), '4 args: /usr/sbin/exim -bP spool_directory log_file_path'])}`);
  } else if (r < 0.97) {
    emit(`${now} ${msgId(t)} Sender identification U=${user} D=${dom} S=wordpress@${dom}`);
  } else {
    emit(`${now} SMTP connection from [${pick(ips)}]:${10000 + Math.floor(rnd() * 50000)} (TCP/IP connection count = 1)`);
    emit(`${now} SMTP connection from [${pick(ips)}]:${10000 + Math.floor(rnd() * 50000)} closed by QUIT`);
  }
}
flush();
closeSync(fd);
console.log(`${out}: ${(written / 1048576).toFixed(0)} MiB, last timestamp ${ts(t)}`);
