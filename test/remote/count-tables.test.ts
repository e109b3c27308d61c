// Every table, relation, counter and total the count registry declares comes back, with the same
// numbers, from the local scanner's partial, the perl target counter's output and the native
// target counter's output: a counter added to the registry cannot be lost by one of them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { RELATIONS, TABLES, TOTALS, type TableSpec, type TotalSpec } from '../../src/parsers/count-registry.js';
import { MainlogScanner, type ScanLimits, type ScanPartial } from '../../src/parsers/mainlog-scan.js';
import { CountTablesError, countLimits, readCountTables } from '../../src/remote/count-tables.js';
import { MAINLOG_COUNT_PERL } from '../../src/remote/mainlog-count.pl.js';
import { nativeCounter } from '../../src/remote/native-count.js';

const tables: readonly TableSpec[] = TABLES;
const totals: readonly TotalSpec[] = TOTALS;

const dir = mkdtempSync(join(tmpdir(), 'runbook-registry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FROM = '2026-11-22 10:00:00';
/**
 * A log that gives every table, relation, counter and total something: the first line is in the
 * window and a later one before it (counted outside), more cwd paths than keys are kept
 * (dropped), and more messages than are remembered (forgotten).
 */
const LOG = [
  '2026-11-22 10:00:01 cwd=/home/shop/public_html 3 args: /usr/sbin/sendmail -t -i',
  '2026-11-22 10:00:01 1aaaaa-000000-AA <= promo@shop.test U=shop P=local S=900 T="Offer" for a@victim.test b@victim.test',
  '2026-11-22 10:00:02 1aaaaa-000000-AA == a@victim.test R=dnslookup T=remote_smtp defer (-44)',
  '2026-11-22 10:00:02 1aaaaa-000000-AA == A@VICTIM.test R=dnslookup T=remote_smtp defer (-44)',
  '2026-11-22 10:00:02 1aaaaa-000000-AA ** b@victim.test R=dnslookup T=remote_smtp: 550 no such user',
  '2026-11-21 09:00:00 1zzzzz-000000-ZZ <= early@shop.test U=shop P=local T="Old" for x@y.test',
  '2026-11-22 10:00:03 1bbbbb-000000-BB <= box@client.test H=(pc) [203.0.113.9]:587 P=esmtpa A=dovecot_login:box@client.test T="Hi" for c@far.test d@far.test',
  '2026-11-22 10:00:03 1bbbbb-000000-BB == c@far.test R=dnslookup T=remote_smtp defer (-44)',
  '2026-11-22 10:00:03 1bbbbb-000000-BB ** d@far.test R=dnslookup T=remote_smtp: 550 rejected',
  '2026-11-22 10:00:04 1ccccc-000000-CC <= other@client.test H=(pc) [198.51.100.7]:587 P=esmtpa A=dovecot_plain:box@client.test T="Hi" for e@far.test',
  '2026-11-22 10:00:04 1ccccc-000000-CC ** e@far.test R=dnslookup T=remote_smtp: 550 rejected',
  '2026-11-22 10:00:05 1ddddd-000000-DD <= in@remote.test H=mx.remote.test [192.0.2.1]:25 P=esmtp for local@here.test',
  '2026-11-22 10:00:05 1eeeee-000000-EE <= <> U=root P=local T="Mail delivery failed" for someone@remote.test',
  '2026-11-22 10:00:06 1fffff-000000-FF <= anon@client.test H=(pc) [198.51.100.8]:587 P=esmtpa A=plain for f@far.test',
  '2026-11-22 10:00:07 1ggggg-000000-GG ** never@arrived.test R=x: 550',
  '2026-11-22 10:00:08 cwd=/root 2 args: /usr/sbin/exim -bpu',
  ...['a', 'b', 'c', 'd'].map((p) => `2026-11-22 10:00:09 cwd=/home/${p} 3 args: /usr/sbin/sendmail -t -i`),
  '',
].join('\n');
const LIMITS: ScanLimits = { maxKeys: 4, maxMessages: 2, limit: 1000, nestedLimit: 1000 };

/** The counter's output lines by kind: names of tables with keys, relations with pairs, totals and headers. */
function wire(text: string): { keys: Set<string>; pairs: Set<string>; totals: Map<string, number>; headers: Map<string, string> } {
  const out = { keys: new Set<string>(), pairs: new Set<string>(), totals: new Map<string, number>(), headers: new Map<string, string>() };
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    if (f[0] === 'key') out.keys.add(f[1]!);
    else if (f[0] === 'pair') out.pairs.add(f[1]!);
    else if (f[0] === 'total') out.totals.set(f[1]!, Number(f[2]));
    else if (f.length === 2) out.headers.set(f[0]!, f[1]!);
  }
  return out;
}

function expectEveryEntry(text: string, local: ScanPartial): void {
  const w = wire(text);
  expect([...w.keys].sort()).toEqual(tables.map((t) => t.name).sort());
  expect([...w.pairs].sort()).toEqual(RELATIONS.map((r) => r.name).sort());
  for (const t of totals) {
    const value = t.header === undefined ? w.totals.get(t.name) : Number(w.headers.get(t.header));
    expect({ total: t.name, value }).toEqual({ total: t.name, value: local[t.field as keyof ScanPartial] });
  }
  expect(w.totals.size).toBe(totals.filter((t) => t.header === undefined).length);
  expect(readCountTables(text).partial).toEqual(local);
}

describe('every registered table, relation, counter and total', () => {
  const file = join(dir, 'mainlog');
  writeFileSync(file, LOG);
  const scanner = new MainlogScanner(LIMITS);
  scanner.setWindow(FROM);
  scanner.feed(Buffer.from(LOG), 0, LOG.length);
  const local = scanner.partial;

  it('is counted by the local scanner', () => {
    for (const t of totals) expect({ total: t.name, value: local[t.field as keyof ScanPartial] }).toEqual({ total: t.name, value: expect.any(Number) });
    for (const t of totals) expect({ total: t.name, nonzero: (local[t.field as keyof ScanPartial] as number) > 0 }).toEqual({ total: t.name, nonzero: true });
    for (const t of tables) {
      if (t.list !== undefined) expect({ table: t.name, keys: local[t.list].size > 0 }).toEqual({ table: t.name, keys: true });
      if (t.of === undefined) continue;
      const of = tables.find((o) => o.name === t.of)!;
      const counted = [...local[of.counters!].values()].some((c) => (c[t.field as keyof typeof c] ?? 0) > 0);
      expect({ counter: t.name, counted }).toEqual({ counter: t.name, counted: true });
    }
    for (const r of RELATIONS) {
      const parent = tables.find((t) => t.name === r.parent)!;
      const children = [...local[parent.list!].values()].some((b) => (r.into === 'nested' ? b.nested : b.extra ?? new Map()).size > 0);
      expect({ relation: r.name, children }).toEqual({ relation: r.name, children: true });
    }
  });

  it('comes back from the perl counter', () => {
    const r = spawnSync('perl', ['-', file, '', FROM, countLimits(LIMITS)], { input: MAINLOG_COUNT_PERL });
    expect(r.status).toBe(0);
    expectEveryEntry(gunzipSync(r.stdout).toString('latin1'), local);
  });

  it.runIf(nativeCounter() !== null || process.env.CI)('comes back from the native counter', () => {
    const binary = fileURLToPath(new URL('../../dist/native/mainlog-count-linux-x86_64', import.meta.url));
    const r = spawnSync(binary, [file, '', FROM, countLimits(LIMITS)]);
    expect(r.status).toBe(0);
    expectEveryEntry(gunzipSync(r.stdout).toString('latin1'), local);
  });
});

describe('the decoder of the counters output', () => {
  const valid = [
    'start\t0', 'late\t0', 'before\t0', 'first\t', 'last\t',
    ...totals.filter((t) => t.header === undefined).map((t) => `total\t${t.name}\t${t.name === 'arrivals' ? 2 : 0}`),
    'key\tsenders\t0\t612e62\t2', 'key\tips\t0\t312e322e332e34\t2', 'pair\tsender_ips\t0\t0\t2',
  ];
  const read = (lines: string[]): ScanPartial => readCountTables(`${lines.join('\n')}\n`).partial;

  it('reads well-formed output', () => {
    const p = read(valid);
    expect(p.arrivals).toBe(2);
    expect(p.senders.get('a.b')).toEqual({ count: 2, nested: new Map([['1.2.3.4', 2]]) });
  });

  // A host's output is not trusted: a number that is not a count would pass through finishScan
  // as NaN or a negative and hide a sender from every threshold; a refusal says the scan failed.
  it.each([
    ['a count that is not a number', 'key\tsenders\t0\t612e62\tmany'],
    ['a negative count', 'key\tsenders\t0\t612e62\t-5'],
    ['a fractional count', 'key\tsenders\t0\t612e62\t2.5'],
    ['a key id that is not a whole number', 'key\tsenders\tx\t612e62\t2'],
    ['a negative key id', 'key\tsenders\t-1\t612e62\t2'],
    ['a key that is not hex', 'key\tsenders\t0\t61zz\t2'],
    ['a key of an odd number of hex digits', 'key\tsenders\t0\t612\t2'],
    ['a total that is not a number', 'total\tarrivals\tNaN'],
    ['a pair count that is not a number', 'pair\tsender_ips\t0\t0\tlots'],
    ['a pair parent that is not a whole number', 'pair\tsender_ips\t0x0\t0\t2'],
  ])('refuses %s', (_what, bad) => {
    const kind = bad.split('\t')[0]!;
    const lines = valid.filter((l) => !(l.startsWith(`${kind}\t`) && l.split('\t')[1] === bad.split('\t')[1]));
    expect(() => read([...lines, bad])).toThrow(CountTablesError);
  });

  it('refuses output without one of the totals the registry declares, or with one twice: both counters print every one', () => {
    expect(() => read(valid.filter((l) => l !== 'total\tarrivals\t2'))).toThrow(CountTablesError);
    expect(() => read([...valid, 'total\tarrivals\t2'])).toThrow(CountTablesError);
  });

  it('refuses one key id given twice in a table', () => {
    expect(() => read([...valid, 'key\tsenders\t0\t6f746865722e74657374\t9'])).toThrow(CountTablesError);
  });
});
