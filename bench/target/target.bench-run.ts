/**
 * The target's cost of `runbook investigate --host`: CPU seconds spent on the host and bytes on
 * the wire, for a main log of BENCH_TARGET_MB (default 1024) read whole (`--since 30d`, the log
 * spans 7.5 days) and for the default 24 h window, side by side with the floor anyone would
 * write: `grep -F '<= ' LOG | gzip -1` over one OpenSSH session.
 *
 * The host is one loopback sshd in its own mount namespace (test/support/ssh-hosts.ts) on a
 * simulated cPanel root with Debian's real exim and a staged incident (bench/fleet/sim-fleet.ts);
 * its main log is replaced by a generated one (bench/mainlog/generate.mjs) that ends just before the run.
 *
 * Target CPU: the sshd listener waits for each connection's process, which waits for the
 * session's commands, so the listener's cutime + cstime (/proc/PID/stat) grows by everything a
 * connection ran on the host: sshd's own session process (crypto), shells, perl, exim, grep,
 * gzip. Read before and after each run, with no other connection to that sshd in between.
 * Bytes: both directions of the TCP connection(s) to the host's port, counted in the runbook
 * process by bench/fleet/count-bytes.mjs; for the floor, ssh -v's `Transferred:` line.
 *
 * The history step (the flagged ids' arrivals over the whole main log, whatever the window) is
 * measured alone too, as runbook sent it in the whole-log run, beside the grep it replaced; and
 * the counting alone, by perl and by the native counter, of the main log and of a rotated set
 * (a 24 h window reaching 12 h into a daily gzip rotation).
 *
 * It measures whatever the built CLI does, so rerun it after a change to the evidence path:
 *   npm run build && node bench/target/run.mjs        (BENCH_ROUNDS=3, BENCH_TARGET_MB=1024, BENCH_WARMUP=1)
 * The 24 h window is then the last 24 h of that log (about 134 MiB of it for 1 GiB).
 * Results in bench/out/target.json.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, closeSync, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { IncidentManifest } from '../../fixtures/generator/incident.mjs';
import { startSshHosts, type SshTestFleet } from '../../test/support/ssh-hosts.js';
import { prepareCpanelRoot } from '../fleet/sim-fleet.js';
import { nativeCounter } from '../../src/remote/native-count.js';
import { scanMainlogRemoteRotated } from '../../src/remote/rotated-scan.js';
import { scanMainlogRemote, type CounterReport } from '../../src/remote/scan.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** BENCH_WARMUP=0: no unmeasured run first (a run costs a minute while the host ships its log). */
const WARMUP = process.env.BENCH_WARMUP !== '0';
const SIZE_MB = Number(process.env.BENCH_TARGET_MB ?? 1024);
/** What bench/mainlog/generate.mjs writes per day of log (1 GiB spans 7.6 days). */
const MIB_PER_DAY = 134.5;
const repo = join(import.meta.dirname, '..', '..');
const countBytes = join(repo, 'bench', 'fleet', 'count-bytes.mjs');

let fleet: SshTestFleet;
let manifest: IncidentManifest;
let base: string;

beforeAll(async () => {
  expect(existsSync(join(repo, 'dist/cli/main.js')), 'build first: npm run build').toBe(true);
  base = mkdtempSync(join(tmpdir(), 'runbook-target-bench-'));
  mkdirSync(join(base, 'home'));
  const { HISTORY_FILTER_PERL } = await import('../../src/remote/history-filter.pl.js');
  writeFileSync(join(base, 'history-filter.pl'), HISTORY_FILTER_PERL);
  fleet = await startSshHosts(1, {
    namePrefix: 'target',
    prepare: async ({ root }) => {
      manifest = await prepareCpanelRoot(root, 1000);
      // The host's main log is a generated one (bench/mainlog/generate.mjs) ending ten minutes
      // ago: on a host --since counts back from the host's clock. Owned as the staged one was,
      // since exim opens it as its own user.
      const owner = statSync(manifest.mainlog);
      const start = new Date(Date.now() - 600_000 - (SIZE_MB / MIB_PER_DAY) * 86_400_000).toISOString();
      const r = spawnSync(process.execPath, [join(repo, 'bench/mainlog/generate.mjs'), manifest.mainlog, String(SIZE_MB), start], { stdio: ['ignore', 'inherit', 'inherit'] });
      expect(r.status).toBe(0);
      chownSync(manifest.mainlog, owner.uid, owner.gid);
      rotatedSet();
    },
  });
});
afterAll(async () => {
  await fleet?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
});

