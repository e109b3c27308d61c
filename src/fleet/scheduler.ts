/**
 * Runs work on many hosts: at most `forks` at once, optionally in batches (`serial`, a canary
 * batch first), and stops starting new hosts once too many of the finished ones failed.
 * One host's failure (a thrown error included) never stops another host's run.
 */

export interface ScheduleOptions<R = unknown> {
  /** Hosts worked on at once. */
  forks: number;
  /**
   * Batch sizes: every host of a batch finishes before the next batch starts. `[1, 5]` runs one
   * canary host, then batches of 5 (the last size repeats). A number is one size for all.
   */
  serial?: number | number[];
  /**
   * Once more than this percentage of the hosts finished so far failed, no new host starts;
   * hosts already running finish. 0 stops after the first failure.
   */
  maxFailPercent?: number;
  /** Whether a result counts as a failure. Default: `status` is `failed` or `unreachable`. */
  isFailure?: (result: R) => boolean;
  /** Turns a thrown error into this host's result. Without it the errors are rethrown together at the end. */
  onError?: (host: unknown, error: unknown) => R;
}

function defaultIsFailure(result: unknown): boolean {
  const status = (result as { status?: unknown } | null)?.status;
  return status === 'failed' || status === 'unreachable';
}

/** Batch sizes for `count` hosts. */
export function batchSizes(count: number, serial: number | number[] | undefined): number[] {
  if (serial === undefined) return count > 0 ? [count] : [];
  const sizes = (Array.isArray(serial) ? serial : [serial]).map((n) => Math.max(1, Math.floor(n)));
  if (sizes.length === 0) return [count];
  const out: number[] = [];
  let left = count;
  for (let i = 0; left > 0; i++) {
    const size = Math.min(left, sizes[Math.min(i, sizes.length - 1)]!);
    out.push(size);
    left -= size;
  }
  return out;
}

/**
 * Results come back in host order. Hosts never started (the failure threshold was crossed)
 * get `onNotStarted(host, reason)` as their result; without it they are left out.
 */
export async function scheduleHosts<H, R>(
  hosts: readonly H[],
  options: ScheduleOptions<R>,
  work: (host: H) => Promise<R>,
  onNotStarted?: (host: H, reason: string) => R,
): Promise<R[]> {
  const forks = Math.max(1, Math.floor(options.forks));
  const isFailure = options.isFailure ?? defaultIsFailure;
  const results = new Array<R | undefined>(hosts.length);
  const started = new Array<boolean>(hosts.length).fill(false);
  const errors: unknown[] = [];
  let finished = 0;
  let failed = 0;
  let stopReason: string | undefined;

  const thresholdCrossed = (): boolean =>
    options.maxFailPercent !== undefined && finished > 0 && (failed / finished) * 100 > options.maxFailPercent;

  const runOne = async (index: number): Promise<void> => {
    const host = hosts[index]!;
    started[index] = true;
    let result: R | undefined;
    let hostFailed = false;
    try {
      result = await work(host);
      hostFailed = isFailure(result);
    } catch (error) {
      hostFailed = true;
      if (options.onError) result = options.onError(host, error);
      else errors.push(error);
    }
    results[index] = result;
    finished++;
    if (hostFailed) failed++;
    if (stopReason === undefined && thresholdCrossed()) {
      stopReason =
        `not started: ${failed} of ${finished} hosts finished so far failed ` +
        `(${Math.round((failed / finished) * 100)}%), above --max-fail-percent ${options.maxFailPercent}`;
    }
  };

  let next = 0;
  for (const size of batchSizes(hosts.length, options.serial)) {
    if (stopReason !== undefined) break;
    const end = next + size;
    const workers = Array.from({ length: Math.min(forks, size) }, async () => {
      while (next < end && stopReason === undefined) {
        const index = next++;
        await runOne(index);
      }
    });
    await Promise.all(workers);
  }

  if (errors.length > 0) {
    throw errors.length === 1 ? errors[0] : new AggregateError(errors, `${errors.length} hosts failed with an error`);
  }
  const out: R[] = [];
  for (let i = 0; i < hosts.length; i++) {
    if (started[i]) out.push(results[i] as R);
    else if (onNotStarted) out.push(onNotStarted(hosts[i]!, stopReason ?? 'not started'));
  }
  return out;
}
