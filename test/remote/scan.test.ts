import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanMainlogFile } from '../../src/investigate/mainlog-file.js';
import { nativeCounter } from '../../src/remote/native-count.js';
import { scanMainlogRemote, type RemoteTransfer } from '../../src/remote/scan.js';
import { LocalTransport } from '../../src/transport/local.js';
import { startSshHosts, sshAvailable, type SshTestFleet } from '../support/ssh-hosts.js';

const dir = mkdtempSync(join(tmpdir(), 'runbook-rscan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A small log with the awkward cases: hostile subjects, no-timestamp lines, bad UTF-8, no final newline. */
function hostileLog(): Buffer {
  const lines: Array<string | Buffer> = [];
  const t = (m: number, s: number) => `2026-11-22 ${String(9 + Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  lines.push('not a timestamped line <= with the needle');
  for (let m = 0; m < 180; m++) {
    for (let s = 0; s < 60; s += 20) {
      const id = `1vX${String(m).padStart(3, '0')}-000${String(s).padStart(3, '0')}${String(m).padStart(5, '0')}-Ab`;
      lines.push(`${t(m, s)} [${1000 + m}] cwd=/home/shop${m % 3}/public_html/wp-content/x.php 3 args: /usr/sbin/sendmail -t -i`);
      lines.push(`${t(m, s)} ${id} <= promo${m % 4}@shop${m % 3}.example U=shop${m % 3} P=local S=900 T="Cheap \\"pills\\" <= now $(id) \`x\`" for a${s}@victim.example`);
      lines.push(`${t(m, s)} ${id} => a${s}@victim.example R=dkim_lookuphost T=dkim_remote_smtp H=mx.victim.example [203.0.113.${m % 250}]`);
      lines.push(`${t(m, s)} ${id}x <= box${m % 5}@client.example H=(ylmf-pc) [198.51.100.${s}]:5${m % 9}000 I=[192.0.2.1]:587 P=esmtpa A=dovecot_login:box${m % 5}@client.example S=2000 T="Invoice ${m % 7}" for z@far.example`);
      lines.push(`${t(m, s)} ${id}y <= <> R=1vX000-000000-00 U=mailnull P=local S=1500 T="Mail delivery failed" for promo@shop.example`);
      lines.push(`${t(m, s)} ${id}z <= someone@remote.example H=mail.remote.example [192.0.2.77] P=esmtps S=3000 T="inbound" for user@shop0.example`);
      lines.push(`${t(m, s)} cwd=/root 4 args: exim -Mrm ${id}`);
      lines.push(`${t(m, s)} ${id} Completed`);
    }
    if (m % 30 === 0) lines.push(Buffer.from([0x32, 0x30, 0x32, 0x36, 0xff, 0xfe, 0x3c, 0x3d, 0x20, 0xc3, 0x0a].slice(0, 10)));
    if (m % 45 === 0) lines.push(Buffer.concat([Buffer.from(`${t(m, 59)} 1vZ${String(m).padStart(3, '0')}-000000000000-Zz <= bad\xff@x.example U=u P=local T="`, 'latin1'), Buffer.from([0xe2, 0x82]), Buffer.from('Ünï" for q@x.example')]));
  }
  const parts = lines.map((l) => (typeof l === 'string' ? Buffer.from(l, 'utf8') : l));
  const body = Buffer.concat(parts.flatMap((p) => [p, Buffer.from('\n')]));
  return Buffer.concat([body, Buffer.from(`${t(179, 59)} 1vQ999-000000000000-Qq <= last@shop0.example U=shop0 P=local T="no newline at end" for x@y.example`)]);
}

const hostilePath = join(dir, 'hostile_mainlog');
writeFileSync(hostilePath, hostileLog());
const realisticPath = join(dir, 'realistic_mainlog');
const gen = spawnSync(process.execPath, ['bench/mainlog/generate.mjs', realisticPath, '4'], { encoding: 'utf8' });
if (gen.status !== 0) throw new Error(`log generator failed: ${gen.stderr}`);
const emptyPath = join(dir, 'empty_mainlog');
writeFileSync(emptyPath, '');
// Merged by hand: yesterday's burst, last month's log, today's lines; and a log ending in
// lines without a timestamp, with none to count a window back from.
const arrivalsOn = (day: string, n: number, who: string): string[] =>
  Array.from({ length: n }, (_, k) => `${day} 10:${String(Math.floor(k / 60) % 60).padStart(2, '0')}:${String(k % 60).padStart(2, '0')} 1vX000-0000000000${String(k % 10)}-AbCd <= ${who}@shop.example U=shop P=local S=900 T="x" for a@b.example`);
const mergedPath = join(dir, 'merged_mainlog');
writeFileSync(mergedPath, `${[...arrivalsOn('2026-11-21', 80, 'burst'), ...arrivalsOn('2026-10-01', 3000, 'old'), ...arrivalsOn('2026-11-22', 40, 'today')].join('\n')}\n`);
const untimedTailPath = join(dir, 'untimed_tail_mainlog');
writeFileSync(untimedTailPath, `${arrivalsOn('2026-11-22', 5, 'x').join('\n')}\n${'continued\n'.repeat(2 * 1024 * 1024)}`);

const cases: Array<[string, string, string | null]> = [
  ['hostile log, whole file', hostilePath, null],
  ['hostile log, 90m window', hostilePath, '90m'],
  ['hostile log, absolute since', hostilePath, '2026-11-22 10:30'],
  ['hostile log, window past the end', hostilePath, '2026-11-23 00:00'],
  ['generated log, whole file', realisticPath, null],
  ['generated log, 6h window', realisticPath, '6h'],
  ['empty log, 1h window', emptyPath, '1h'],
  ['log out of time order, 2d window', mergedPath, '2d'],
  ['log out of time order, absolute since', mergedPath, '2026-11-21 10:00:30'],
  ['log without a timestamp in its last 16 MiB, 1h window', untimedTailPath, '1h'],
];

describe('remote main-log scan = local scan', () => {
  const local = new LocalTransport();
  // The native counter where it is built (always under CI: test/remote/native-count.test.ts).
  const counters = nativeCounter() !== null || process.env.CI ? (['perl', 'native'] as const) : (['perl'] as const);
  for (const [name, path, since] of cases) for (const counter of counters) {
    it(`${name} (${counter} on the host, same result)`, async () => {
      const expected = await scanMainlogFile(path, { since });
      let transfer: RemoteTransfer | undefined;
      const actual = await scanMainlogRemote(local, path, { since, counter, onTransfer: (t) => (transfer = t) });
      expect(actual).toEqual(expected);
      expect(transfer!.bytesScanned).toBe(expected.window.bytes_scanned);
    });
  }

  it('reads a log out of time order, and says what it could not read', async () => {
    const merged = await scanMainlogRemote(local, mergedPath, { since: '2d' });
    expect(merged.totals.arrivals).toBe(120);
    expect(merged.window.lines_out_of_order).toBe(80);
    expect(merged.window.lines_before_window).toBe(3000);
    const untimed = await scanMainlogRemote(local, untimedTailPath, { since: '1h' });
    expect(untimed.left_out).toHaveLength(1);
    expect(untimed.left_out[0]!.reason).toMatch(/no line with a timestamp/);
  });

  it('a missing log is a clear error', async () => {
    await expect(scanMainlogRemote(local, join(dir, 'nope'), {})).rejects.toThrow(/cannot open .*nope/);
  });
});

describe.runIf(sshAvailable || process.env.CI)('remote main-log scan over SSH', () => {
  let fleet: SshTestFleet;
  beforeAll(async () => {
    fleet = await startSshHosts(1, {
      namePrefix: 'scan',
      prepare: async ({ root }) => {
        mkdirSync(join(root, 'var/log/exim4'), { recursive: true });
        copyFileSync(realisticPath, join(root, 'var/log/exim4/mainlog'));
      },
    });
  });
  afterAll(async () => {
    await fleet?.stop();
  });

  it('gives the local result while moving a fraction of the log', async () => {
    const t = fleet.transport(fleet.hosts[0]!);
    try {
      const expected = await scanMainlogFile(realisticPath, { since: '6h' });
      let transfer: RemoteTransfer | undefined;
      const before = t.stats().bytesIn;
      const actual = await scanMainlogRemote(t, '/var/log/exim4/mainlog', { since: '6h', onTransfer: (x) => (transfer = x) });
      expect({ ...actual, file: null }).toEqual({ ...expected, file: null });
      expect(actual.file).toBe('/var/log/exim4/mainlog');
      const wire = t.stats().bytesIn - before;
      // What crossed the network is a small part of the window scanned on the host.
      expect(transfer!.bytesReceived).toBeLessThan(transfer!.bytesScanned / 5);
      expect(wire).toBeLessThan(transfer!.bytesScanned / 4);
      console.log(`remote scan: window ${transfer!.bytesScanned} B, selected ${transfer!.bytesSelected} B, received ${transfer!.bytesReceived} B (wire ${wire} B)`);
    } finally {
      await t.close();
    }
  });
});
