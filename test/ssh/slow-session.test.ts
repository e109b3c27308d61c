/**
 * Slow hosts are not dead hosts: the time a command waits for its session (sshd's channel
 * open, PAM, the login shell) is not part of its timeout. Every session of these hosts goes
 * through a ForceCommand wrapper that announces itself on a fifo and then blocks on a second
 * fifo until the test releases it, so a session is exactly as slow as the test decides.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { existsSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeCommandFailure } from '../../src/actions/service/command-failure.js';
import { SessionStartTimeoutError, type SshTransport } from '../../src/transport/ssh.js';
import { HostUnreachableError } from '../../src/transport/types.js';
import { startSshHosts, sshAvailable, type SshTestFleet } from '../support/ssh-hosts.js';

/** One directory outside the hosts' private mounts, holding the wrapper and its fifos. */
const gateDir = `/tmp/runbook-slow-session-${process.pid}`;
const announce = join(gateDir, 'announce');
const gate = join(gateDir, 'gate');

/** Resolves once a session has reached the wrapper (it is now waiting on the gate). */
const sessionWaiting = (): Promise<string> => readFile(announce, 'utf8');
/** Lets every waiting session go on to run its command. */
const release = (): Promise<void> => writeFile(gate, '');
/** Resolves once the process has exited (it ends when its session is released): GNU tail waits for it. */
const processGone = (pid: number): Promise<void> =>
  new Promise((resolve, reject) => execFile('tail', [`--pid=${pid}`, '-f', '/dev/null'], (error) => (error ? reject(error) : resolve())));
/** Resolves after ms (only to make a held session last longer than a command's timeout). */
const hold = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.runIf(sshAvailable || process.env.CI)('SSH sessions that are slow to start', () => {
  let fleet: SshTestFleet;
  const transports: SshTransport[] = [];

  beforeAll(async () => {
    execFileSync('mkdir', ['-p', gateDir]);
    for (const f of [announce, gate]) if (!existsSync(f)) execFileSync('mkfifo', [f]);
    const wrapper = join(gateDir, 'session');
    writeFileSync(wrapper, `#!/bin/sh\necho "$$" > ${announce}\ncat ${gate} > /dev/null\nexec /bin/sh -c "$SSH_ORIGINAL_COMMAND"\n`);
    chmodSync(wrapper, 0o755);
    fleet = await startSshHosts(1, { namePrefix: 'slow', sshdConfig: [`ForceCommand ${wrapper}`] });
  });
  afterAll(async () => {
    await Promise.all(transports.map((t) => t.close()));
    await fleet?.stop();
    execFileSync('rm', ['-rf', gateDir]);
  });

  const transport = (extra: Parameters<SshTestFleet['transport']>[1] = {}): SshTransport => {
    const t = fleet.transport(fleet.hosts[0]!, extra);
    transports.push(t);
    return t;
  };

  it('a command whose session starts after its timeout has passed runs to the end, not timed out', async () => {
    const t = transport();
    await t.connect();
    const timeoutMs = 1000;
    const running = t.exec(['printf', 'ran'], { timeoutMs });
    await sessionWaiting();
    // Twice the command's timeout after the session was already waiting: a timer started when
    // the command was asked for (or when the channel opened) has fired by now.
    await hold(2 * timeoutMs);
    await release();
    const r = await running;
    expect(r).toMatchObject({ exitCode: 0, stdout: 'ran', timedOut: false, signal: null });
    expect(r.sessionStartMs).toBeGreaterThanOrEqual(2 * timeoutMs);
  });

  it('a command that is slow itself still times out, and says how long it ran and how long it waited to start', async () => {
    const t = transport();
    await t.connect();
    // Reads a fifo nobody writes to: it never finishes on its own.
    const running = t.exec(['sh', '-c', `exec cat ${join(gateDir, 'never')}`], { timeoutMs: 300 });
    execFileSync('mkfifo', [join(gateDir, 'never')]);
    await sessionWaiting();
    await release();
    // On the timeout the transport kills the command's process group over a new session,
    // which waits at the gate like any other.
    await sessionWaiting();
    await release();
    const r = await running;
    expect(r).toMatchObject({ exitCode: null, timedOut: true });
    expect(r.durationMs - r.sessionStartMs!).toBeGreaterThanOrEqual(300);
    expect(describeCommandFailure(r)).toMatch(/timed out after running \d+ ms \(it started \d+ ms after it was asked for\)/);
  });

  it('a session that never starts is reported as a slow host, naming what was waited for, not as a command that timed out', async () => {
    const t = transport({ sessionStartTimeoutMs: 500 });
    await t.connect();
    const marker = join(gateDir, 'ran');
    const running = t.exec(['sh', '-c', `touch ${marker}; exim -bP spool_directory`], { timeoutMs: 100 });
    const waiting = sessionWaiting();
    const error = await running.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionStartTimeoutError);
    expect(error).toBeInstanceOf(HostUnreachableError);
    expect((error as SessionStartTimeoutError).waitedFor).toBe('session start');
    expect((error as Error).message).toMatch(/slow host: waited \d+ ms for the session of sh to start \(login shell, PAM\), and it never started/);
    // Let the held session go: its channel is closed, so the shell dies writing its pid,
    // before the command (as the error says, it never ran).
    const sessionPid = Number(await waiting);
    await release();
    await processGone(sessionPid);
    expect(existsSync(marker)).toBe(false);
  });
});

describe.runIf(sshAvailable || process.env.CI)('SSH hosts that limit sessions (MaxSessions)', () => {
  let fleet: SshTestFleet;
  beforeAll(async () => {
    fleet = await startSshHosts(1, { namePrefix: 'maxsess', sshdConfig: ['MaxSessions 2'] });
  });
  afterAll(async () => {
    await fleet?.stop();
  });

  it('commands past the limit wait for a session of the same connection to end, instead of failing', async () => {
    const t = fleet.transport(fleet.hosts[0]!);
    try {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => t.exec(['printf', String(i)], { timeoutMs: 30_000 })));
      expect(results.map((r) => [r.exitCode, r.stdout, r.timedOut])).toEqual(Array.from({ length: 8 }, (_, i) => [0, String(i), false]));
    } finally {
      await t.close();
    }
  });
});
