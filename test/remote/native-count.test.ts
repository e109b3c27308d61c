// The native counter uploaded to a target (src/remote/native-count.ts) gives the local reader's
// result, table for table, for any log, windowed or whole, in time order or not; it is checked,
// run and removed on the host, the audit log says so, and where it cannot run perl counts.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, truncateSync, watch, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanMainlogOn } from '../../src/actions/exim/detect-scan.js';
import { AuditWriter } from '../../src/audit/writer.js';
import { createActionContext } from '../../src/engine/context.js';
import { Recorder } from '../../src/engine/recorder.js';
import { CPANEL_LAYOUT, CPANEL_TOOL_PATHS } from '../../src/hosts/types.js';
import { scanMainlogFile } from '../../src/investigate/mainlog-file.js';
import { nativeCounter, runNativeCounter } from '../../src/remote/native-count.js';
import { scanMainlogRemote, type CounterReport, type RemoteMainlogScanOptions } from '../../src/remote/scan.js';
import { LocalTransport } from '../../src/transport/local.js';
import type { ExecOptions, ExecResult, Transport } from '../../src/transport/types.js';
import { startSshHosts, sshAvailable, type SshTestFleet } from '../support/ssh-hosts.js';
import { anyLog, lists } from './hostile-logs.js';

const built = nativeCounter() !== null;
// Under CI the counter must have been built (apt-get install wabt gcc libc6-dev zlib1g-dev).
if (!built && process.env.CI) throw new Error('the native main-log counter is not built under CI: dist/native/mainlog-count-linux-x86_64 missing (npm run build needs wasm2c and gcc)');

