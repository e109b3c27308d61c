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

for (const name of STOP_SIGNALS) {
  process.on(name, () => {
    if (claimant) claimant(name);
    else process.exit(INTERRUPTED_EXIT);
  });
}

/** Hands the stop signals to a run until the returned release is called. */
export function claimStopSignals(onSignal: (name: StopSignal) => void): () => void {
  claimant = onSignal;
  return () => {
    if (claimant === onSignal) claimant = undefined;
  };
}
