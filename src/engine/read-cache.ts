/**
 * Results of read commands for the length of one planning pass on one host. Planning changes
 * nothing on the host, so the same read (the queue listing, a CSF file, the host's addresses)
 * gives the same answer each time it is asked for: it runs once, and later identical reads reuse
 * its result, each reuse recorded in the audit log as such. Over SSH every read is a round trip,
 * and on a flooded server listing the queue alone takes seconds.
 *
 * Execution never uses it: a mutating step reads the host again just before it changes it.
 */
import { createHash } from 'node:crypto';
import type { CommandSpec } from '../actions/types.js';
import { Secret } from '../core/secret.js';
import type { ExecResult } from '../transport/types.js';

export interface CachedRead {
  /** The step whose command produced the result. */
  step: string;
  result: ExecResult;
}

export class ReadCache {
  readonly #entries = new Map<string, CachedRead>();

  /** The key of a command, or null for one that always runs (secret stdin, streamed output). */
  static keyOf(command: CommandSpec): string | null {
    if (command.onStdout !== undefined || command.stdin instanceof Secret) return null;
    const stdin = command.stdin === undefined ? null : createHash('sha256').update(command.stdin).digest('hex');
    return JSON.stringify([command.argv, stdin, command.maxOutputBytes ?? null]);
  }

  get(key: string): CachedRead | undefined {
    return this.#entries.get(key);
  }

  /**
   * Keeps a finished read. One that timed out, was killed or was interrupted is not an answer
   * worth reusing; one that exited non-zero is (the same read fails the same way within a plan).
   */
  set(key: string, step: string, result: ExecResult): void {
    if (result.timedOut || result.signal !== null || result.aborted) return;
    this.#entries.set(key, { step, result });
  }
}
