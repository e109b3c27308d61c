/** `runbook expire`: declared at start-up; the expiry is loaded when the command runs. */
import { Option, type Command } from 'commander';
import type { ExpireFlags } from '../commands/expire.js';
import { addLoggedHostOptions, signKeyOption, signKeyPassphraseOption } from '../options.js';

export function registerExpireCommand(program: Command): void {
  addLoggedHostOptions(program
    .command('expire')
    .description('Lift holds and temporary denies whose deadline (hold_for, ttl) has passed and that no later run confirmed; an audited run of its own')
    .option('-n, --dry-run', 'show what is due and the plan; change nothing')
    .option('--audit-dir <dir>', 'audit logs to read, and where the expiry run writes its own', 'runbook-audit'), 'the logs')
    .option('--now <time>', 'measure deadlines against this time (ISO 8601) instead of the clock; with --dry-run, what a later run would lift')
    .addOption(signKeyOption())
    .addOption(signKeyPassphraseOption())
    .option('--json', 'machine-readable result on stdout')
    .addOption(new Option('--no-color', 'no colours (also NO_COLOR=1)'))
    .addHelpText(
      'after',
      `
A step that holds a mailbox's or an account's outgoing mail with hold_for, or blocks an address
for a time (a temporary CSF deny with its ttl), records its deadline in its audit log. For each
host and held thing, the newest finished step about it in --audit-dir decides: a hold whose
deadline has passed is lifted (its recorded undo runs); a later release, undo, expiry, hold
without hold_for or permanent deny of the address means there is nothing to lift. A hold that found the thing already held
sets no new deadline. Logs whose hash chain does not verify are not read (and listed).

The deadline was approved with the hold, so the expiry needs no --yes; its gate is recorded as
accepted by the deadline. Run it from cron or a systemd timer, e.g. every 5 minutes:
  */5 * * * * root runbook expire --audit-dir /var/log/runbook --host local

Examples:
  runbook expire --dry-run
  runbook expire --audit-dir /var/log/runbook -i fleet.yml --json

Exit codes: 0 lifted (or nothing due) · 1 a release failed (tried again next time) · 2 bad flags
or unreachable hosts named wrongly · 5 audit log not writable · 130 interrupted`,
    )
    .action(async (flags: ExpireFlags) => {
      process.exitCode = await (await import('../commands/expire.js')).expireCommand(flags, process.argv.slice(2));
    });
}
