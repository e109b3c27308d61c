// The history pass's line finder: one pass for many ids gives exactly the lines a search per
// id gives, in file order, each once; and the kernel's history filter gives the activity
// collector exactly what those lines gave it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linesContaining, MainlogLineFeeder, readMainlogHistory } from '../../src/investigate/activity-read.js';
import { ActivityCollector } from '../../src/investigate/activity.js';
import { arrivalLine, messyLog } from '../parsers/log-gen.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runbook-needles-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const text = fc.string({ unit: fc.constantFrom('a', 'b', '@', ' ', '<', '=', '[', '1', '.', ']', 'é'), maxLength: 40 });

describe('lines holding one of many strings', () => {
  it('are the lines a naive search finds, with and without a marker', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(text, { maxLength: 30 }), fc.array(text.filter((s) => s !== ''), { minLength: 1, maxLength: 12 }), fc.boolean(), async (lines, needles, marked) => {
        const file = join(dir, `f${n++}`);
        await writeFile(file, lines.join('\n'));
        const within = marked ? ' <= ' : undefined;
        const got: string[] = [];
        for await (const l of linesContaining(file, needles, undefined, undefined, within)) got.push(l);
        const want = lines.filter((l) => needles.some((x) => l.includes(x)) && (within === undefined || l.includes(within)));
        expect(got).toEqual(want);
      }),
      { numRuns: 150 },
    );
  });

  it('finds lines cut by the 4 MiB reads, and lines longer than a read, exactly once', async () => {
    // Lines of every length around the read size, so that cuts fall inside, before and after
    // the needle, on a newline, and inside a line longer than a whole read.
    const lines: string[] = [];
    let size = 0;
    for (let i = 0; size < 13 * 1024 * 1024; i++) {
      const pad = 'x'.repeat((i * 7919) % 3000);
      const line = i % 9 === 0 ? `t${i} <= spam@bad.example ${pad}` : i % 13 === 0 ? `t${i} -> spam@bad.example ${pad}` : `t${i} <= ok@fine.example ${pad}`;
      lines.push(line);
      size += line.length + 1;
    }
    lines.splice(500, 0, `long <= spam@bad.example ${'y'.repeat(9 * 1024 * 1024)}`);
    const file = join(dir, 'big');
    await writeFile(file, `${lines.join('\n')}\n`);
    for (const within of [' <= ', undefined]) {
      const got: string[] = [];
      for await (const l of linesContaining(file, ['spam@bad.example'], undefined, undefined, within)) got.push(l);
      expect(got).toEqual(lines.filter((l) => l.includes('spam@bad.example') && (within === undefined || l.includes(within))));
    }
  });
});

