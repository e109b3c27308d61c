import { EXIT, runPlaybook, type RunOptions, type RunReport } from '../engine/run.js';
import { createGatekeeper } from './gate.js';
import type { Style } from './style.js';
import { VERSION } from './version.js';
import { claimStopSignals } from './stop-signals.js';
import { UsageError } from './errors.js';
import { checkSecretsFile } from './secrets.js';

/** A flag that takes a whole number of 1 or more (--forks, --serial); undefined when not given. */
export function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} needs a whole number of 1 or more, got ${JSON.stringify(value)}`);
  return n;
}

/** The gate and secrets flags of a run (apply, undo), checked before anything starts. */
export function checkRunFlags(flags: { dryRun?: boolean; yes?: boolean; approve?: string; secretsFile?: string }): void {
  if (flags.yes && flags.approve) throw new UsageError('--yes and --approve do not go together: --approve already accepts the gates of exactly that plan');
  if (flags.dryRun && (flags.yes || flags.approve)) throw new UsageError('--dry-run changes nothing, so it takes neither --yes nor --approve');
  if (flags.approve !== undefined && !/^[0-9a-f]{16}$/.test(flags.approve)) throw new UsageError(`--approve takes the 16-hex-digit plan hash a dry-run printed, got ${JSON.stringify(flags.approve)}`);
  if (flags.secretsFile) {
    const problem = checkSecretsFile(flags.secretsFile);
    if (problem) throw new UsageError(problem);
  }
}

/** `20261122T113859Z-spam-incident-12345.jsonl`: sorts by time, unique per process. */
/** `--now` (ISO 8601) for commands that measure deadlines or retention, else the clock. */
export function parseNow(text: string | undefined): Date {
  if (text === undefined) return new Date();
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new UsageError(`--now ${text} is not a time; give ISO 8601, e.g. 2026-12-07T18:00:00Z`);
  return new Date(at);
}

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

/**
 * Runs a read-only playbook (investigate, rbl) as a dry-run: nothing is gated because nothing
 * changes, and no secret can come up (one that did would be a bug, so it throws).
 */
export function runReadOnly(
  options: Omit<RunOptions, 'dryRun' | 'gatekeeper' | 'toolVersion' | 'deliverSecret'>,
  style: Style,
  what: string,
): Promise<RunReport> {
  return runPlaybook({
    ...options,
    dryRun: true,
    gatekeeper: createGatekeeper({ yes: false, interactive: false, style }),
    toolVersion: VERSION,
    deliverSecret: async () => {
      throw new Error(`${what} never handles secrets`);
    },
  });
}
