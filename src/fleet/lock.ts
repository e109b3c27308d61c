/**
 * A per-host lock so two runbook runs never remediate the same host at once: an atomic
 * `mkdir` of a lock directory on the target, holding an `owner` file that says who holds it.
 */
import { hostname as localHostname, userInfo } from 'node:os';
import type { HostTarget } from '../hosts/types.js';
import type { Transport } from '../transport/types.js';

export const DEFAULT_LOCK_DIR = '/run/runbook.lock';
export const DEFAULT_STALE_HOURS = 6;
/**
 * A lock directory without an owner file younger than this may be a run between its `mkdir`
 * and writing the owner: never broken. Older, it was left by a run killed at that moment or
 * made by hand.
 */
export const OWNERLESS_GRACE_MINUTES = 2;

export interface LockOwner {
  runId: string;
  operator: string;
  controlHost: string;
  pid: number;
  /** ISO-8601 time the lock was taken. */
  time: string;
}

export class HostLockedError extends Error {
  readonly host: string;
  readonly owner: LockOwner | undefined;
  readonly stale: boolean;
  constructor(host: string, owner: LockOwner | undefined, stale: boolean, lockDir: string, why?: string) {
    const who = describeOwner(owner);
    super(
      stale
        ? `${host}: stale lock ${lockDir} held by ${who}${why ? ` (${why})` : ''}. If that run is really gone, ` +
            'run again with --break-stale-lock to remove it.'
        : owner
          ? `${host}: locked by ${who}. Another runbook run is working on this host; wait for it to ` +
            `finish, or if it died, remove ${lockDir} on the host once you are sure.`
          : `${host}: locked by ${who}, made less than ${OWNERLESS_GRACE_MINUTES} minutes ago: another run may be taking it right now. ` +
            `If none is, run again with --break-stale-lock once it is ${OWNERLESS_GRACE_MINUTES} minutes old.`,
    );
    this.name = 'HostLockedError';
    this.host = host;
    this.owner = owner;
    this.stale = stale;
  }
}

export interface LockOptions {
  runId: string;
  operator?: string;
  /** Remove a stale lock (old, or its owner process gone on this control host) and take it. */
  breakStale?: boolean;
  staleAfterHours?: number;
  now?: () => Date;
  /** Whether a pid is alive on this control host (tests replace it). */
  pidAlive?: (pid: number) => boolean;
}

export interface HostLock {
  dir: string;
  owner: LockOwner;
  /** Brought back only if the lock is still ours. */
  release(): Promise<void>;
  /** Set when a stale lock with an owner file was broken to take this one. */
  broke?: LockOwner;
  /** Set when any stale lock was broken: whose it was and why it was stale, for the audit log. */
  brokeStale?: string;
}

function describeOwner(owner: LockOwner | undefined): string {
  return owner
    ? `run ${owner.runId} by ${owner.operator} from ${owner.controlHost} (pid ${owner.pid}) since ${owner.time}`
    : 'an unknown owner (no readable owner file)';
}

/**
 * Why a lock directory without a readable owner file is stale: it is older than the grace
 * period, measured by the target's own clock (`find -mmin`), so clock skew does not matter.
 */
async function ownerlessStaleReason(transport: Transport, dir: string): Promise<string | undefined> {
  const r = await transport.exec(['find', dir, '-maxdepth', '0', '-mmin', `+${OWNERLESS_GRACE_MINUTES}`], { timeoutMs: 30_000 });
  if (r.exitCode !== 0 || r.stdout.trim() === '') return undefined;
  return `no owner file and older than ${OWNERLESS_GRACE_MINUTES} minutes: left by a run killed while taking it, or made by hand`;
}

function defaultPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.runId === 'string' && typeof o.pid === 'number' && typeof o.time === 'string') return o as LockOwner;
  } catch {
    // fall through
  }
  return undefined;
}

async function readOwner(transport: Transport, dir: string): Promise<LockOwner | undefined> {
  const r = await transport.exec(['cat', '--', `${dir}/owner`], { timeoutMs: 30_000 });
  return r.exitCode === 0 ? parseOwner(r.stdout) : undefined;
}

/** Why a lock is stale, or undefined when it is live. */
export function staleReason(
  owner: LockOwner | undefined,
  options: { now: Date; staleAfterHours: number; controlHost: string; pidAlive: (pid: number) => boolean },
): string | undefined {
  if (!owner) return undefined;
  const age = (options.now.getTime() - Date.parse(owner.time)) / 3_600_000;
  if (Number.isFinite(age) && age > options.staleAfterHours) {
    return `taken ${age.toFixed(1)} hours ago, more than ${options.staleAfterHours}`;
  }
  if (owner.controlHost === options.controlHost && !options.pidAlive(owner.pid)) {
    return `process ${owner.pid} on ${owner.controlHost} is gone`;
  }
  return undefined;
}

export async function acquireHostLock(target: HostTarget, options: LockOptions): Promise<HostLock> {
  const transport = target.transport;
  const dir = target.layout.lockDir ?? DEFAULT_LOCK_DIR;
  const controlHost = localHostname();
  const owner: LockOwner = {
    runId: options.runId,
    operator: options.operator ?? safeUser(),
    controlHost,
    pid: process.pid,
    time: (options.now?.() ?? new Date()).toISOString(),
  };
  let broke: LockOwner | undefined;
  let brokeStale: string | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    const made = await transport.exec(['mkdir', '-m', '0700', '--', dir], { timeoutMs: 30_000 });
    if (made.exitCode === 0) {
      const wrote = await transport.exec(['tee', '--', `${dir}/owner`], {
        stdin: `${JSON.stringify(owner)}\n`,
        timeoutMs: 30_000,
      });
      if (wrote.exitCode !== 0) {
        await transport.exec(['rm', '-rf', '--', dir], { timeoutMs: 30_000 });
        throw new Error(`${target.name}: could not write the lock owner file ${dir}/owner: ${wrote.stderr.trim()}`);
      }
      return {
        dir,
        owner,
        ...(broke ? { broke } : {}),
        ...(brokeStale ? { brokeStale } : {}),
        release: async () => {
          const current = await readOwner(transport, dir);
          if (current?.runId !== owner.runId) return;
          await transport.exec(['rm', '-rf', '--', dir], { timeoutMs: 30_000 });
        },
      };
    }
    if (!/exists/i.test(made.stderr)) {
      throw new Error(`${target.name}: could not create the lock directory ${dir}: ${made.stderr.trim() || `exit ${made.exitCode}`}. Set layout.lockDir for this host.`);
    }
    const held = await readOwner(transport, dir);
    const why = held
      ? staleReason(held, {
          now: options.now?.() ?? new Date(),
          staleAfterHours: options.staleAfterHours ?? DEFAULT_STALE_HOURS,
          controlHost,
          pidAlive: options.pidAlive ?? defaultPidAlive,
        })
      : await ownerlessStaleReason(transport, dir);
    if (why === undefined || !options.breakStale || attempt > 0) {
      throw new HostLockedError(target.name, held, why !== undefined, dir, why);
    }
    broke = held;
    brokeStale = `${dir} held by ${describeOwner(held)} (${why})`;
    await transport.exec(['rm', '-rf', '--', dir], { timeoutMs: 30_000 });
  }
  throw new HostLockedError(target.name, undefined, false, dir);
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}
