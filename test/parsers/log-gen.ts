/** fast-check arbitraries for Exim main-log lines: realistic shapes plus hostile noise. */
import fc from 'fast-check';

const noise = fc.string({ unit: fc.constantFrom('a', 'B', '1', ' ', '"', '\\', '[', ']', '=', ':', '(', ')', '<', '>', '-', '/', '.', 'é', '\u001b', 'T', 'H', 'A', 'U', 'f', 'o', 'r'), maxLength: 30 });
const word = fc.stringMatching(/^[a-z0-9]{1,6}$/);
const email = fc.tuple(fc.constantFrom('alice', 'bob', 'support', 'news', 'x'), fc.constantFrom('example.test', 'shop.test')).map(([l, d]) => `${l}@${d}`);
const ip = fc.constantFrom('203.0.113.5', '198.51.100.7', '192.0.2.10', '2001:db8::1', '10.0.0.1');
/** Message ids: a few that recur (so that deferrals and failures meet their arrival, or come before it) and random ones. */
const id = fc.oneof(
  fc.constantFrom('1vX000-000000-AF', '1xV5FE-0001it-00', '1wZ9QK-00000000Ab-Cd9e'),
  fc.stringMatching(/^[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}$/),
  fc.stringMatching(/^[0-9A-Za-z]{6}-[0-9A-Za-z]{11}-[0-9A-Za-z]{4}$/),
);
/**
 * Text a hostile sender can put inside a quoted local part: field lookalikes, ` for `,
 * brackets and addresses, quotes and backslashes (escaped with a backslash, as Exim keeps them).
 */
