// The native counter in rotated mode over SSH under faults, on a real sshd on loopback:
// - sshd killed while the counter runs (it waits on a rotated file that is a FIFO): the scan
//   fails as a host not read, never a result, and nothing is left on the host;
// - sshd killed after the upload, before the counter starts (the host's sha256sum held,
//   test/support/held-command.ts): the upload script goes on without its connection and must
//   still remove what it wrote;
// - the upload directory on a full disk (a real tmpfs as the host's ~/.cache): perl counts,
//   the same result, and the audit log says why.
import { execFile, execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statfsSync, unlinkSync, utimesSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanMainlogOn } from '../../src/actions/exim/detect-scan.js';
import { AuditWriter } from '../../src/audit/writer.js';
import { createActionContext } from '../../src/engine/context.js';
import { Recorder } from '../../src/engine/recorder.js';
import { CPANEL_LAYOUT, CPANEL_TOOL_PATHS } from '../../src/hosts/types.js';
import { gatherEvidence, verdictOf } from '../../src/investigate/gather.js';
import { DEFAULT_THRESHOLDS } from '../../src/investigate/verdict.js';
import { nativeCounter } from '../../src/remote/native-count.js';
import { scanMainlogRemoteRotated } from '../../src/remote/rotated-scan.js';
import type { CounterReport } from '../../src/remote/scan.js';
import { HostUnreachableError } from '../../src/transport/types.js';
import { holdCommand, type HeldCommand } from '../support/held-command.js';
import { startSshHosts, sshAvailable, type SshTestFleet, type SshTestHost } from '../support/ssh-hosts.js';

const built = nativeCounter() !== null;
const isRoot = process.getuid?.() === 0;

/** Resolves once the process has exited: GNU tail waits for it. */
const processGone = (pid: number): Promise<void> =>
  new Promise((resolve, reject) => execFile('tail', [`--pid=${pid}`, '-f', '/dev/null'], (error) => (error ? reject(error) : resolve())));
const parentOf = (pid: number): number => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);

/** Processes with `word` as one argument and an argument containing `part`. */
function processesWith(word: string, part: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.includes(word) && args.some((a) => a.includes(part))) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function lines(day: string, from: number, count: number): string {
  let out = '';
  for (let i = from; i < from + count; i++) {
    const t = `${day} 10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`;
    out += `${t} 1vAb${String(i).padStart(2, '0').slice(-2)}-000Aaa-0A <= spam${i % 3}@example.test H=(x) [192.0.2.${i % 200}] P=esmtpa A=dovecot_login:spam${i % 3}@example.test S=900 id=${i}@x\n`;
  }
  return out;
}

