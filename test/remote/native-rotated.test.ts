// A window reaching into rotated files is counted on the host by the native counter as the perl
// rotated driver counts it (src/remote/rotated-count.pl.ts), table for table, and as a reading
// of the same files on the host itself: plain and gzip rotations, hostile lines in any order,
// the window opening inside any of the files, a rotation that breaks part-way.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanMainlogOn } from '../../src/actions/exim/detect-scan.js';
import { AuditWriter } from '../../src/audit/writer.js';
import { createActionContext } from '../../src/engine/context.js';
import { Recorder } from '../../src/engine/recorder.js';
import { CPANEL_LAYOUT, CPANEL_TOOL_PATHS } from '../../src/hosts/types.js';
import { scanMainlogWithRotation, type RotatedScanResult } from '../../src/investigate/rotated-logs.js';
import { nativeCounter } from '../../src/remote/native-count.js';
import { scanMainlogRemoteRotated } from '../../src/remote/rotated-scan.js';
import type { CounterReport, RemoteMainlogScanOptions } from '../../src/remote/scan.js';
import { LocalTransport } from '../../src/transport/local.js';
import { startSshHosts, sshAvailable, type SshTestFleet } from '../support/ssh-hosts.js';
import { anyLog, lists } from './hostile-logs.js';

const built = nativeCounter() !== null;
if (!built && process.env.CI) throw new Error('the native main-log counter is not built under CI: dist/native/mainlog-count-linux-x86_64 missing (npm run build needs wasm2c and gcc)');

const dir = mkdtempSync(join(tmpdir(), 'runbook-native-rotated-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const home = join(dir, 'home');
mkdirSync(join(home, '.cache'), { recursive: true });
const local = new LocalTransport({ env: { HOME: home } });

const TS = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/;

/** The newest timestamp of some lines: when a rotation holding them was last written. */
function newestOf(lines: Buffer[]): string | null {
  let newest: string | null = null;
  for (const l of lines) {
    const t = l.toString('latin1', 0, 19);
    if (TS.test(t) && (newest === null || t > newest)) newest = t;
  }
  return newest;
}

/** The lines of a log, each with its newline. */
function linesOf(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let s = 0;
  while (s < bytes.length) {
    const nl = bytes.indexOf(0x0a, s);
    const e = nl < 0 ? bytes.length : nl + 1;
    out.push(bytes.subarray(s, e));
    s = e;
  }
  return out;
}

let sets = 0;
/** Whether the current log of the last set made holds a timestamped line. */
let currentDated = false;

/**
 * How a gzip rotation is damaged: trailing garbage after its gzip data, or its gzip data cut
 * inside its first line (only the first `cut` of that line's bytes decompress).
 */
type Damage = { kind: 'none' } | { kind: 'garbage'; bytes: Buffer } | { kind: 'cutFirst'; cut: number };

/** The gzip file of `body`, damaged. */
function damagedGzip(body: Buffer, damage: Damage): Buffer {
  if (damage.kind === 'garbage') return Buffer.concat([gzipSync(body), damage.bytes]);
  if (damage.kind === 'cutFirst') {
    const nl = body.indexOf(0x0a);
    const first = nl < 0 ? body.length : nl;
    // Flushed, never finished: decompresses to exactly this much, then ends early.
    return gzipSync(body.subarray(0, Math.min(first, Math.floor(first * damage.cut))), { finishFlush: constants.Z_SYNC_FLUSH });
  }
  return gzipSync(body);
}

const damages: fc.Arbitrary<Damage> = fc.oneof(
  fc.constant<Damage>({ kind: 'none' }),
  // Never all zeros (padding, read as nothing).
  fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b): Damage => ({ kind: 'garbage', bytes: Buffer.concat([Buffer.from([0x4a]), Buffer.from(b)]) })),
  fc.double({ min: 0.2, max: 0.99, noNaN: true }).map((cut): Damage => ({ kind: 'cutFirst', cut })),
);