/** The rotated set: beside the main log, its last 12 h and the day before them gzipped as a daily rotation. */
let rotatedLog: string;

/** The offset of the line starting at or after `at` in the file open at `fd`. */
function lineAt(fd: number, at: number): number {
  const buf = Buffer.alloc(64 * 1024);
  const n = readSync(fd, buf, 0, buf.length, at);
  const nl = buf.subarray(0, n).indexOf(0x0a);
  return nl < 0 ? at + n : at + nl + 1;
}

/**
 * A 24 h window reaching into a rotation (issue 13): the current log holds the last 12 h of the
 * generated one, and `…-YYYYMMDD.gz` the 24 h before them, last written when its newest line was.
 */
function rotatedSet(): void {
  const perHour = (MIB_PER_DAY * 1048576) / 24;
  const fd = openSync(manifest.mainlog, 'r');
  try {
    const size = fstatSync(fd).size;
    const tail = lineAt(fd, Math.max(0, size - 12 * perHour));
    const head = lineAt(fd, Math.max(0, size - 36 * perHour));
    const older = Buffer.alloc(tail - head);
    readSync(fd, older, 0, older.length, head);
    const current = Buffer.alloc(size - tail);
    readSync(fd, current, 0, current.length, tail);
    rotatedLog = join(dirname(manifest.mainlog), 'rotbench_mainlog');
    const rotation = `${rotatedLog}-${new Date(Date.now() - 12 * 3600_000).toISOString().slice(0, 10).replace(/-/g, '')}.gz`;
    writeFileSync(rotation, gzipSync(older, { level: 6 }));
    writeFileSync(rotatedLog, current);
    const newest = older.toString('latin1', older.lastIndexOf(0x0a, older.length - 2) + 1).slice(0, 19);
    const when = new Date(newest.replace(' ', 'T'));
    utimesSync(rotation, when, when);
  } finally {
    closeSync(fd);
  }
}

/**
 * The listener's connection processes have ended and been reaped: the ssh client may return
 * before sshd has collected its session, whose CPU would then be missed (seen as 0).
 */
function connectionsReaped(): void {
  const pid = readFileSync(join(fleet.dir, fleet.hosts[0]!.name, 'sshd.pid'), 'utf8').trim();
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 6000 && readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim() !== ''; i++) Atomics.wait(pause, 0, 0, 5);
}

/** cutime + cstime of the host's sshd listener, seconds: the CPU of every finished connection. */
function targetCpuS(): number {
  connectionsReaped();
  const pid = readFileSync(join(fleet.dir, fleet.hosts[0]!.name, 'sshd.pid'), 'utf8').trim();
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  // After the ") ": field 3 of stat is index 0, so cutime (16) is 13 and cstime (17) is 14.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

interface Measured {
  wallS: number;
  controlCpuS: number;
  controlRssMb: number;
  targetCpuS: number;
  bytes: number;
  status: number | null;
  stdout: string;
  stderr: string;
}

function measure(argv: string[], env: Record<string, string>, bytesOf: (stderr: string) => number): Measured {
  const before = targetCpuS();
  const started = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'BENCH_TIME %U %S %M', ...argv], { cwd: repo, env: { ...process.env, ...env }, maxBuffer: 1 << 30 });
  const wallS = (performance.now() - started) / 1000;
  const stderr = r.stderr.toString();
  const [, user, sys, rss] = (stderr.split('\n').reverse().find((l) => l.startsWith('BENCH_TIME')) ?? '').split(' ');
  return { wallS, controlCpuS: Number(user) + Number(sys), controlRssMb: Number(rss) / 1024, targetCpuS: targetCpuS() - before, bytes: bytesOf(stderr), status: r.status, stdout: r.stdout.toString(), stderr };
}