describe.runIf((built && sshAvailable && isRoot) || process.env.CI)('the native counter in rotated mode over SSH, under faults', () => {
  let fleet: SshTestFleet;
  let base: string;
  let cache: string;
  let held: HeldCommand;
  let tmpfsMounted = false;

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'runbook-native-faults-'));
    // The host's ~/.cache, the counter's first candidate directory, is a tmpfs this side can fill.
    cache = join(base, 'cache');
    mkdirSync(cache);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0755', 'tmpfs', cache]);
    tmpfsMounted = true;
    held = holdCommand(base, '/usr/bin/sha256sum');
    fleet = await startSshHosts(1, {
      namePrefix: 'nf',
      prepare: async ({ root }) => {
        mkdirSync(join(root, 'root', '.cache'), { recursive: true });
      },
      binds: () => [{ source: cache, target: '/root/.cache' }, held.bind],
    });
  }, 120_000);

  /** FIFOs a counter may wait on: given a writer at the end, whatever happened, so none waits on. */
  const fifos: string[] = [];

  afterAll(async () => {
    for (const f of fifos) if (existsSync(f)) closeSync(openSync(f, 'r+'));
    held?.dispose();
    await fleet?.stop();
    if (tmpfsMounted) execFileSync('umount', [cache]);
    if (base) rmSync(base, { recursive: true, force: true });
  });

  const left = (h: SshTestHost): string[] => [
    ...readdirSync(cache).filter((n) => n.startsWith('runbook-count-')),
    ...readdirSync(join(h.root, 'root')).filter((n) => n.startsWith('runbook-count-')),
  ];

  /** A current log and one rotation a day old, under /var/log/exim4/NAME on the host. */
  function rotatedSet(h: SshTestHost, name: string, fifo = false): { current: string; rotated: string; onHost: string } {
    const d = join(h.root, 'var/log/exim4', name);
    mkdirSync(d, { recursive: true });
    const current = join(d, 'exim_mainlog');
    const rotated = join(d, 'exim_mainlog-20261206');
    writeFileSync(current, lines('2026-12-07', 0, 40));
    if (fifo) execFileSync('mkfifo', [rotated]);
    else writeFileSync(rotated, lines('2026-12-06', 0, 200));
    const when = new Date('2026-12-06T23:59:00');
    utimesSync(rotated, when, when);
    return { current, rotated, onHost: `/var/log/exim4/${name}/exim_mainlog` };
  }

  it('sshd killed while the counter runs: the host reads as not read, and nothing is left on it', async () => {
    const h = fleet.hosts[0]!;
    const { rotated, onHost } = rotatedSet(h, 'running', true);
    const transport = fleet.transport(h);
    let startedRun: () => void = () => {};
    const counterRunning = new Promise<void>((resolve) => (startedRun = resolve));
    const seen = new Set<string>();
    fifos.push(rotated);
    // The counter removes its own file and directory as it starts: then it is running.
    // Its creation may already be past when the first event is looked at: any event after which
    // the directory is gone will do (were it the script's own cleanup, no counter runs: checked below).
    const watcher = watch(cache, (_event, name) => {
      if (name === null || !name.startsWith('runbook-count-')) return;
      if (existsSync(join(cache, name))) seen.add(name);
      else startedRun();
    });
    const reports: CounterReport[] = [];
    try {
      const since = '2026-12-06 09:00:00';
      let failure: unknown;
      // The investigation's own gather path, with the host's main log as its one source.
      const gathered = gatherEvidence(
        {
          where: ` on ${h.name}`,
          mainlog: (from) =>
            scanMainlogRemoteRotated(transport, onHost, { since: from, counter: 'auto', onCounter: (r) => reports.push(r) }).catch((error: unknown) => {
              failure = error;
              throw error;
            }),
          history: async () => ({ facts: null, problems: [] }),
          listDir: async () => null,
        },
        { since },
        DEFAULT_THRESHOLDS,
      );
      await counterRunning;
      const counters = processesWith('--unlink-self', 'running/exim_mainlog-20261206');
      expect(counters).toHaveLength(1);
      const shell = parentOf(counters[0]!);
      h.kill();
      const verdict = verdictOf(await gathered, DEFAULT_THRESHOLDS, since);
      expect(failure).toBeInstanceOf(HostUnreachableError);
      expect((failure as Error).message).toMatch(/result is unknown/);
      // The verdict: the main log was not read, so incomplete; never a clean "nothing found".
      expect(verdict.sources_failed).toEqual(['mainlog']);
      expect(verdict.incomplete).toBe(true);
      expect(verdict.summary).toMatch(/INCOMPLETE: could not read the mainlog/);
      // Never a clean count: nothing was reported as counted.
      expect(reports.filter((r) => r.counter === 'native' && r.fallback === undefined)).toEqual([]);
      // The FIFO gets a writer and ends: the counter reads its end, writes to a dead connection, exits.
      closeSync(openSync(rotated, 'r+'));
      await processGone(counters[0]!);
      await processGone(shell);
      expect(left(h)).toEqual([]);
    } finally {
      watcher.close();
      // Lets a counter still waiting on the FIFO (had the test stopped early) read its end and exit.
      closeSync(openSync(rotated, 'r+'));
      await transport.close();
      await h.restart();
    }
  }, 120_000);

  it('sshd killed after the upload, before the counter starts: the upload is removed all the same', async () => {
    const h = fleet.hosts[0]!;
    const { onHost } = rotatedSet(h, 'uploaded');
    const transport = fleet.transport(h);
    held.arm(1);
    try {
      const scan = scanMainlogRemoteRotated(transport, onHost, { since: '2026-12-06 09:00:00', counter: 'auto' });
      const outcome = scan.then(() => 'counted', (error: unknown) => error);
      const sum = await held.reached();
      // sha256sum runs in the script's command substitution: its parent's parent is the script.
      const shell = parentOf(parentOf(sum));
      expect(readFileSync(`/proc/${shell}/cmdline`, 'utf8')).toContain('runbook-count-');
      expect(left(h)).toHaveLength(1);
      h.kill();
      const error = await outcome;
      expect(error).toBeInstanceOf(HostUnreachableError);
      await held.release();
      expect(await held.finished()).toBe(0);
      held.disarm();
      await processGone(shell);
      expect(left(h)).toEqual([]);
    } finally {
      held.disarm();
      await transport.close();
      await h.restart();
    }
  }, 120_000);

  it('the upload directory on a full disk: perl counts the same, the audit log says why, nothing is left', async () => {
    const h = fleet.hosts[0]!;
    const { onHost } = rotatedSet(h, 'full');
    const filler = join(cache, 'filler');
    const st = statfsSync(cache);
    // Fill every free block (a short write at the end is the disk being full).
    try {
      writeFileSync(filler, Buffer.alloc(st.bavail * st.bsize + st.bsize));
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    expect(statfsSync(cache).bavail).toBe(0);
    const auditPath = join(base, 'full.jsonl');
    const writer = AuditWriter.create(auditPath);
    const transport = fleet.transport(h);
    const context = (vars: Record<string, unknown>) =>
      createActionContext({
        target: { name: h.name, transport, tools: CPANEL_TOOL_PATHS, layout: CPANEL_LAYOUT, vars },
        step: 'scan',
        recorder: new Recorder(writer),
        observer: () => {},
        signal: new AbortController().signal,
        dryRun: false,
        mutating: false,
        deliverSecret: async () => '',
      });
    try {
      const actual = await scanMainlogOn(context({}), onHost, { since: '2026-12-06 09:00:00' });
      const byPerl = await scanMainlogOn(context({ target_counter: 'perl' }), onHost, { since: '2026-12-06 09:00:00' });
      expect(actual).toEqual(byPerl);
      expect(actual.totals.arrivals).toBeGreaterThan(200);
    } finally {
      writer.close();
      await transport.close();
      unlinkSync(filler);
    }
    const records = readFileSync(auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const note = records.find((r) => r.type === 'note' && (r.data as { fallback?: string } | undefined)?.fallback !== undefined);
    expect(note, JSON.stringify(records.filter((r) => r.type === 'note'))).toMatchObject({ data: { counter: 'perl', fallback: expect.stringMatching(/upload to \/root\/\.cache\/runbook-count-[0-9a-f]+ failed/) } });
    expect(left(h)).toEqual([]);
  }, 120_000);
});

