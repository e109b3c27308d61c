import type { ExecResult } from '../../transport/types.js';

function excerpt(text: string, limit = 600): string {
  const trimmed = text.trim();
  return trimmed.length > limit ? `${trimmed.slice(0, limit)}…` : trimmed;
}

/** One readable line about a command that did not do its job: exit code, stderr, stdout. */
export function describeCommandFailure(result: ExecResult): string {
  const how = result.timedOut
    ? result.sessionStartMs !== undefined
      ? `timed out after running ${result.durationMs - result.sessionStartMs} ms (it started ${result.sessionStartMs} ms after it was asked for)`
      : 'timed out'
    : result.aborted
      ? 'was interrupted'
      : result.signal !== null
        ? `was killed by ${result.signal}`
        : `exited ${String(result.exitCode)}`;
  const parts = [`${result.argv.join(' ')} ${how}`];
  const err = excerpt(result.stderr);
  const out = excerpt(result.stdout);
  if (err !== '') parts.push(`stderr: ${err}`);
  if (out !== '') parts.push(`output: ${out}`);
  return parts.join('; ');
}