function inventory(): string {
  const host = fleet.hosts[0]!;
  const file = join(base, 'inventory.yml');
  writeFileSync(
    file,
    JSON.stringify({
      hosts: { [host.name]: { ssh_host: '127.0.0.1', port: host.port, user: 'root', identity_file: fleet.clientKey, tools: manifest.tools, layout: manifest.layout, vars: { allow_documentation_ips: true } } },
    }),
  );
  return file;
}

function runbook(extra: string[], tag: string): Measured & { sources: string; commands: string[] } {
  const bytesFile = join(base, `bytes-${tag}.json`);
  const m = measure(
    [process.execPath, '--import', countBytes, 'dist/cli/main.js', 'investigate', '-i', inventory(), ...extra, '--json', '--known-hosts', fleet.knownHostsFile, '--audit-dir', join(base, 'audit')],
    { HOME: join(base, 'home'), SSH_AUTH_SOCK: '', NO_COLOR: '1', RUNBOOK_BENCH_BYTES: bytesFile },
    () => {
      const perPort = JSON.parse(readFileSync(bytesFile, 'utf8')) as Record<string, { bytesIn: number; bytesOut: number }>;
      const b = perPort[String(fleet.hosts[0]!.port)];
      return b ? b.bytesIn + b.bytesOut : NaN;
    },
  );
  expect(m.status, `${m.stderr.slice(-2000)}\n${m.stdout.slice(Math.max(0, m.stdout.indexOf('"problems"')), 3000 + m.stdout.indexOf('"problems"'))}`).toBe(0);
  const doc = JSON.parse(m.stdout) as { auditLog: string; verdict?: { sources?: Array<{ id: string; counts?: { sent?: number } }> } };
  const sources = (doc.verdict?.sources ?? []).map((s) => `${s.id} (${s.counts?.sent ?? '?'} sent)`).join(', ');
  if (tag === 'whole') historyArgv = historyCommand(doc.auditLog);
  return { ...m, sources, commands: commandsRun(doc.auditLog) };
}

/** The argv of the run's main-log history filter (`perl - LIMIT mainlog …`). */
function historyCommand(auditLog: string): string[] | undefined {
  return readFileSync(auditLog, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; argv?: string[] })
    .find((r) => r.type === 'command.result' && r.argv?.[0] === 'perl' && r.argv[3] === 'mainlog')?.argv;
}

/** What ran on the host, from the run's audit log: the command, its output's size, its time. */
function commandsRun(auditLog: string): string[] {
  return readFileSync(auditLog, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; argv?: string[]; durationMs?: number; stdout?: { bytes: number }; stdinSha256?: string })
    .filter((r) => r.type === 'command.result')
    .map((r) => `${(r.argv ?? []).slice(0, 4).map((a) => (a.length > 40 ? `${a.slice(0, 40)}…` : a)).join(' ')}${r.stdinSha256 ? ' (script on stdin)' : ''}: ${(r.stdout?.bytes ?? 0).toLocaleString('en')} bytes out, ${((r.durationMs ?? 0) / 1000).toFixed(1)} s`);
}

/** One command on the host over one OpenSSH session, `stdin` (a file) on its stdin: its CPU there and its bytes. */
function overSsh(command: string, stdin = '/dev/null'): Measured {
  const host = fleet.hosts[0]!;
  const m = measure(
    [
      'sh', '-c', 'ssh -F /dev/null -o LogLevel=VERBOSE -o BatchMode=yes -o "UserKnownHostsFile=$1" -o StrictHostKeyChecking=yes -i "$2" -p "$3" root@127.0.0.1 "$4" < "$5" > /dev/null',
      'sh', fleet.knownHostsFile, fleet.clientKey, String(host.port), command, stdin,
    ],
    {},
    (stderr) => {
      const t = /Transferred: sent (\d+), received (\d+) bytes/.exec(stderr);
      return t ? Number(t[1]) + Number(t[2]) : NaN;
    },
  );
  expect(m.status, m.stderr.slice(-3000)).toBe(0);
  return m;
}

function floor(): Measured {
  return overSsh(`grep -F '<= ' ${manifest.mainlog} | gzip -1`);
}