const dir = mkdtempSync(join(tmpdir(), 'runbook-native-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A transport that runs every command through `wrap` (a mount namespace, a changed upload). */
function wrapped(inner: Transport, wrap: (argv: readonly string[], options: ExecOptions) => [readonly string[], ExecOptions]): Transport {
  return { kind: inner.kind, host: inner.host, exec: (argv, options = {}) => inner.exec(...wrap(argv, options)), close: () => inner.close() };
}

/** Commands run in a private mount namespace where `dirs` are mounted noexec. */
function noexec(inner: Transport, dirs: string[]): Transport {
  const script = 'for d in $DIRS; do mount --bind "$d" "$d" && mount -o remount,bind,noexec "$d" || exit 99; done; exec "$@"';
  return wrapped(inner, (argv, options) => [['env', `DIRS=${dirs.join(' ')}`, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', script, 'sh', ...argv], options]);
}

function countedBy(options: RemoteMainlogScanOptions = {}): { options: RemoteMainlogScanOptions; reports: CounterReport[] } {
  const reports: CounterReport[] = [];
  return { options: { ...options, onCounter: (r) => reports.push(r) }, reports };
}

/** The private directories the runs left under `parent` (none, when each removed its own). */
function leftUnder(parent: string): string[] {
  return existsSync(parent) ? readdirSync(parent).filter((n) => n.startsWith('runbook-count-')) : [];
}

describe.runIf(built || process.env.CI)('the native counter on a target', () => {
  const home = join(dir, 'home');
  mkdirSync(join(home, '.cache'), { recursive: true });
  const local = new LocalTransport({ env: { HOME: home } });

  it("gives the local reader's result, every table, with and without a window, for any list lengths", async () => {
    let n = 0;
    let arrivals = 0;
    let joined = 0;
    let forgotten = 0;
    await fc.assert(
      fc.asyncProperty(anyLog, fc.constantFrom(null, '2026-11-22 10:00:30', '2026-11-22 10:01:00', '2026-11-22 09:00:00', '30s', '2m'), lists, async (bytes, since, limits) => {
        const file = join(dir, `log${n++}`);
        writeFileSync(file, bytes);
        const expected = await scanMainlogFile(file, { since, ...limits });
        const { options, reports } = countedBy({ since, ...limits, counter: 'native' });
        const actual = await scanMainlogRemote(local, file, options);
        expect(actual).toEqual(expected);
        expect(reports).toEqual([{ counter: 'native', native: expect.objectContaining({ removed: true, sha256: nativeCounter()!.sha256 }) }]);
        arrivals += actual.totals.arrivals;
        joined += [...actual.senders, ...actual.failing_senders].reduce((k, x) => k + x.deferrals + x.failures, 0);
        forgotten += actual.totals.messages_forgotten;
        rmSync(file);
      }),
      { numRuns: 60 },
    );
    expect(arrivals).toBeGreaterThan(0);
    // The generated logs do join deferrals and failures to arrivals, and do overflow the memory.
    expect(joined).toBeGreaterThan(0);
    expect(forgotten).toBeGreaterThan(0);
    expect(leftUnder(join(home, '.cache'))).toEqual([]);
  });

  it.each([{}, { maxMessages: 5 }])('sends what the perl counter sends: the same totals, keys and pairs (%o)', async (joining) => {
    const file = join(dir, 'same');
    const bytes = fc.sample(anyLog, { numRuns: 4, seed: 7 });
    writeFileSync(file, Buffer.concat([...bytes, ...bytes]));
    const sent = async (counter: 'perl' | 'native'): Promise<string[]> => {
      let last: Buffer[] = [];
      // Keeps the output of the last command: the tables.
      const capture = wrapped(local, (argv, options) => {
        const chunks: Buffer[] = [];
        last = chunks;
        return [argv, { ...options, onStdout: (c) => { chunks.push(c); options.onStdout?.(c); } }];
      });
      await scanMainlogRemote(capture, file, { since: '2026-11-22 10:00:30', limit: 2, nestedLimit: 1, ...joining, counter });
      return namedLines(gunzipSync(Buffer.concat(last)).toString('latin1'));
    };
    const perl = await sent('perl');
    expect(perl.some((l) => l.startsWith('pair\t'))).toBe(true);
    // Outcome keys and the joining totals are among what is compared.
    expect(perl.some((l) => /^key\t(sender|auth)_(rcpts|deferrals|failures)\t/.test(l))).toBe(true);
    expect(perl.some((l) => /^total\tfailures\t[1-9]/.test(l))).toBe(true);
    expect(await sent('native')).toEqual(perl);
  });

  it('counts with perl, and says why, when no candidate directory lets it run', async () => {
    const file = join(dir, 'noexec-log');
    writeFileSync(file, fc.sample(anyLog, { numRuns: 1, seed: 11 })[0]!);
    const expected = await scanMainlogFile(file, { since: null });
    const dirs = [home, join(home, '.cache'), '/var/tmp', '/tmp', '/dev/shm'].filter((d) => existsSync(d));
    const { options, reports } = countedBy({ since: null });
    const actual = await scanMainlogRemote(noexec(local, dirs), file, options);
    expect(actual).toEqual(expected);
    expect(reports).toHaveLength(1);
    expect(reports[0]!.counter).toBe('perl');
    expect(reports[0]!.fallback).toMatch(/noexec/);
    expect(reports[0]!.native!.noexec.length).toBeGreaterThan(0);
    expect(reports[0]!.native!.removed).toBe(true);
    expect(leftUnder(join(home, '.cache'))).toEqual([]);
  });

  it('runs from the next directory when the home directory is mounted noexec', async () => {
    const file = join(dir, 'noexec-home-log');
    writeFileSync(file, fc.sample(anyLog, { numRuns: 1, seed: 12 })[0]!);
    const { options, reports } = countedBy({ since: null });
    const actual = await scanMainlogRemote(noexec(local, [home]), file, options);
    expect(actual).toEqual(await scanMainlogFile(file, { since: null }));
    expect(reports[0]).toMatchObject({ counter: 'native', native: { removed: true, noexec: [join(home, '.cache'), home] } });
    expect(reports[0]!.native!.path.startsWith(join(home, '.cache'))).toBe(false);
  });

  it('fails a file with a line longer than 256 MiB, saying so, in both modes, instead of running out of memory', () => {
    // Sparse: 300 MiB of NUL bytes and no newline, read from the page cache without a disk.
    const huge = join(dir, 'huge-line');
    closeSync(openSync(huge, 'w'));
    truncateSync(huge, 300 * 1024 * 1024);
    try {
      const binary = fileURLToPath(new URL('../../dist/native/mainlog-count-linux-x86_64', import.meta.url));
      const single = spawnSync(binary, [huge, String(300 * 1024 * 1024), '', '200000:50:10:262144'], { encoding: 'latin1' });
      expect(single.status).toBe(4);
      expect(single.stderr).toContain('a line longer than 256 MiB before byte 268435456: not a main log');
      const rotated = spawnSync(binary, ['--rotated', '2026-12-01 00:00:00', '200000:50:10:262144', '0', huge], { encoding: 'latin1' });
      expect(rotated.status).toBe(5);
      expect(rotated.stderr).toContain(`failed\t${huge}\ta line longer than 256 MiB: not a main log`);
    } finally {
      rmSync(huge);
    }
  });

  it('counts with perl when the upload does not match its checksum, and leaves nothing behind', async () => {
    const file = join(dir, 'mismatch-log');
    writeFileSync(file, fc.sample(anyLog, { numRuns: 1, seed: 13 })[0]!);
    // What arrives is another program: it must never run.
    const other = gzipSync(readFileSync('/bin/true'));
    const swapped = wrapped(local, (argv, options) => [argv, argv[0] === 'sh' ? { ...options, stdin: other } : options]);
    const { options, reports } = countedBy({ since: null });
    const actual = await scanMainlogRemote(swapped, file, options);
    expect(actual).toEqual(await scanMainlogFile(file, { since: null }));
    expect(reports[0]).toMatchObject({ counter: 'perl', fallback: expect.stringMatching(/^checksum mismatch on the host: [0-9a-f]{64}$/), native: { removed: true } });
    expect(leftUnder(join(home, '.cache'))).toEqual([]);
  });
});

/**
 * The counter's output with ids replaced by the keys they stand for (ids are each counter's
 * own numbering), sorted.
 */
function namedLines(text: string): string[] {
  const lines = text.split('\n').filter((l) => l !== '');
  const keys = new Map<string, string>();
  for (const l of lines) {
    const [kind, table, id, hex] = l.split('\t');
    if (kind === 'key') keys.set(`${table}/${id}`, hex!);
  }
  const tables: Record<string, [string, string]> = {
    cwd_senders: ['cwd', 'senders'], sender_ips: ['senders', 'ips'], auth_ips: ['auth', 'ips'],
    auth_names: ['auth', 'names'], subject_senders: ['subjects', 'senders'], user_senders: ['users', 'senders'],
  };
  return lines
    .map((l) => {
      const f = l.split('\t');
      if (f[0] === 'key') return `key\t${f[1]}\t${f[3]}\t${f[4]}`;
      if (f[0] === 'pair') {
        const [parent, child] = tables[f[1]!]!;
        return `pair\t${f[1]}\t${keys.get(`${parent}/${f[2]}`)}\t${keys.get(`${child}/${f[3]}`)}\t${f[4]}`;
      }
      return l;
    })
    .sort();
}

describe.runIf((built && sshAvailable) || process.env.CI)('the native counter over SSH', () => {
  let fleet: SshTestFleet;
  const logPath = join(dir, 'ssh-mainlog');
  writeFileSync(logPath, Buffer.concat(fc.sample(anyLog, { numRuns: 30, seed: 5 })));
  beforeAll(async () => {
    fleet = await startSshHosts(1, {
      namePrefix: 'native',
      prepare: async ({ root }) => {
        mkdirSync(join(root, 'var/log/exim4'), { recursive: true });
        copyFileSync(logPath, join(root, 'var/log/exim4/mainlog'));
      },
    });
  });
  afterAll(async () => {
    await fleet?.stop();
  });

  it('uploads, checks, runs and removes the counter, and the audit log records it', async () => {
    const host = fleet.hosts[0]!;
    const transport = fleet.transport(host);
    const auditPath = join(dir, 'audit.jsonl');
    const writer = AuditWriter.create(auditPath);
    try {
      const ctx = createActionContext({
        target: { name: host.name, transport, tools: CPANEL_TOOL_PATHS, layout: CPANEL_LAYOUT, vars: {} },
        step: 'scan',
        recorder: new Recorder(writer),
        observer: () => {},
        signal: new AbortController().signal,
        dryRun: false,
        mutating: false,
        deliverSecret: async () => '',
      });
      const actual = await scanMainlogOn(ctx, '/var/log/exim4/mainlog', { since: null });
      const expected = await scanMainlogFile(logPath, { since: null });
      expect({ ...actual, file: null }).toEqual({ ...expected, file: null, files: ['/var/log/exim4/mainlog'] });
    } finally {
      writer.close();
      await transport.close();
    }
    const records = readFileSync(auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const counter = nativeCounter()!;
    const note = records.find((r) => r.type === 'note' && (r.data as { counter?: string } | undefined)?.counter === 'native');
    expect(note).toMatchObject({
      message: 'main log counted on the host by the native counter uploaded for this run (removed afterwards)',
      data: { file: '/var/log/exim4/mainlog', upload: { sha256: counter.sha256, size: counter.size, uploaded: counter.upload.length, removed: true, noexec: [] } },
    });
    const path = (note!.data as { upload: { path: string } }).upload.path;
    expect(path).toMatch(/^\/root\/(\.cache\/)?runbook-count-[0-9a-f]{16}\/mainlog-count$/);
    // The command itself is on record with what it was fed.
    const run = records.find((r) => r.type === 'command.result' && (r.argv as string[])[0] === 'sh');
    expect(run).toMatchObject({ exitCode: 0, stdinSha256: createHash('sha256').update(counter.upload).digest('hex') });
    expect((run!.argv as string[]).slice(4, 5)).toEqual([counter.sha256]);
    // Nothing is left on the host (its /root is this directory).
    expect(leftUnder(join(host.root, 'root'))).toEqual([]);
    expect(leftUnder(join(host.root, 'root', '.cache'))).toEqual([]);
  });

  it('uploads nothing where the host variable target_counter is perl, and says so in the audit log', async () => {
    const host = fleet.hosts[0]!;
    const transport = fleet.transport(host);
    const auditPath = join(dir, 'audit-perl.jsonl');
    const writer = AuditWriter.create(auditPath);
    const target = { name: host.name, transport, tools: CPANEL_TOOL_PATHS, layout: CPANEL_LAYOUT };
    const context = (vars: Record<string, unknown>) =>
      createActionContext({ target: { ...target, vars }, step: 'scan', recorder: new Recorder(writer), observer: () => {}, signal: new AbortController().signal, dryRun: false, mutating: false, deliverSecret: async () => '' });
    try {
      const actual = await scanMainlogOn(context({ target_counter: 'perl' }), '/var/log/exim4/mainlog', { since: null });
      const expected = await scanMainlogFile(logPath, { since: null });
      expect({ ...actual, file: null }).toEqual({ ...expected, file: null, files: ['/var/log/exim4/mainlog'] });
      await expect(scanMainlogOn(context({ target_counter: 'fast' }), '/var/log/exim4/mainlog', { since: null })).rejects.toThrow(/host variable target_counter on \S+ is "fast"; give auto, perl or native/);
    } finally {
      writer.close();
      await transport.close();
    }
    const records = readFileSync(auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.some((r) => r.type === 'command.result' && (r.argv as string[])[0] === 'sh')).toBe(false);
    expect(records.find((r) => r.type === 'note')).toMatchObject({ message: 'main log counted with perl: the host variable target_counter is perl, so nothing was uploaded', data: { counter: 'perl' } });
  });

  it('leaves nothing on the host when the run is killed part-way', async () => {
    const host = fleet.hosts[0]!;
    // A reader of a FIFO waits in open() until a writer comes: the counter is then running,
    // after it removed its own file, when the run is stopped.
    const fifo = join(host.root, 'var/log/exim4/fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // The first candidate directory ($HOME/.cache), made sure of so that it is the one watched.
    const home = join(host.root, 'root');
    const cache = join(home, '.cache');
    mkdirSync(cache, { recursive: true });
    const transport = fleet.transport(host);
    const stop = new AbortController();
    const seen = new Set<string>();
    // Its creation may already be past when the first event is looked at: any event after which
    // the directory is gone will do (the counter removes its own file and directory as it starts).
    const watcher = watch(cache, (_event, name) => {
      if (name === null || !name.startsWith('runbook-count-')) return;
      if (existsSync(join(cache, name))) seen.add(name);
      else stop.abort();
    });
    try {
      const run = await runNativeCounter(transport, nativeCounter()!, ['/var/log/exim4/fifo', '1000', '', '200000:50:10'], { signal: stop.signal });
      expect(run.result.aborted).toBe(true);
      expect(seen.size).toBeLessThanOrEqual(1);
      expect(leftUnder(home)).toEqual([]);
      expect(leftUnder(cache)).toEqual([]);
    } finally {
      watcher.close();
      // Lets a counter still waiting (were the kill lost) go: it then fails to read and exits.
      closeSync(openSync(fifo, 'r+'));
      rmSync(fifo);
      await transport.close();
    }
  });
});