const quotedText = fc.array(fc.oneof(
  fc.constantFrom(' ', 'H=(x) [198.51.100.7]', ' H=[192.0.2.66]:25', ' for ', 'for', 'A=dovecot_login:victim@example.test', 'P=local', 'U=root', 'S=1', 'T="', 'id=', '[', ']', '@', '<', '>', ':', '=', 'x@y.test', '"', '\\', '(', ')', 'é'),
  fc.stringMatching(/^[a-z0-9.]{1,4}$/),
), { maxLength: 8 }).map((parts) => parts.join('').replace(/["\\]/g, '\\$&'));

/**
 * Any local part Exim can log: a dot-atom, or a quoted string as Exim writes it (quotes kept,
 * `\"` and `\\` escaped), possibly as one word of several (`a."b c"`).
 */
export const eximLocalPart = fc.oneof(
  fc.stringMatching(/^[a-z0-9!#$%&'*+/=?^_`{|}~-]{1,8}(\.[a-z0-9_-]{1,5}){0,2}$/),
  quotedText.map((t) => `"${t}"`),
  fc.tuple(fc.stringMatching(/^[a-z0-9]{1,5}$/), quotedText).map(([a, t]) => `${a}."${t}"`),
);
/** An envelope sender Exim can log (its domain may be an address literal). */
export const eximSender = fc.tuple(eximLocalPart, fc.constantFrom('example.test', 'shop.test', '[198.51.100.7]', '[IPv6:2001:db8::9]')).map(([l, d]) => `${l}@${d}`);

const subject = fc.oneof(fc.constantFrom('Invoice overdue', 'You won a \\"prize\\"', 'a\\\\', 'x A=dovecot_login:evil for y', 'Привет'), noise);
const cwdPath = fc.oneof(fc.constantFrom('/home/user1/public_html/wp-content', '/home2/bob/public_html', '/root', '/', '/home/u/a b'), noise.map((n) => `/${n}`));
const args = fc.oneof(
  fc.constantFrom('3 args: /usr/sbin/sendmail -t -i', '2 args: /usr/sbin/exim -bpu', '3 args: exim -Mrm 1xV5FE-0001it-00', '4 args: /usr/sbin/exim -bP spool_directory log_file_path', '2 args: exim -q', '6 args: exim -C /x.conf -t -i -fsupport@example.test', '2 args: exim -bs', '2 args: exim -b'),
  noise.map((n) => `1 args: ${n}`),
);

export const arrivalLine = fc
  .record({
    sender: fc.oneof(email, fc.constant('<>'), word, eximSender),
    host: fc.option(fc.oneof(
      ip.map((a) => `H=[${a}]:52100`),
      fc.tuple(word, ip).map(([h, a]) => `H=(${h}) [${a}]:587`),
      fc.tuple(word, word, ip).map(([n, h, a]) => `H=${n} (${h}) [${a}]`),
      fc.constant('H=localhost'),
      fc.constant('H=[1.2.3.4'),
    )),
    iface: fc.option(ip.map((a) => `I=[${a}]:587`)),
    user: fc.option(fc.constantFrom('U=root', 'U=user1', 'U=mailnull', 'U=spaced user', 'U=a"b', 'U=x for')),
    proto: fc.option(fc.constantFrom('P=local', 'P=esmtpa', 'P=esmtpsa')),
    auth: fc.option(fc.oneof(
      fc.tuple(fc.constantFrom('dovecot_login', 'dovecot_plain', ''), email).map(([a, e]) => `A=${a}:${e}`),
      fc.constantFrom('A=plain', 'A=mylogin', 'A=x:', 'A=', 'A=plain:'),
      fc.tuple(fc.constantFrom('dovecot_login', 'login'), fc.oneof(email, eximSender), fc.oneof(email, eximSender)).map(([a, i, e]) => `A=${a}:${i}:${e}`),
    )),
    size: fc.option(fc.integer({ min: 0, max: 99999 }).map((n) => `S=${n}`)),
    msgid: fc.option(fc.oneof(noise.map((n) => `id=<${n}>`), eximSender.map((m) => `id=${m}`))),
    subject: fc.option(subject.map((s) => `T="${s}"`)),
    rcpts: fc.option(fc.array(email, { minLength: 1, maxLength: 3 }).map((r) => `for ${r.join(' ')}`)),
    extra: fc.option(noise),
  })
  .map((r) => ['<=', r.sender, r.host, r.iface, r.user, r.proto, r.auth, r.size, r.msgid, r.subject, r.rcpts, r.extra].filter((x) => x !== null).join(' '));

/** A recipient as a deferral or failure names it: any case, or hostile text up to the first space. */
const outcomeRcpt = fc.oneof(email, email.map((e) => e.toUpperCase()), fc.constantFrom('', '"a b"@x.test', '<>', 'x@y.test\u001b[2J', 'É@x.test'), noise);
const otherBody = fc.oneof(
  email.map((e) => `=> ${e} R=lookuphost T=remote_smtp H=mx.test [192.0.2.1]`),
  email.map((e) => `** ${e} R=x: bad`),
  email.map((e) => `== ${e} defer (-1)`),
  fc.tuple(fc.constantFrom('==', '**'), outcomeRcpt, noise).map(([f, r, n]) => `${f} ${r} ${n}`),
  fc.constantFrom('==', '**', '== ', '**  x@y.test'),
  fc.constant('Completed'),
  fc.constant('removed by root'),
  fc.constant('frozen by root'),
);

/** A log line body after the timestamp. */
export const lineBody = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(id, arrivalLine).map(([i, a]) => `${i} ${a}`) },
  { weight: 2, arbitrary: fc.tuple(cwdPath, args).map(([p, a]) => `cwd=${p} ${a}`) },
  { weight: 2, arbitrary: fc.tuple(id, otherBody).map(([i, b]) => `${i} ${b}`) },
  { weight: 1, arbitrary: fc.constantFrom('SMTP connection from root', 'Sender identification U=user1 D=example.test S=support@example.test') },
  { weight: 1, arbitrary: noise },
);

export const prefix = fc.constantFrom('', '', '', '[12345] ', '.123 ', ' +0100 ');

/** Lines with non-decreasing timestamps (seconds advance 0..2 per line). */
export function timedLog(maxLines = 60) {
  return fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), prefix, lineBody), { maxLength: maxLines }).map((items) => {
    let t = Date.UTC(2026, 10, 22, 10, 0, 0) / 1000;
    return items.map(([dt, pre, body]) => {
      t += dt;
      const ts = new Date(t * 1000).toISOString().slice(0, 19).replace('T', ' ');
      return pre.startsWith('[') ? `${ts} ${pre}${body}` : pre === '' ? `${ts} ${body}` : `${ts}${pre}${body}`;
    });
  });
}

/** Mixes in lines without timestamps and random mutations. */
export const messyLog = fc.tuple(timedLog(), fc.array(fc.tuple(fc.nat(), noise), { maxLength: 5 })).map(([lines, junk]) => {
  const out = [...lines];
  for (const [at, j] of junk) out.splice(out.length === 0 ? 0 : at % (out.length + 1), 0, j);
  return out;
});
