/**
 * What a contender cost each target host, measured on the host's side so runbook, Ansible and
 * the floor are counted alike: the CPU time of everything the host's sshd ran for them.
 *
 * A host is one listening sshd. Its connection processes, their sessions and the commands in
 * them are all waited for by their parents, so once a connection has ended its CPU time is in
 * the listener's `cutime`/`cstime` (/proc/PID/stat). A command that detaches from its parent
 * would escape the count; none of the dry-run's reads do.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SshTestHost } from '../../test/support/ssh-hosts.js';

const TICKS_PER_SECOND = 100;

/** The listening sshd of a host (the harness writes its PidFile next to the host's root). */
export function listenerPid(host: SshTestHost): number {
  return Number(readFileSync(join(dirname(host.root), 'sshd.pid'), 'utf8').trim());
}

function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name is in parentheses and may hold spaces: fields are counted after it.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU seconds of the listener and every descendant it has reaped so far. */
export function hostCpuSeconds(pid: number): number {
  // After ')': field 3 (state) is index 0, so utime (14) is 11, stime 12, cutime 13, cstime 14.
  const f = statFields(pid);
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICKS_PER_SECOND;
}

function children(pid: number): string {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
}

/**
 * Blocks until no connection of the host is left (the client has gone; sshd may still be
 * closing), so its CPU time is in the listener's counters. Gives up after `limitMs`: a host
 * still busy then is reported by the caller, not waited for forever.
 */
export function waitHostIdle(pid: number, limitMs = 60_000): boolean {
  const until = Date.now() + limitMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (children(pid) !== '') {
    if (Date.now() > until) return false;
    Atomics.wait(pause, 0, 0, 20);
  }
  return true;
}