/**
 * A slow host (the slow-session helper's way, test/ssh/slow-session.test.ts): every session goes
 * through a ForceCommand wrapper that announces itself on a fifo and waits on a second one, so
 * a session starts exactly when the test lets it. The upload waits with its session and arrives
 * whole; a session that does not start in time is a host not read, with nothing left behind.
 */
describe.runIf((built && sshAvailable && isRoot) || process.env.CI)('the native counter in rotated mode on a slow host', () => {
  let fleet: SshTestFleet;
  let gateDir: string;
  const announce = (): string => join(gateDir, 'announce');
  const gate = (): string => join(gateDir, 'gate');

  beforeAll(async () => {
    gateDir = mkdtempSync(join(tmpdir(), 'runbook-native-slow-'));
    execFileSync('chmod', ['755', gateDir]);
    for (const f of [announce(), gate()]) execFileSync('mkfifo', [f]);
    const wrapper = join(gateDir, 'session');
    writeFileSync(wrapper, `#!/bin/sh\necho "$$" > ${announce()}\ncat ${gate()} > /dev/null\nexec /bin/sh -c "$SSH_ORIGINAL_COMMAND"\n`);
    execFileSync('chmod', ['755', wrapper]);
    fleet = await startSshHosts(1, { namePrefix: 'ns', sshdConfig: [`ForceCommand ${wrapper}`] });
  }, 120_000);
  afterAll(async () => {
    // A session still held (had a test stopped early) goes on, then ends with its connection.
    closeSync(openSync(gate(), 'r+'));
    closeSync(openSync(announce(), 'r+'));
    await fleet?.stop();
    if (gateDir) rmSync(gateDir, { recursive: true, force: true });
  });

  function rotatedSet(h: SshTestHost): string {
    const d = join(h.root, 'var/log/exim4/slow');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'exim_mainlog'), lines('2026-12-07', 0, 40));
    writeFileSync(join(d, 'exim_mainlog-20261206'), lines('2026-12-06', 0, 200));
    const when = new Date('2026-12-06T23:59:00');
    utimesSync(join(d, 'exim_mainlog-20261206'), when, when);
    return '/var/log/exim4/slow/exim_mainlog';
  }
  const leftOn = (h: SshTestHost): string[] =>
    [join(h.root, 'root'), join(h.root, 'root', '.cache')].flatMap((d) => (existsSync(d) ? readdirSync(d).filter((n) => n.startsWith('runbook-count-')) : []));

  it('every session held until released: the uploaded counter counts what perl counts', async () => {
    const h = fleet.hosts[0]!;
    const onHost = rotatedSet(h);
    const transport = fleet.transport(h);
    /** Runs `scan`, letting each of its sessions start once it is waiting. */
    const released = async <T>(scan: () => Promise<T>, sessions: number): Promise<T> => {
      const running = scan();
      for (let i = 0; i < sessions; i++) {
        await readFile(announce(), 'utf8');
        await writeFile(gate(), '');
      }
      return running;
    };
    try {
      const reports: CounterReport[] = [];
      // Two sessions each: the question about the log, then the count.
      const native = await released(() => scanMainlogRemoteRotated(transport, onHost, { since: '2026-12-06 09:00:00', counter: 'auto', onCounter: (r) => reports.push(r) }), 2);
      const perl = await released(() => scanMainlogRemoteRotated(transport, onHost, { since: '2026-12-06 09:00:00', counter: 'perl' }), 2);
      expect(reports).toEqual([{ counter: 'native', native: expect.objectContaining({ removed: true }) }]);
      expect(native).toEqual(perl);
      expect(native.totals.arrivals).toBe(240);
      expect(leftOn(h)).toEqual([]);
    } finally {
      await transport.close();
    }
  }, 120_000);

  it('a session that does not start in time: the scan fails as the host not read, nothing uploaded is left', async () => {
    const h = fleet.hosts[0]!;
    const onHost = rotatedSet(h);
    const transport = fleet.transport(h, { sessionStartTimeoutMs: 2000 });
    try {
      const reports: CounterReport[] = [];
      const scan = scanMainlogRemoteRotated(transport, onHost, { since: '2026-12-06 09:00:00', counter: 'auto', onCounter: (r) => reports.push(r) }).then(
        () => 'counted',
        (error: unknown) => error,
      );
      // The first session (the question about the log) starts; the count's is held past its limit.
      await readFile(announce(), 'utf8');
      await writeFile(gate(), '');
      const held = Number((await readFile(announce(), 'utf8')).trim());
      const error = await scan;
      expect(error).toBeInstanceOf(HostUnreachableError);
      expect((error as Error).message).toMatch(/slow host: waited \d+ ms/);
      expect(reports).toEqual([]);
      // Let the held session go: its channel is closed, so it ends before running anything.
      await writeFile(gate(), '');
      await processGone(held);
      expect(leftOn(h)).toEqual([]);
    } finally {
      await transport.close();
    }
  }, 120_000);
});