/** A rotated set cut from `bytes` at `cuts` (line numbers): dated rotations, then the current log. */
function rotatedSet(bytes: Buffer, cuts: number[], gzip: boolean[], damage: Damage[] = []): string {
  const set = join(dir, `set${sets++}`);
  mkdirSync(set);
  const lines = linesOf(bytes);
  const bounds = [0, ...[...new Set(cuts.map((c) => c % (lines.length + 1)))].sort((a, b) => a - b), lines.length];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const part = lines.slice(bounds[i], bounds[i + 1]);
    const current = i + 2 === bounds.length;
    const name = current ? 'exim_mainlog' : `exim_mainlog-202611${String(10 + i).padStart(2, '0')}${gzip[i] ? '.gz' : ''}`;
    const body = Buffer.concat(part);
    if (current) currentDated = newestOf(part) !== null;
    writeFileSync(join(set, name), gzip[i] && !current ? damagedGzip(body, damage[i] ?? { kind: 'none' }) : body);
    // Last written when its newest line was, as on a host.
    const when = new Date((newestOf(part) ?? '2026-11-01 00:00:00').replace(' ', 'T'));
    utimesSync(join(set, name), when, when);
  }
  return join(set, 'exim_mainlog');
}

function counted(counter: 'perl' | 'native', options: RemoteMainlogScanOptions): { options: RemoteMainlogScanOptions; reports: CounterReport[] } {
  const reports: CounterReport[] = [];
  return { options: { ...options, counter, onCounter: (r) => reports.push(r) }, reports };
}

/** Unreadable rotations by name: the counters and node word their errors differently. */
function sameShape(r: RotatedScanResult): unknown {
  const { unreadable_files, ...rest } = r;
  return { ...rest, unreadable: (unreadable_files ?? []).map((u) => u.file).sort() };
}

/** The same lines in time order (a line without a timestamp stays after the one before it). */
function inTimeOrder(bytes: Buffer): Buffer {
  let key = '';
  const keyed = linesOf(bytes).map((line, i) => {
    const t = line.toString('latin1', 0, 19);
    if (TS.test(t)) key = t;
    return { line, key, i };
  });
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.i - b.i));
  return Buffer.concat(keyed.map((k) => (k.line.at(-1) === 0x0a ? k.line : Buffer.concat([k.line, Buffer.from('\n')]))));
}

const windows = fc.constantFrom('2026-11-22 10:00:30', '2026-11-22 10:01:00', '2026-11-22 09:00:00', '30s', '2m', '1h');

describe.runIf(built || process.env.CI)('the native counter on a rotated set', () => {
  it('counts as perl does, for any lines in any order, cut anywhere, gzip or plain, any window and list lengths', async () => {
    let native = 0;
    let rotations = 0;
    await fc.assert(
      fc.asyncProperty(anyLog, fc.array(fc.nat(), { maxLength: 4 }), fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), windows, lists, async (bytes, cuts, gzip, since, limits) => {
        const current = rotatedSet(bytes, cuts, gzip);
        const byNative = counted('native', { since, ...limits });
        const n = await scanMainlogRemoteRotated(local, current, byNative.options);
        expect(n).toEqual(await scanMainlogRemoteRotated(local, current, { since, ...limits, counter: 'perl' }));
        // Every count on the host was the native counter's, uploaded and removed.
        for (const r of byNative.reports) expect(r).toEqual({ counter: 'native', native: expect.objectContaining({ removed: true }) });
        native += byNative.reports.length;
        if (n.files.length > 1) rotations++;
      }),
      { numRuns: 80 },
    );
    // The rotated driver ran, and windows did reach into rotations.
    expect(native).toBeGreaterThan(0);
    expect(rotations).toBeGreaterThan(0);
    // Room for shrinking a failure to its smallest case.
  }, 300_000);

  it('counts as perl does and as the host itself reads, for hostile lines in time order, cut anywhere', async () => {
    let native = 0;
    let rotations = 0;
    await fc.assert(
      fc.asyncProperty(
        anyLog,
        fc.array(fc.nat(), { maxLength: 4 }),
        fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
        windows,
        lists,
        async (bytes, cuts, gzip, since, limits) => {
          const current = rotatedSet(inTimeOrder(bytes), cuts, gzip);
          const byNative = counted('native', { since, ...limits });
          const byPerl = counted('perl', { since, ...limits });
          const n = await scanMainlogRemoteRotated(local, current, byNative.options);
          const p = await scanMainlogRemoteRotated(local, current, byPerl.options);
          expect(n).toEqual(p);
          // A current log without any timestamp is placed before its rotations by the host's
          // reading (it cannot be placed in time) and after them by the counters: not compared.
          if (currentDated) expect(sameShape(n)).toEqual(sameShape(await scanMainlogWithRotation(current, { since, ...limits })));
          // Every count on the host was the native counter's, uploaded and removed.
          for (const r of byNative.reports) expect(r).toEqual({ counter: 'native', native: expect.objectContaining({ removed: true }) });
          native += byNative.reports.length;
          if (n.files.length > 1) rotations++;
        },
      ),
      { numRuns: 80 },
    );
    // The rotated driver ran, and windows did reach into rotations.
    expect(native).toBeGreaterThan(0);
    expect(rotations).toBeGreaterThan(0);
    // Room for shrinking a failure to its smallest case.
  }, 300_000);
});

