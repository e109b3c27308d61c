import { mkdirSync, mkdtempSync, rmSync, utimesSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireHostLock, HostLockedError, OWNERLESS_GRACE_MINUTES } from '../../src/fleet/lock.js';
import { CPANEL_LAYOUT, CPANEL_TOOL_PATHS, type HostTarget } from '../../src/hosts/types.js';
import { LocalTransport } from '../../src/transport/local.js';

const dir = mkdtempSync(join(tmpdir(), 'runbook-lock-ownerless-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function localTarget(lockDir: string): HostTarget {
  return { name: 'local', transport: new LocalTransport(), tools: CPANEL_TOOL_PATHS, layout: { ...CPANEL_LAYOUT, lockDir }, vars: {} };
}

/** A lock directory with no owner file, as a run killed between mkdir and writing it leaves. */
function ownerlessLock(name: string, minutesOld: number): string {
  const lockDir = join(dir, name);
  mkdirSync(lockDir, { mode: 0o700 });
  const then = new Date(Date.now() - minutesOld * 60_000);
  utimesSync(lockDir, then, then);
  return lockDir;
}

describe('a lock directory without an owner file', () => {
  it('older than the grace period is stale: refused without the flag, broken with it, saying what was broken', async () => {
    const lockDir = ownerlessLock('old.lock', OWNERLESS_GRACE_MINUTES + 10);
    const target = localTarget(lockDir);
    const refused = await acquireHostLock(target, { runId: 'new-run' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HostLockedError);
    expect((refused as HostLockedError).stale).toBe(true);
    expect((refused as Error).message).toMatch(/stale lock .* held by an unknown owner \(no readable owner file\) \(no owner file and older than \d+ minutes.*\).*--break-stale-lock/);

    const taken = await acquireHostLock(target, { runId: 'new-run', breakStale: true });
    expect(taken.broke).toBeUndefined();
    expect(taken.brokeStale).toBe(`${lockDir} held by an unknown owner (no readable owner file) (no owner file and older than ${OWNERLESS_GRACE_MINUTES} minutes: left by a run killed while taking it, or made by hand)`);
    await taken.release();
    expect(existsSync(lockDir)).toBe(false);
  });

  it('just made may belong to a run taking it right now: never broken, and says when it can be', async () => {
    const lockDir = ownerlessLock('fresh.lock', 0);
    const target = localTarget(lockDir);
    const refused = await acquireHostLock(target, { runId: 'new-run', breakStale: true }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HostLockedError);
    expect((refused as HostLockedError).stale).toBe(false);
    expect((refused as Error).message).toMatch(/another run may be taking it right now.*--break-stale-lock once it is \d+ minutes old/);
    expect(existsSync(lockDir)).toBe(true);
  });
});
