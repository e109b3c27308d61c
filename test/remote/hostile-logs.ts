/**
 * Generated main logs for the counters that run on a target (perl and native): the shared
 * generator's lines plus unusual ones, in any order, with raw bytes and CRLF.
 */
import fc from 'fast-check';
import { arrivalLine, messyLog, prefix } from '../parsers/log-gen.js';

export const at = (dt: number): string => new Date(Date.UTC(2026, 10, 22, 10, 0, 0) + dt * 1000).toISOString().slice(0, 19).replace('T', ' ');

/** Lines the shared generator does not make: encoded subjects, IPv6 logins, long lines, raw bytes, a burst. */
export const unusual = fc.oneof(
  fc.constantFrom(
    '1vX000-000000-AB <= news@shop.test U=shop P=local T="=?UTF-8?B?0J/RgNC40LLQtdGC?= =?utf-8?q?caf=C3=A9?=" for a@b.test',
    '1vX000-000000-AC <= box@client.test H=(pc) [2001:db8::5]:587 I=[2001:db8::1]:587 P=esmtpa A=dovecot_login:box@client.test T="=?ISO-8859-1?Q?Gr=FC=DFe?=" for z@far.test',
    '1vX000-000000-AD <= box@client.test H=(pc) [::ffff:203.0.113.9]:587 P=esmtpa A=dovecot_plain:Box@Client.test T="x" for z@far.test',
    'cwd=/home/shop/public_html/wp-content/uploads 3 args: /usr/sbin/sendmail -t -i',
    '1vX000-000000-AE <= shop@shop.test U=shop P=local S=900 T="Cheap \\"pills\\" <= now $(id) `x`" for a@victim.test',
    '1vX000-000000-AF == a@b.test R=dnslookup T=remote_smtp defer (-44): SMTP error',
    '1vX000-000000-AF ** a@b.test R=dnslookup T=remote_smtp: 550 no such user',
    // Deferrals and failures: retried, in other case, hostile, of messages that never arrived.
    '1vX000-000000-AF == A@B.TEST R=dnslookup T=remote_smtp defer (-44): $(id) <= x@y.test',
    '1xV5FE-0001it-00 ** "a b"@x.test <evil@x.test> R=x T=y: 550 `rm -rf` \u001b[2J',
    '1wZ9QK-00000000Ab-Cd9e == \u00ff\u00c3@x.test defer (-1)',
    '1wZ9QK-00000000Ab-Cd9e ** ',
    '1vX000-000000-AF **',
    '1vX999-000000-ZZ ** never@arrived.test R=x: 550',
    '1xV5FE-0001it-00 <= shop@shop.test U=shop P=local T="Win \\"big\\"" for a@b.test C@D.test  e@f.test',
    '1wZ9QK-00000000Ab-Cd9e <= box@client.test H=(pc) [203.0.113.9]:587 P=esmtpa A=dovecot_login:box@client.test for x@y.test T="not a subject"',
  ),
  fc.integer({ min: 1, max: 3 }).map((k) => `1vX000-000000-AG <= long@shop.test U=shop P=local T="${'x'.repeat(k * 70_000)}" for a@b.test`),
  fc.constant('\u0000\u00ff raw \u00c3 bytes <= [\u00e9] T="\u00ff'),
);

/** A log in any order: the generator's lines, unusual ones, arrivals at random seconds, swaps. */
export const anyLog = fc
  .tuple(
    messyLog,
    fc.array(fc.tuple(fc.integer({ min: 0, max: 120 }), prefix, fc.oneof(arrivalLine.map((a) => `1vX111-000000-Zz ${a}`), unusual)), { maxLength: 40 }),
    fc.array(fc.nat(), { maxLength: 40 }),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([lines, extra, swaps, crlf, joined]) => {
    const out = [...lines];
    // A message whose failure and deferrals (one retried in other case) follow it: joined.
    if (joined) {
      out.push(...[
        '1zz000-000000-JN <= kim@farm.test U=kim P=local T="x" for a@dead.test b@dead.test',
        '1zz000-000000-JN ** a@dead.test R=x: 550', '1zz000-000000-JN == b@dead.test defer (-44)', '1zz000-000000-JN == B@DEAD.test defer (-44)',
      ].map((l) => `${at(121)} ${l}`));
    }
    for (const [dt, pre, body] of extra) {
      const ts = at(dt);
      out.push(pre.startsWith('[') ? `${ts} ${pre}${body}` : pre === '' ? `${ts} ${body}` : `${ts}${pre}${body}`);
    }
    for (let i = 0; i + 1 < swaps.length && out.length > 1; i += 2) {
      const a = swaps[i]! % out.length;
      const b = swaps[i + 1]! % out.length;
      [out[a], out[b]] = [out[b]!, out[a]!];
    }
    // Raw bytes: latin1 keeps the \u00ff above as one byte that is not UTF-8.
    return Buffer.from(out.length === 0 ? '' : `${out.join(crlf ? '\r\n' : '\n')}\n`, 'latin1');
  });

/**
 * List lengths: the default, and short ones, so that the host's cut of what it sends is tested;
 * and a tiny join memory, so that forgetting the oldest messages is too.
 */
export const lists = fc.constantFrom({}, { limit: 2, nestedLimit: 1 }, { limit: 1, nestedLimit: 3 }, { limit: 3, nestedLimit: 2 }, { maxMessages: 2 }, { maxMessages: 5, limit: 2, nestedLimit: 1 });

