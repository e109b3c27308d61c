/** `runbook quarantine list|prune`: declared at start-up; the work is loaded when a subcommand runs. */
import { Option, type Command } from 'commander';
import type { QuarantineListFlags, QuarantinePruneFlags } from '../commands/quarantine.js';
import { addLoggedHostOptions, signKeyOption, signKeyPassphraseOption } from '../options.js';

const RETENTION = '30d';

export function registerQuarantineCommand(program: Command): void {
  const q = program
    .command('quarantine')
    .description("The copies purges with quarantine keep of removed messages: list them, delete those past their retention (audited)");
  q.command('list')
    .description('Every quarantine the audit logs recorded: kept, restored or deleted, and when its retention ends')
    .option('--audit-dir <dir>', 'audit logs to read', 'runbook-audit')
    .option('--retention <duration>', 'how long a copy is kept after its purge (30d, 12h, 2w)', RETENTION)
    .option('--now <time>', 'measure retention against this time (ISO 8601) instead of the clock')
    .option('--json', 'machine-readable result on stdout')
    .addOption(new Option('--no-color', 'no colours (also NO_COLOR=1)'))
    .action(async (flags: QuarantineListFlags) => {
      process.exitCode = await (await import('../commands/quarantine.js')).quarantineListCommand(flags);
    });
  addLoggedHostOptions(q.command('prune')
    .description('Delete quarantine copies past their retention (or whose messages were put back), as an audited run; their purges can no longer be undone')
    .argument('[dirs...]', 'only these quarantine directories (as the logs name them)')
    .option('-n, --dry-run', 'show what would be deleted and the plan; change nothing')
    .option('-y, --yes', 'accept the confirmation gate (for automation)')
    .option('--within-retention', 'also delete copies still within their retention (their purges can then no longer be undone)')
    .option('--audit-dir <dir>', 'audit logs to read, and where the deletion run writes its own', 'runbook-audit')
    .option('--retention <duration>', 'how long a copy is kept after its purge (30d, 12h, 2w)', RETENTION)
    .option('--now <time>', 'measure retention against this time (ISO 8601) instead of the clock'), 'the logs')
    .addOption(signKeyOption())
    .addOption(signKeyPassphraseOption())
    .option('--json', 'machine-readable result on stdout')
    .addOption(new Option('--no-color', 'no colours (also NO_COLOR=1)'))
    .addHelpText(
      'after',
      `
A purge with quarantine copies each removed message aside so runbook undo can put it back.
Nothing deletes those copies but this command. A copy is kept for --retention after its purge; past it, prune deletes the files its
manifest lists and then the directory (never anything else), checked against the manifest's
sha256 the purge recorded. A copy whose messages were put back (runbook undo) is spare and may
go at once. A copy within its retention is its purge's only undo: it is deleted only with
--within-retention. Each deletion is recorded in the audit log of the prune run, which later
scans read.

Examples:
  runbook quarantine list --audit-dir /var/log/runbook
  runbook quarantine prune --audit-dir /var/log/runbook --dry-run
  runbook quarantine prune --audit-dir /var/log/runbook --retention 14d --yes

Exit codes: 0 deleted (or nothing due) · 1 a deletion failed · 2 bad flags · 3 stopped at the
gate · 5 audit log not writable · 130 interrupted`,
    )
    .action(async (dirs: string[], flags: QuarantinePruneFlags) => {
      process.exitCode = await (await import('../commands/quarantine.js')).quarantinePruneCommand(dirs, flags, process.argv.slice(2));
    });
}
