import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireHostLock, HostLockedError, staleReason } from '../../src/fleet/lock.js';
import { adHocTarget, connectTarget, resolveTargets } from '../../src/fleet/targets.js';
import { CPANEL_LAYOUT, CPANEL_TOOL_PATHS, type HostTarget } from '../../src/hosts/types.js';
import { LocalTransport } from '../../src/transport/local.js';
import { HostUnreachableError } from '../../src/transport/types.js';
import { startSshHosts, sshAvailable, type SshTestFleet } from '../support/ssh-hosts.js';

const dir = mkdtempSync(join(tmpdir(), 'runbook-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function localTarget(lockDir: string): HostTarget {
  return { name: 'local', transport: new LocalTransport(), tools: CPANEL_TOOL_PATHS, layout: { ...CPANEL_LAYOUT, lockDir }, vars: {} };
}

describe('host lock', () => {
  it('one run holds it; a second is refused with who holds it; release frees it', async () => {
    const target = localTarget(join(dir, 'a.lock'));
    const first = await acquireHostLock(target, { runId: 'run-1', operator: 'alice' });
    const error = await acquireHostLock(target, { runId: 'run-2', operator: 'bob' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostLockedError);
    expect((error as HostLockedError).stale).toBe(false);
    expect((error as Error).message).toMatch(new RegExp(`locked by run run-1 by alice from ${hostname()} \\(pid ${process.pid}\\)`));
    await first.release();
    const second = await acquireHostLock(target, { runId: 'run-2' });
    await second.release();
  });

  it('a stale lock is reported with its owner and broken only with the flag', async () => {
    const target = localTarget(join(dir, 'b.lock'));
    const old = await acquireHostLock(target, { runId: 'old-run', now: () => new Date('2020-01-01T00:00:00Z') });
    const refused = await acquireHostLock(target, { runId: 'new-run' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HostLockedError);
    expect((refused as HostLockedError).stale).toBe(true);
    expect((refused as Error).message).toMatch(/stale lock .* held by run old-run .*--break-stale-lock/);
    const taken = await acquireHostLock(target, { runId: 'new-run', breakStale: true });
    expect(taken.broke?.runId).toBe('old-run');
    await old.release(); // no longer ours: must not remove the new run's lock
    await expect(acquireHostLock(target, { runId: 'third' })).rejects.toBeInstanceOf(HostLockedError);
    await taken.release();
  });

  it('a lock whose owner process is gone on this control host is stale', () => {
    const owner = { runId: 'r', operator: 'o', controlHost: 'ctl', pid: 42, time: new Date().toISOString() };
    const base = { now: new Date(), staleAfterHours: 6, controlHost: 'ctl' };
    expect(staleReason(owner, { ...base, pidAlive: () => false })).toMatch(/process 42 on ctl is gone/);
    expect(staleReason(owner, { ...base, pidAlive: () => true })).toBeUndefined();
    expect(staleReason(owner, { ...base, controlHost: 'other', pidAlive: () => false })).toBeUndefined();
  });

  it('a lock directory that cannot be created says what to set', async () => {
    const target = localTarget(join(dir, 'missing', 'deeper', 'x.lock'));
    await expect(acquireHostLock(target, { runId: 'r' })).rejects.toThrow(/layout\.lockDir/);
  });
});

describe('ad hoc targets', () => {
  it('parses local, demo and user@host:port', () => {
    expect(adHocTarget('local').kind).toBe('local');
    expect(adHocTarget('demo').kind).toBe('demo');
    expect(adHocTarget('admin@mail.example.net:2222', { acceptNewHostKeys: true })).toMatchObject({
      name: 'admin@mail.example.net:2222',
      kind: 'ssh',
      ssh: { hostname: 'mail.example.net', port: 2222, user: 'admin' },
      acceptNewHostKeys: true,
    });
  });
  it('--limit needs an inventory', async () => {
    await expect(resolveTargets({ limit: 'web', host: ['x'] })).rejects.toThrow(/--inventory/);
  });
});

describe.runIf(sshAvailable || process.env.CI)('targets and locks over SSH', () => {
  let fleet: SshTestFleet;
  beforeAll(async () => {
    fleet = await startSshHosts(2, { namePrefix: 'tgt' });
  });
  afterAll(async () => {
    await fleet?.stop();
  });

  it('an inventory resolves to SSH targets that connect; a down host is unreachable', async () => {
    const [a, b] = fleet.hosts as [typeof fleet.hosts[0], typeof fleet.hosts[0]];
    const inventory = join(fleet.dir, 'inventory.yml');
    writeFileSync(
      inventory,
      [
        'hosts:',
        ...[a, b].map((h) => `  ${h.name}:\n    ssh_host: 127.0.0.1\n    port: ${h.port}\n    user: root\n    identity_file: ${fleet.clientKey}\n    tools: { csf: /opt/csf }`),
        '  down:\n    ssh_host: 127.0.0.1\n    port: 1',
        'groups:',
        `  cp:\n    hosts: [${a.name}, ${b.name}, down]\n    vars: { region: eu }`,
      ].join('\n'),
    );
    const specs = await resolveTargets({ inventory, limit: 'cp', knownHostsFile: fleet.knownHostsFile, sshConfigFile: false });
    expect(specs.map((s) => s.name)).toEqual([a.name, b.name, 'down']);
    const target = await connectTarget(specs[0]!);
    try {
      expect(target.tools.csf).toBe('/opt/csf');
      expect(target.vars).toEqual({ region: 'eu' });
      expect((await target.transport.exec(['echo', 'hi'])).stdout).toBe('hi\n');
      // The default lock lives in the host's own /run: the second host is independent.
      const lock = await acquireHostLock(target, { runId: 'ssh-run' });
      await expect(acquireHostLock(target, { runId: 'other' })).rejects.toThrow(/locked by run ssh-run/);
      const other = await connectTarget(specs[1]!);
      const lockB = await acquireHostLock(other, { runId: 'other' });
      await lockB.release();
      await other.transport.close();
      await lock.release();
    } finally {
      await target.transport.close();
    }
    await expect(connectTarget(specs[2]!)).rejects.toBeInstanceOf(HostUnreachableError);
  });
});
