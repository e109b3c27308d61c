import { EXIT } from '../engine/run.js';

/** commander collector for repeatable flags (`--var a=1 --var b=2`). */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** `20261122T113859Z-spam-incident-12345.jsonl`: sorts by time, unique per process. */
export function auditFileName(name: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${name}-${process.pid}.jsonl`;
}

/**
 * Ctrl-C handling for a run: the first SIGINT aborts the signal (the running command is
 * killed, the audit log is closed with what happened), a second one quits at once.
 */
export function interruptibleRun(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts === 1) {
      process.stderr.write('\nInterrupted: stopping after the running command; the audit log records where it stopped. Press Ctrl-C again to quit at once.\n');
      controller.abort(new Error('interrupted by the operator (SIGINT)'));
    } else {
      process.exit(EXIT.interrupted);
    }
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}
