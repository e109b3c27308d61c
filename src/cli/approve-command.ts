import { argvToDisplay } from '../audit/render/escape.js';

/**
 * The command line that applies exactly the plan with this hash: the arguments of the run that
 * made the plan (a dry-run, or the plan shown before a gate), without what would skip the
 * review (--dry-run, --yes, an older --approve), and with `--approve HASH`. Words are quoted
 * for a POSIX shell, so a value from a log (a sender address) stays one inert word.
 */
export function approveCommand(argv: readonly string[], hash: string): string {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i] as string;
    if (a === '--dry-run' || a === '-n' || a === '--yes' || a === '-y') continue;
    if (a === '--approve') {
      i += 1;
      continue;
    }
    if (a.startsWith('--approve=')) continue;
    kept.push(a);
  }
  return `runbook ${argvToDisplay(kept)} --approve ${hash}`;
}