/** Maps and Sets as entry lists, in insertion order: the facts compared as the verdict reads them. */
function plain(value: unknown): unknown {
  if (value instanceof Map) return { map: [...value].map(([k, v]) => [k, plain(v)]) };
  if (value instanceof Set) return { set: [...value] };
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

const at = (dt: number): string => new Date(Date.UTC(2026, 10, 22, 10, 0, 0) + dt * 1000).toISOString().slice(0, 19).replace('T', ' ');

/** Lines the shared generator does not make: shared addresses, encoded subjects, IPv6, case, raw bytes, ` <= ` where no arrival is. */
const unusual = fc.oneof(
  fc.constantFrom(
    '1vX000-000000-AB <= news@shop.test U=shop P=local T="=?UTF-8?B?0J/RgNC40LLQtdGC?= =?utf-8?q?caf=C3=A9?=" for a@b.test',
    '1vX000-000000-AC <= box@client.test H=(pc) [2001:db8::5]:587 I=[2001:db8::1]:587 P=esmtpa A=dovecot_login:box@client.test T="=?ISO-8859-1?Q?Gr=FC=DFe?=" for z@far.test',
    '1vX000-000000-AD <= box@client.test H=(pc) [::ffff:203.0.113.9]:587 I=[192.0.2.10]:587 P=esmtpa A=dovecot_plain:Box@Client.test T="x" for z@far.test',
    '1vX000-000000-AE <= BOX@CLIENT.TEST H=(pc) [203.0.113.9]:587 I=[::ffff:192.0.2.11]:465 P=esmtpa A=dovecot_plain:alice@example.test T="Same \\"offer\\"" for Z@Far.test y@far.test',
    '1vX000-000000-AF <= x@y.test H=(pc) [203.0.113.9]:587 P=esmtpa A=dovecot_login:bob@shop.test T="Same offer" for q@far.test',
    '1vX000-000000-AF == box@client.test R=dnslookup T=remote_smtp defer (-44): SMTP error <= I=[192.0.2.99]',
    '1vX000-000000-AG <= <> R=1vX000-000000-AF U=mailnull P=local I=[192.0.2.12]:25 T="Mail delivery failed" for box@client.test',
    'noise <= box@client.test I=[192.0.2.13]:25',
    '1vX000-000000-AH <= box@client.test H=(pc) [203.0.113.9]:587 P=esmtpa A=dovecot_login:box@client.test T="unterminated for a@b.test',
    '1vX000-000000-AI <= box@client.test U=box P=local for',
    '1vX000-000000-AJ <= ab H=[198.51.100.7]:25 A=x:ab S=1 T="" for ',
  ),
  fc.integer({ min: 1, max: 3 }).map((k) => `1vX000-000000-AK <= long@shop.test U=shop P=local T="${'x'.repeat(k * 3000)} box@client.test" for a@b.test`),
  fc.constant('\u0000\u00ff raw \u00c3 bytes <= [\u00e9] box@client.test T="\u00ff'),
  fc.constant('2026-11-22 10:00:09 1vX000-000000-AL <= box@client.test\u00c3 H=(pc) [203.0.113.9]:587 A=dovecot_login:box@client.test T="\u00e9\u00c3" for \u00c3@x.test'),
);

const anyLog = fc
  .tuple(
    messyLog,
    fc.array(fc.tuple(fc.integer({ min: 0, max: 120 }), fc.oneof(arrivalLine.map((a) => `1vX111-000000-Zz ${a}`), unusual)), { maxLength: 40 }),
    fc.array(fc.nat(), { maxLength: 20 }),
    fc.boolean(),
  )
  .map(([lines, extra, swaps, finalNewline]) => {
    const out = [...lines];
    for (const [dt, body] of extra) out.push(body.startsWith('2026-') || body.startsWith('noise') || body.startsWith('\u0000') ? body : `${at(dt)} ${body}`);
    for (let i = 0; i + 1 < swaps.length && out.length > 1; i += 2) {
      const a = swaps[i]! % out.length;
      const b = swaps[i + 1]! % out.length;
      [out[a], out[b]] = [out[b]!, out[a]!];
    }
    // latin1 keeps \u00c3 and \u00ff as single bytes that are not UTF-8.
    return Buffer.from(`${out.join('\n')}${finalNewline && out.length > 0 ? '\n' : ''}`, 'latin1');
  });

/** What the first pass may flag: ids and senders as logged, in other cases, short ones, addresses. */
const someIds = fc.array(fc.constantFrom('box@client.test', 'BOX@client.test', 'Box@Client.test', 'alice@example.test', 'bob@shop.test', 'support@shop.test', 'news@example.test', 'x', 'ab', 'x@y.test', 'long@shop.test', 'q\u00e9@x', 'a.b.c.d.e.f.g.h.i.j.k.l@example.test'), { maxLength: 6 });
const leads = fc.record({
  authIds: someIds,
  senders: someIds,
  sharedIps: fc.array(fc.constantFrom('203.0.113.9', '203.0.113.5', '198.51.100.7', '2001:db8::5', '2001:db8::1', '10.0.0.1'), { maxLength: 3 }),
});

describe('the history of flagged ids read through the kernel', () => {
  it('gives the collector the same facts as every line holding " <= " and a needle, fed one by one', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(anyLog, leads, fc.boolean(), fc.integer({ min: 16, max: 2048 }), fc.boolean(), async (log, lead, gzip, chunkBytes, ahead) => {
        const file = join(dir, `h${n++}`);
        await writeFile(file, gzip ? gzipSync(log) : log);
        const want = new ActivityCollector(lead.authIds, lead.senders, lead.sharedIps);
        for await (const l of linesContaining(file, want.needles, undefined, (line) => want.logStartLine(line), ' <= ')) want.mainlogLine(l);
        const got = new ActivityCollector(lead.authIds, lead.senders, lead.sharedIps);
        await readMainlogHistory(file, got, { chunkBytes, ahead });
        expect(plain(got.finish(2026))).toEqual(plain(want.finish(2026)));
      }),
      { numRuns: 300 },
    );
  });

  it('finds the same lines where arrows, brackets and newlines fall anywhere: at a line\'s first byte, its last, a read\'s cut', async () => {
    // Few bytes, so that ` <= `, `[`, needles and line ends meet in every arrangement; needles
    // bracketed (shared addresses) and not, of every length around the kernel's 4- and 8-byte pieces.
    const bits = fc.string({ unit: fc.constantFrom(' ', '<', '=', '[', ']', 'I', '1', '.', 'a', '@', 'b'), maxLength: 30 });
    // Values that are needles too (a shared address becomes `[value]`), so that lines hold them often.
    const known = fc.constantFrom('1.1', '1.1.1.1', 'a@b.a', 'aa', 'a1@b', '[1.1]', 'ab.1.1.1');
    const some = fc.oneof(bits, known, fc.tuple(known, bits).map(([k, t]) => `[${k}]${t}`), fc.tuple(bits, known).map(([t, k]) => `${t}[${k}]`));
    const line = fc.oneof(
      some,
      fc.tuple(some, some, fc.integer({ min: 1, max: 3 })).map(([a, b, i]) => `${a} <= ${b} I=[192.0.2.${i}]:25`),
      fc.tuple(fc.integer({ min: 0, max: 7200 }), some).map(([dt, t]) => `${at(dt)} 1vX000-000000-AB <= ${t}`),
      fc.tuple(fc.integer({ min: 0, max: 7200 }), some, some).map(([dt, a, b]) => `${at(dt)} 1vX000-000000-AB <= ${a} H=(pc) [${b}]:25 I=[${a}]:25 A=x:${b} T="${a}" for ${b}`),
      fc.tuple(some, some).map(([a, b]) => `${a} <= ${b}`),
    );
    const ids = fc.array(fc.oneof(known, bits).filter((t) => t !== ''), { maxLength: 4 });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 40 }), ids, ids, ids, fc.integer({ min: 16, max: 512 }), fc.boolean(), async (lines, authIds, senders, sharedIps, chunkBytes, finalNewline) => {
        const file = join(dir, `b${n++}`);
        await writeFile(file, `${lines.join('\n')}${finalNewline ? '\n' : ''}`);
        const want = new ActivityCollector(authIds, senders, sharedIps);
        for await (const l of linesContaining(file, want.needles, undefined, (first) => want.logStartLine(first), ' <= ')) want.mainlogLine(l);
        const got = new ActivityCollector(authIds, senders, sharedIps);
        await readMainlogHistory(file, got, { chunkBytes });
        expect(plain(got.finish(2026))).toEqual(plain(want.finish(2026)));
      }),
      { numRuns: 400 },
    );
  });

  it('gives one collector the same facts from the files of a rotated set as their lines fed one by one', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(anyLog, fc.boolean()), { minLength: 2, maxLength: 4 }),
        leads,
        fc.integer({ min: 16, max: 2048 }),
        fc.boolean(),
        async (logs, lead, chunkBytes, ahead) => {
          const files: string[] = [];
          for (const [log, gzip] of logs) {
            const file = join(dir, `set${n++}`);
            await writeFile(file, gzip ? gzipSync(log) : log);
            files.push(file);
          }
          const want = new ActivityCollector(lead.authIds, lead.senders, lead.sharedIps);
          for (const file of files) {
            for await (const l of linesContaining(file, want.needles, undefined, (line) => want.logStartLine(line), ' <= ')) want.mainlogLine(l);
          }
          const got = new ActivityCollector(lead.authIds, lead.senders, lead.sharedIps);
          for (const file of files) await readMainlogHistory(file, got, { chunkBytes, ahead });
          expect(plain(got.finish(2026))).toEqual(plain(want.finish(2026)));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('takes the lists of each file of a rotated set, whose readers number their lists anew', async () => {
    const one = `${at(0)} 1vX000-000000-Ab <= spam@bad.example H=(pc) [203.0.113.9]:587 A=dovecot_login:spam@bad.example T="x" for a@far.test b@far.test\n`;
    const two = `${at(60)} 1vX000-000000-Ac <= spam@bad.example H=(pc) [203.0.113.9]:587 A=dovecot_login:spam@bad.example T="x" for c@far.test d@far.test\n`;
    const files = [join(dir, 'rot-1'), join(dir, 'rot-0')];
    await writeFile(files[0]!, one);
    await writeFile(files[1]!, two);
    const got = new ActivityCollector(['spam@bad.example'], []);
    for (const f of files) await readMainlogHistory(f, got);
    const act = got.finish(2026).auth.get('spam@bad.example')!;
    expect([...act.uniqueRecipients].sort()).toEqual(['a@far.test', 'b@far.test', 'c@far.test', 'd@far.test']);
    expect([...(act.hourlyRecipients ?? new Map()).values()]).toEqual([4]);
  });

  it('reads lines longer than a read and cut by the reads, plain and gzip', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 4000; i++) {
      const who = i % 3 === 0 ? 'spam@bad.example' : `user${i % 17}@fine.example`;
      lines.push(`${at(i)} 1vX000-000000-${String(i % 100).padStart(2, '0')} <= ${who} H=(pc) [203.0.113.${i % 9}]:587 I=[192.0.2.${i % 2}]:587 P=esmtpa A=dovecot_login:${who} T="Offer ${'y'.repeat((i * 7919) % 5000)}" for a${i % 5}@far.test`);
    }
    const log = Buffer.from(`${lines.join('\n')}\n`);
    for (const gzip of [false, true]) {
      const file = join(dir, `long-${gzip}`);
      await writeFile(file, gzip ? gzipSync(log) : log);
      const want = new ActivityCollector(['spam@bad.example'], ['user3@fine.example'], ['203.0.113.4']);
      for await (const l of linesContaining(file, want.needles, undefined, (line) => want.logStartLine(line), ' <= ')) want.mainlogLine(l);
      const got = new ActivityCollector(['spam@bad.example'], ['user3@fine.example'], ['203.0.113.4']);
      await readMainlogHistory(file, got, { chunkBytes: 1000 });
      expect(plain(got.finish(2026))).toEqual(plain(want.finish(2026)));
      expect(got.facts.auth.get('spam@bad.example')?.total).toBe(1334);
    }
  });

  it('counts distinct recipients per hour the same when lists repeat and a closed hour opens again', async () => {
    // Hours 10, 11, 12, then 10 again (closed by then: it opens afresh), the same few lists throughout.
    const lines: string[] = [];
    for (const [h, n] of [[0, 50], [1, 30], [2, 20], [0, 40]] as const) {
      for (let i = 0; i < n; i++) lines.push(`${at(h * 3600 + i)} 1vX000-000000-Ab <= spam@bad.example H=(pc) [203.0.113.9]:587 A=dovecot_login:spam@bad.example T="x" for r${i % 4}@far.test R${(i * 7) % 5}@far.test`);
    }
    const file = join(dir, 'hours-again');
    await writeFile(file, `${lines.join('\n')}\n`);
    const want = new ActivityCollector(['spam@bad.example'], ['spam@bad.example']);
    for await (const l of linesContaining(file, want.needles, undefined, (line) => want.logStartLine(line), ' <= ')) want.mainlogLine(l);
    const got = new ActivityCollector(['spam@bad.example'], ['spam@bad.example']);
    await readMainlogHistory(file, got);
    expect(plain(got.finish(2026))).toEqual(plain(want.finish(2026)));
    expect(got.facts.auth.get('spam@bad.example')?.hourlyRecipients?.size).toBe(3);
  });

  it('hands over values the kernel no longer keeps as bytes (more distinct recipient lists than it keeps)', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 25_000; i++) lines.push(`${at(i)} 1vX000-000000-Ab <= spam@bad.example H=(pc) [203.0.113.${i % 200}]:587 A=dovecot_login:spam@bad.example T="x" for R${i}@far.test r${i % 7}@far.test`);
    const file = join(dir, 'many-lists');
    await writeFile(file, `${lines.join('\n')}\n`);
    const want = new ActivityCollector(['spam@bad.example'], ['spam@bad.example']);
    for await (const l of linesContaining(file, want.needles, undefined, (line) => want.logStartLine(line), ' <= ')) want.mainlogLine(l);
    const got = new ActivityCollector(['spam@bad.example'], ['spam@bad.example']);
    await readMainlogHistory(file, got);
    expect(plain(got.finish(2026))).toEqual(plain(want.finish(2026)));
    expect(got.facts.senders.get('spam@bad.example')?.uniqueRecipients.size).toBe(25_000);
  });
});