describe.runIf(built || process.env.CI)('the native counter, perl and the host on damaged gzip rotations', () => {
  it('agree on gzip rotations with trailing garbage (read, the garbage left out and said) or cut inside their first line (unreadable)', async () => {
    let garbage = 0;
    let cutFirst = 0;
    await fc.assert(
      fc.asyncProperty(
        anyLog,
        fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
        fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
        fc.array(damages, { minLength: 5, maxLength: 5 }),
        windows,
        async (bytes, cuts, gzip, damage, since) => {
          const current = rotatedSet(inTimeOrder(bytes), cuts, gzip, damage);
          const n = await scanMainlogRemoteRotated(local, current, { since, counter: 'native' });
          const p = await scanMainlogRemoteRotated(local, current, { since, counter: 'perl' });
          // Unreadable files by name: zlib's words differ between the readers' wrappers.
          expect(sameShape(n)).toEqual(sameShape(p));
          if (currentDated) expect(sameShape(n)).toEqual(sameShape(await scanMainlogWithRotation(current, { since })));
          for (const l of n.left_out) if (/trailing garbage/.test(l.reason)) garbage++;
          for (const u of n.unreadable_files ?? []) if (/unexpected end of file/.test(u.error)) cutFirst++;
        },
      ),
      { numRuns: 80 },
    );
    // Both damages were met, and read as said.
    expect(garbage).toBeGreaterThan(0);
    expect(cutFirst).toBeGreaterThan(0);
  }, 300_000);
});

