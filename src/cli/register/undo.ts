/** `runbook undo`: declared at start-up; the undo is loaded when the command runs. */
import { Option, type Command } from 'commander';
import type { UndoFlags } from '../commands/undo.js';
import { addLoggedHostOptions, signKeyOption, signKeyPassphraseOption } from '../options.js';

export function registerUndoCommand(program: Command): void {
  addLoggedHostOptions(program
    .command('undo')
    .description("Reverse a run's reversible changes (file modes, CSF denies, suspensions) from its audit log, planned and gated like any run")
    .argument('<log>', 'audit log of the run to undo')
    .option('-n, --dry-run', 'show the undo plan against the hosts; change nothing')
    .option('-y, --yes', 'accept the confirmation gate (for automation)')
    .option('--approve <hash>', 'undo only if the fresh plan has this hash (from a dry-run); accepts its gate'), 'the log')
    .option('--audit-dir <dir>', 'directory for the audit log of the undo run', 'runbook-audit')
    .option('--secrets-file <file>', 'write generated secrets to this 0600 file instead of the terminal (without a terminal the default is ~/.local/state/runbook/secrets/)')
    .addOption(signKeyOption())
    .addOption(signKeyPassphraseOption())
    .option('--json', 'machine-readable result on stdout')
    .addOption(new Option('--no-color', 'no colours (also NO_COLOR=1)'))
    .addHelpText(
      'after',
      `
Only changes recorded with an undo in steps that finished 'changed' are reversed, newest first.
Messages purged without quarantine and reset passwords cannot be brought back: they are
listed, never attempted. Quarantined messages are put back into the queue.
A log whose hash chain does not verify is refused.

Examples:
  runbook undo runbook-audit/20250301T100000Z-spam-incident-123.jsonl --dry-run
  runbook undo LOG -i fleet.yml

Exit codes: 0 undone (or nothing to undo) · 1 a reversal failed · 2 bad log, tampered log or
flags · 3 stopped at the gate · 4 --approve hash differs · 5 audit log not writable · 130 interrupted`,
    )
    .action(async (log: string, flags: UndoFlags) => {
      process.exitCode = await (await import('../commands/undo.js')).undoCommand(log, flags, process.argv.slice(2));
    });
}