describe('main-log lines a host sent, fed through the kernel one at a time', () => {
  /** The lines of `log` holding ` <= ` and a needle byte for byte, as the host's filter selects them. */
  function selected(log: Buffer, needles: string[]): Buffer[] {
    const bytes = needles.filter((n) => n !== '').map((n) => Buffer.from(n));
    const out: Buffer[] = [];
    let start = 0;
    while (start < log.length) {
      let end = log.indexOf(0x0a, start);
      if (end < 0) end = log.length;
      const line = log.subarray(start, end);
      if (line.includes(' <= ') && bytes.some((b) => line.includes(b))) out.push(line);
      start = end + 1;
    }
    return out;
  }

  it('give the collector the same facts as those lines fed to mainlogLine, however the batches fall', () => {
    fc.assert(
      fc.property(anyLog, leads, fc.array(fc.nat(), { maxLength: 10 }), (log, lead, cuts) => {
        const want = new ActivityCollector(lead.authIds, lead.senders, lead.sharedIps);
        const lines = selected(log, want.needles);
        for (const l of lines) want.mainlogLine(l.toString('utf8'));
        const got = new ActivityCollector(lead.authIds, lead.senders, lead.sharedIps);
        const feeder = new MainlogLineFeeder(got);
        const flushAt = new Set(cuts.map((c) => c % (lines.length + 1)));
        for (const [i, l] of lines.entries()) {
          if (flushAt.has(i)) feeder.flush();
          // Each line inside a larger buffer, as it arrives among the filter's other records.
          const framed = Buffer.concat([Buffer.from('L'), l, Buffer.from('\nD\n')]);
          feeder.add(framed, 1, 1 + l.length);
        }
        feeder.flush();
        expect(plain(got.finish(2026))).toEqual(plain(want.finish(2026)));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every line of a batch larger than the kernel\'s input area was', () => {
    const lines: Buffer[] = [];
    for (let i = 0; i < 400; i++) lines.push(Buffer.from(`${at(i)} 1vX000-000000-Ab <= spam@bad.example H=(pc) [203.0.113.${i % 50}]:587 A=dovecot_login:spam@bad.example T="${'y'.repeat(i * 13)}" for r${i}@far.test`));
    const want = new ActivityCollector(['spam@bad.example'], ['spam@bad.example']);
    for (const l of lines) want.mainlogLine(l.toString('utf8'));
    const got = new ActivityCollector(['spam@bad.example'], ['spam@bad.example']);
    const feeder = new MainlogLineFeeder(got);
    for (const l of lines) feeder.add(l, 0, l.length);
    feeder.flush();
    expect(plain(got.finish(2026))).toEqual(plain(want.finish(2026)));
    expect(got.facts.auth.get('spam@bad.example')?.total).toBe(400);
  });
});
