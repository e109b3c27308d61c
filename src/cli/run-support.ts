import { EXIT } from '../engine/run.js';
import { claimStopSignals } from './stop-signals.js';

/** commander collector for repeatable flags (`--var a=1 --var b=2`). */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** `20261122T113859Z-spam-incident-12345.jsonl`: sorts by time, unique per process. */
export function auditFileName(name: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${name}-${process.pid}.jsonl`;
}

/**
 * Interrupt handling for a run: the first SIGINT, SIGTERM or SIGHUP (Ctrl-C, `timeout`, a
 * dropped SSH session) aborts the signal, its reason naming the signal: the running command is
 * killed and the audit log is closed saying where the run stopped. A second one quits at once.
 */
export function interruptibleRun(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let interrupts = 0;
  const release = claimStopSignals((name) => {
    interrupts += 1;
    if (interrupts === 1) {
      process.stderr.write(`\nInterrupted (${name}): stopping the running command; the audit log records where it stopped. Press Ctrl-C again to quit at once.\n`);
      controller.abort(new Error(`interrupted by the operator (${name})`));
    } else {
      process.exit(EXIT.interrupted);
    }
  });
  return { signal: controller.signal, dispose: release };
}