const shellQuote = (a: string): string => `'${a.replace(/'/g, "'\\''")}'`;
/** The history filter's argv as the last whole-log run sent it (from its audit log). */
let historyArgv: string[] | undefined;

/** The history step alone, as runbook runs it: the filter script on stdin, the same argv. */
function historyStep(): Measured {
  expect(historyArgv, 'the whole-log run names the history filter').toBeDefined();
  const script = join(base, 'history-filter.pl');
  return overSsh(historyArgv!.map(shellQuote).join(' '), script);
}

/** The history step before the filter: `grep -F -i` of the same needles over the main log, uncompressed. */
function historyGrep(): Measured {
  expect(historyArgv, 'the whole-log run names the history filter').toBeDefined();
  // perl - LIMIT mainlog N NEEDLE×N M FILE×M
  const n = Number(historyArgv![4]);
  const needles = historyArgv!.slice(5, 5 + n);
  return overSsh(['grep', '-F', '-i', '-h', '-s', ...needles.flatMap((x) => ['-e', x]), '--', manifest.mainlog].map(shellQuote).join(' '));
}

/**
 * The counting part alone (issue 13): the main log's count tables over one SSH connection, by
 * perl or by the native counter uploaded for the run; the info question included, the history
 * pass of investigate not. Bytes are both directions of the connection (for the native counter
 * they include its upload, gzipped).
 */
async function counterAlone(counter: 'perl' | 'native', since: string | null): Promise<Measured & { sources?: string }> {
  const t = fleet.transport(fleet.hosts[0]!);
  let report: CounterReport | undefined;
  try {
    await t.connect();
    const before = targetCpuS();
    const started = performance.now();
    const cpu = process.cpuUsage();
    const r = await scanMainlogRemote(t, manifest.mainlog, { since, counter, onCounter: (c) => (report = c) });
    const wallS = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const { bytesIn, bytesOut } = t.stats();
    await t.close();
    expect(report?.counter).toBe(counter);
    return {
      wallS, controlCpuS: (used.user + used.system) / 1e6, controlRssMb: process.memoryUsage().rss / 1048576, targetCpuS: targetCpuS() - before,
      bytes: bytesIn + bytesOut, status: 0, stdout: '', stderr: '', sources: `${r.totals.arrivals} arrivals, top sender ${r.senders[0]?.sender ?? '-'}`,
    };
  } finally {
    await t.close();
  }
}