describe.runIf(built || process.env.CI)('the native counter on a rotated set that breaks', () => {
  const day = (date: string, n: number, tag: string): string[] =>
    Array.from({ length: n }, (_, i) => `${date} ${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00 cwd=/home/${tag}/public_html 3 args: /usr/sbin/sendmail -t -i`);
  const text = (lines: string[]): string => (lines.length === 0 ? '' : `${lines.join('\n')}\n`);
  const broken = (current: string[]): string => {
    const set = join(dir, `broken${sets++}`);
    mkdirSync(set);
    const big = gzipSync(Buffer.from(text(day('2026-11-20', 1440, 'old'))));
    writeFileSync(join(set, 'exim_mainlog'), text(current));
    writeFileSync(join(set, 'exim_mainlog.1'), text(day('2026-11-22', 300, 'new')));
    writeFileSync(join(set, 'exim_mainlog.2.gz'), gzipSync(Buffer.from(text(day('2026-11-21', 1440, 'mid')))));
    // Its head decompresses, its end is cut off: found only while counting.
    writeFileSync(join(set, 'exim_mainlog.3.gz'), big.subarray(0, big.length - 100));
    mkdirSync(join(set, 'exim_mainlog.4.gz'));
    // Each last written when its newest line was, as on a host.
    for (const [name, when] of [['exim_mainlog.1', '2026-11-22T04:59:00'], ['exim_mainlog.2.gz', '2026-11-21T23:59:00'], ['exim_mainlog.3.gz', '2026-11-20T23:59:00'], ['exim_mainlog.4.gz', '2026-11-19T00:00:00']] as const) {
      utimesSync(join(set, name), new Date(when), new Date(when));
    }
    return join(set, 'exim_mainlog');
  };

  it('leaves out what perl leaves out, and reads the rest, with the native counter', async () => {
    for (const current of [broken([]), broken(day('2026-11-23', 10, 'now'))]) {
      for (const since of ['2h', '30h', '60h']) {
        const byNative = counted('native', { since });
        const n = await scanMainlogRemoteRotated(local, current, byNative.options);
        expect(sameShape(n)).toEqual(sameShape(await scanMainlogRemoteRotated(local, current, { since, counter: 'perl' })));
        expect(sameShape(n)).toEqual(sameShape(await scanMainlogWithRotation(current, { since })));
        for (const r of byNative.reports) expect(r.counter).toBe('native');
      }
    }
    const r = await scanMainlogRemoteRotated(local, broken([]), { since: '60h', counter: 'native' });
    expect(r.files.map((f) => f.slice(f.lastIndexOf('/') + 1))).toEqual(['exim_mainlog.2.gz', 'exim_mainlog.1', 'exim_mainlog']);
    expect(r.unreadable_files?.find((u) => u.file.endsWith('.3.gz'))?.error).toMatch(/exim_mainlog\.3\.gz: corrupt or truncated gzip data/);
    expect(r.unreadable_files?.find((u) => u.file.endsWith('.4.gz'))?.error).toMatch(/exim_mainlog\.4\.gz: is a directory/);
  });

  it('reads no rotation past those whose last write is in the window when the window opens in the current log', async () => {
    // The window opens in the current log; the newest rotation was last written inside it but
    // holds no line (or cannot be read), the one before it ends before the window.
    for (const newest of ['empty', 'directory'] as const) {
      const set = join(dir, `reach${sets++}`);
      mkdirSync(set);
      writeFileSync(join(set, 'exim_mainlog'), text(day('2026-11-22', 60, 'now')));
      if (newest === 'empty') writeFileSync(join(set, 'exim_mainlog-20261122'), '');
      else mkdirSync(join(set, 'exim_mainlog-20261122'));
      writeFileSync(join(set, 'exim_mainlog-20261121.gz'), gzipSync(Buffer.from(text(day('2026-11-21', 1440, 'old')))));
      utimesSync(join(set, 'exim_mainlog-20261122'), new Date('2026-11-22T00:50:00'), new Date('2026-11-22T00:50:00'));
      utimesSync(join(set, 'exim_mainlog-20261121.gz'), new Date('2026-11-21T23:59:00'), new Date('2026-11-21T23:59:00'));
      const current = join(set, 'exim_mainlog');
      const host = await scanMainlogWithRotation(current, { since: '30m' });
      expect(host.files).toEqual([current]);
      const n = await scanMainlogRemoteRotated(local, current, { since: '30m', counter: 'native' });
      expect(n).toEqual(await scanMainlogRemoteRotated(local, current, { since: '30m', counter: 'perl' }));
      // The counters and node word a read error differently: the rest is the same.
      const read = (r: RotatedScanResult): unknown => ({ files: r.files, window: r.window, totals: r.totals, left_out: r.left_out.map((l) => [l.file, l.bytes]) });
      expect(read(n)).toEqual(read(host));
    }
  });

  it('counts with perl, and says why, when the native counter cannot run', async () => {
    const current = broken(day('2026-11-23', 10, 'now'));
    // What arrives is another program: it must never run.
    const other = gzipSync(Buffer.from('not the counter'));
    const swapped = { ...local, kind: local.kind, host: local.host, exec: (argv: readonly string[], options: Parameters<LocalTransport['exec']>[1] = {}) => local.exec(argv, argv[0] === 'sh' ? { ...options, stdin: other } : options), close: () => local.close() };
    const { options, reports } = counted('native', { since: '30h' });
    await expect(scanMainlogRemoteRotated(swapped, current, options)).rejects.toThrow(/checksum mismatch/);
    const auto = counted('native', { since: '30h' });
    const r = await scanMainlogRemoteRotated(swapped, current, { ...auto.options, counter: 'auto' });
    expect(sameShape(r)).toEqual(sameShape(await scanMainlogRemoteRotated(local, current, { since: '30h', counter: 'perl' })));
    expect(reports).toEqual([]);
    // One try of the native counter, then perl for every count of the run.
    expect(auto.reports[0]).toMatchObject({ counter: 'perl', fallback: expect.stringMatching(/^checksum mismatch on the host/), native: { removed: true } });
    expect(auto.reports.slice(1).every((x) => x.counter === 'perl' && x.native === undefined)).toBe(true);
  });
});

