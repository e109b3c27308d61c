/**
 * Ctrl-C, SIGTERM and SIGHUP exit 130 from the moment the CLI starts (README exit codes), not
 * with the signal's default status (143 for SIGTERM): imported first by main.ts, before the
 * rest of the program loads. A run claims them to stop cleanly (close its audit log, release
 * its locks) instead.
 */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** Exit status for "interrupted"; the same value as EXIT.interrupted, kept here dependency-free. */
export const INTERRUPTED_EXIT = 130;

let claimant: ((name: StopSignal) => void) | undefined;

function deliver(name: StopSignal): void {
  if (claimant) claimant(name);
  else process.exit(INTERRUPTED_EXIT);
}

/**
 * Stop signals seen directly and relayed by bin/runbook.cjs (which re-runs the CLI on the
 * bundled Node): a signal to the whole process group reaches this process and the wrapper, which
 * relays it, so the two are counted as one and only a rise of the larger count is delivered. A
 * second Ctrl-C is still a second interrupt; a signal sent to the wrapper alone still arrives.
 */
const seen = new Map<StopSignal, { direct: number; relayed: number }>();
function count(name: StopSignal, how: 'direct' | 'relayed'): void {
  const c = seen.get(name) ?? { direct: 0, relayed: 0 };
  seen.set(name, c);
  const before = Math.max(c.direct, c.relayed);
  c[how]++;
  if (Math.max(c.direct, c.relayed) > before) deliver(name);
}

for (const name of STOP_SIGNALS) process.on(name, () => count(name, 'direct'));

if (process.send !== undefined && process.env.RUNBOOK_BUNDLED_NODE_REEXEC === '1') {
  process.on('message', (message: unknown) => {
    const name = (message as { runbookStopSignal?: unknown } | null)?.runbookStopSignal;
    if ((STOP_SIGNALS as readonly unknown[]).includes(name)) count(name as StopSignal, 'relayed');
  });
  // Listening must not keep a finished command alive.
  process.channel?.unref();
}

/** Hands the stop signals to a run until the returned release is called. */
export function claimStopSignals(onSignal: (name: StopSignal) => void): () => void {
  claimant = onSignal;
  return () => {
    if (claimant === onSignal) claimant = undefined;
  };
}