/** The counting of a 24 h window over the rotated set alone (issue 13), as counterAlone. */
async function rotatedAlone(counter: 'perl' | 'native'): Promise<Measured & { sources?: string }> {
  const t = fleet.transport(fleet.hosts[0]!);
  const reports: CounterReport[] = [];
  try {
    await t.connect();
    const before = targetCpuS();
    const started = performance.now();
    const cpu = process.cpuUsage();
    const r = await scanMainlogRemoteRotated(t, rotatedLog, { since: '24h', counter, onCounter: (c) => reports.push(c) });
    const wallS = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const { bytesIn, bytesOut } = t.stats();
    await t.close();
    expect(reports.map((x) => x.counter)).toEqual([counter]);
    expect(r.files).toHaveLength(2);
    return {
      wallS, controlCpuS: (used.user + used.system) / 1e6, controlRssMb: process.memoryUsage().rss / 1048576, targetCpuS: targetCpuS() - before,
      bytes: bytesIn + bytesOut, status: 0, stdout: '', stderr: '', sources: `${r.totals.arrivals} arrivals, top sender ${r.senders[0]?.sender ?? '-'}, window from ${r.window.from}`,
    };
  } finally {
    await t.close();
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

it("target's CPU and bytes: runbook investigate --host vs grep -F '<= ' | gzip -1", async () => {
  type Run = () => (Measured & { sources?: string; commands?: string[] }) | Promise<Measured & { sources?: string }>;
  const contenders: Array<[string, Run]> = [
    ["floor: ssh HOST \"grep -F '<= ' LOG | gzip -1\"", floor],
    ['runbook investigate --host, --since 30d (whole log)', () => runbook(['--since', '30d'], 'whole')],
    ['runbook investigate --host, default --since 24h', () => runbook([], '24h')],
    ["its history step alone: ssh HOST 'perl - …' (the filter runbook sends, arrivals holding a flagged id, gzip -1)", historyStep],
    ["the history step before it: ssh HOST 'grep -F -i -e … LOG' (same ids, every line, uncompressed)", historyGrep],
    ['counting alone, perl, whole log', () => counterAlone('perl', null)],
    ['counting alone, perl, 24h window', () => counterAlone('perl', '24h')],
    // Without wasm2c and gcc at build time there is no native counter: its rows are left out.
    ...(nativeCounter() === null ? [] : ([
      ['counting alone, native counter uploaded, whole log', () => counterAlone('native', null)],
      ['counting alone, native counter uploaded, 24h window', () => counterAlone('native', '24h')],
    ] as Array<[string, Run]>)),
    ['counting alone, perl, 24h window over a daily gzip rotation (12 h of it) and the current log', () => rotatedAlone('perl')],
    ...(nativeCounter() === null ? [] : ([
      ['counting alone, native counter uploaded, 24h window over the same rotated set', () => rotatedAlone('native')],
    ] as Array<[string, Run]>)),
  ];
  // One unmeasured run of each first (page cache, sshd's first fork).
  if (WARMUP) for (const [, run] of contenders) await run();
  const samples = contenders.map(() => [] as Array<Measured & { sources?: string; commands?: string[] }>);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [k, [, run]] of contenders.entries()) samples[k]!.push(await run());
  }
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const rows = contenders.map(([name], k) => {
    const s = samples[k]!;
    return {
      name,
      wallS: median(s.map((x) => x.wallS)),
      targetCpuS: median(s.map((x) => x.targetCpuS)),
      targetCpuRange: [Math.min(...s.map((x) => x.targetCpuS)), Math.max(...s.map((x) => x.targetCpuS))],
      bytes: median(s.map((x) => x.bytes)),
      bytesRange: [Math.min(...s.map((x) => x.bytes)), Math.max(...s.map((x) => x.bytes))],
      controlCpuS: median(s.map((x) => x.controlCpuS)),
      controlRssMb: Math.max(...s.map((x) => x.controlRssMb)),
      sources: s.at(-1)!.sources,
      commands: s.at(-1)!.commands,
    };
  });
  const f = rows[0]!;
  const lines = [
    `main log ${(statSync(manifest.mainlog).size / 1048576).toFixed(0)} MiB (generated, ending 10 minutes before the run); ${ROUNDS} rounds${WARMUP ? ' after one warm-up' : ''}, median; load average at the end ${load}`,
    '',
    '| on the target | wall s | target CPU s (range) | bytes on the wire (range) | target CPU / floor | bytes / floor | control CPU s | control peak RSS MiB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.wallS.toFixed(2)} | ${r.targetCpuS.toFixed(2)} (${r.targetCpuRange.map((x) => x.toFixed(2)).join('–')}) | ${r.bytes.toLocaleString('en')} (${r.bytesRange.map((x) => x.toLocaleString('en')).join('–')}) | ${(r.targetCpuS / f.targetCpuS).toFixed(2)} | ${(r.bytes / f.bytes).toFixed(3)} | ${r.controlCpuS.toFixed(2)} | ${r.controlRssMb.toFixed(0)} |`,
    ),
    '',
    ...rows.filter((r) => r.sources !== undefined).map((r) => `${r.name}: sources ${r.sources || 'none'}`),
    '',
    ...rows.filter((r) => r.commands !== undefined).flatMap((r) => [`${r.name}, commands on the host (last round):`, ...r.commands!.map((c) => `  ${c}`)]),
  ];
  console.log(lines.join('\n'));
  mkdirSync(join(repo, 'bench', 'out'), { recursive: true });
  writeFileSync(join(repo, 'bench', 'out', 'target.json'), `${JSON.stringify({ sizeMb: SIZE_MB, rounds: ROUNDS, load, rows, samples: samples.map((s) => s.map(({ stdout, stderr, ...x }) => x)) }, null, 2)}\n`);
  writeFileSync(join(repo, 'bench', 'out', 'target.md'), `${lines.join('\n')}\n`);
});