describe.runIf((built && sshAvailable) || process.env.CI)('the native counter on a rotated set over SSH', () => {
  let fleet: SshTestFleet;
  const arrivals = (date: string, n: number): string[] =>
    Array.from({ length: n }, (_, i) => `${date} ${String(Math.floor(i / 60) % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00 1xV5FE-${String(i).padStart(6, '0')}-00 <= news@shop.test U=shop P=local S=900 T="Offer" for a@b.test`);
  const lines = (l: string[]): string => `${l.join('\n')}\n`;
  beforeAll(async () => {
    fleet = await startSshHosts(1, { namePrefix: 'natrot' });
    const logs = join(fleet.hosts[0]!.root, 'var/log/exim4');
    writeFileSync(join(logs, 'mainlog'), lines(arrivals('2026-11-22', 120)));
    writeFileSync(join(logs, 'mainlog-20261122.gz'), gzipSync(lines(arrivals('2026-11-21', 1440))));
    utimesSync(join(logs, 'mainlog-20261122.gz'), new Date('2026-11-21T23:59:00'), new Date('2026-11-21T23:59:00'));
  });
  afterAll(async () => {
    await fleet?.stop();
  });

  it('counts the rotation on the host with the uploaded counter, and the audit log records it as for one file', async () => {
    const host = fleet.hosts[0]!;
    const transport = fleet.transport(host);
    const auditPath = join(dir, 'audit-rotated.jsonl');
    const writer = AuditWriter.create(auditPath);
    try {
      const ctx = createActionContext({
        target: { name: host.name, transport, tools: CPANEL_TOOL_PATHS, layout: CPANEL_LAYOUT, vars: {} },
        step: 'scan', recorder: new Recorder(writer), observer: () => {}, signal: new AbortController().signal, dryRun: false, mutating: false, deliverSecret: async () => '',
      });
      const r = await scanMainlogOn(ctx, '/var/log/exim4/mainlog', { since: '12h' });
      expect((r as RotatedScanResult).files).toEqual(['/var/log/exim4/mainlog-20261122.gz', '/var/log/exim4/mainlog']);
      expect(r.window.from).toBe('2026-11-21 13:59:00');
      expect(r.totals.arrivals).toBe(601 + 120);
    } finally {
      writer.close();
      await transport.close();
    }
    const records = readFileSync(auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const counter = nativeCounter()!;
    expect(records.find((r) => r.type === 'note' && (r.data as { counter?: string } | undefined)?.counter === 'native')).toMatchObject({
      message: 'main log counted on the host by the native counter uploaded for this run (removed afterwards)',
      data: { file: '/var/log/exim4/mainlog', upload: { sha256: counter.sha256, size: counter.size, removed: true } },
    });
    const run = records.find((r) => r.type === 'command.result' && (r.argv as string[])[0] === 'sh');
    expect((run!.argv as string[]).slice(6, 7)).toEqual(['--rotated']);
    // No perl counted the window.
    expect(records.some((r) => r.type === 'command.result' && (r.argv as string[])[0] === 'perl' && (r.argv as string[])[2] === 'scan')).toBe(false);
    // Nothing is left on the host (its /root is this directory).
    for (const d of [join(host.root, 'root'), join(host.root, 'root', '.cache')].filter((x) => existsSync(x))) {
      expect(readdirSync(d).filter((n) => n.startsWith('runbook-count-'))).toEqual([]);
    }
  });
});
