/**
 * A program on an SSH test host that stops at a chosen call until the test lets it go, so a
 * fault (sshd killed) lands exactly while that command runs: decided by events, never by time.
 * The host sees `target` (e.g. /usr/bin/rm) replaced, in its own mount namespace only, by a
 * wrapper that counts its calls while armed; on the chosen one it writes its pid to a fifo,
 * waits on a second fifo, runs the real program and writes its exit status to a third. Every
 * other call runs the real program at once. This machine's program is never changed.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, mkdirSync, openSync, rmSync, unlinkSync, writeFileSync, existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

export interface HeldCommand {
  /** Bind mounts for startSshHosts' `binds` option. */
  bind: { source: string; target: string };
  /** Hold the `nth` call from now on (1 = the next one). */
  arm(nth: number): void;
  disarm(): void;
  /** Resolves with the held process's pid once the chosen call is waiting. */
  reached(): Promise<number>;
  /** Lets the held call run the real program. */
  release(): Promise<void>;
  /** Resolves with the real program's exit status once the released call has ended. */
  finished(): Promise<number>;
  /** Unblocks anything still waiting on a fifo and removes the files. */
  dispose(): void;
}

/** `dir` must be outside the hosts' private mounts (e.g. under /tmp). */
export function holdCommand(dir: string, target: string): HeldCommand {
  const d = join(dir, `held-${basename(target)}`);
  mkdirSync(d, { recursive: true });
  const real = join(d, 'real');
  copyFileSync(target, real);
  chmodSync(real, 0o755);
  const fifos = { reached: join(d, 'reached'), gate: join(d, 'gate'), finished: join(d, 'finished') };
  for (const f of Object.values(fifos)) execFileSync('mkfifo', [f]);
  const wrapper = join(d, 'wrapper');
  // Values reach the shell as arguments of the real program only; the paths are the test's own.
  writeFileSync(
    wrapper,
    [
      '#!/bin/sh',
      `D='${d}'`,
      'if [ -f "$D/armed" ]; then',
      '  n=$(cat "$D/count" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$D/count"',
      '  if [ "$n" = "$(cat "$D/armed")" ]; then',
      '    echo "$$" > "$D/reached"',
      '    cat "$D/gate" > /dev/null',
      '    "$D/real" "$@"; st=$?',
      '    echo "$st" > "$D/finished"',
      '    exit "$st"',
      '  fi',
      'fi',
      'exec "$D/real" "$@"',
      '',
    ].join('\n'),
  );
  chmodSync(wrapper, 0o755);
  return {
    bind: { source: wrapper, target },
    arm(nth) {
      writeFileSync(join(d, 'count'), '0\n');
      writeFileSync(join(d, 'armed'), `${nth}\n`);
    },
    disarm() {
      if (existsSync(join(d, 'armed'))) unlinkSync(join(d, 'armed'));
    },
    async reached() {
      return Number((await readFile(fifos.reached, 'utf8')).trim());
    },
    async release() {
      await writeFile(fifos.gate, '');
    },
    async finished() {
      return Number((await readFile(fifos.finished, 'utf8')).trim());
    },
    dispose() {
      this.disarm();
      // Opening a fifo read-write never blocks and lets a writer or reader stuck on it go on.
      for (const f of Object.values(fifos)) closeSync(openSync(f, 'r+'));
      rmSync(d, { recursive: true, force: true });
    },
  };
}
