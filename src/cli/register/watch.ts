/** `runbook watch`: declared at start-up; the watcher is loaded when the command runs. */
import { Option, type Command } from 'commander';
import type { WatchFlags } from '../commands/watch.js';

export function registerWatchCommand(program: Command): void {
  program
    .command('watch')
    .description("Follow this server's Exim main log (and Dovecot's maillog), trip rules on sending and login rates, and hand each trip to the unattended responder")
    .option('-c, --config <file>', 'watcher config (YAML; sample: packaging/watch.example.yml)')
    .option('--once', 'read what was appended since the last run, answer its triggers and exit (for cron)')
    .option('--json', 'one JSON line per trigger, outcome and notice on stdout')
    .addOption(new Option('-v, --verbose', 'also report each read position (JSON lines of type "progress" with --json)').argParser((_v: string, prev: number | undefined) => (prev ?? 0) + 1))
    .addHelpText(
      'after',
      `
Reads the logs from where the last run stopped (the state file: positions, sliding windows and
unanswered triggers, written atomically), through rotation by rename or copytruncate. A log
never read before is started at its end (start_at: beginning to read it whole). Each rule
trips at most once per key per its longest window; the trigger is saved before it is handed
over, so killing and restarting neither repeats nor loses one. SIGHUP (systemctl reload)
re-reads the config after the read under way, keeping its place and letting a response under
way finish; a config that no longer reads is refused and the watcher runs on with the old one.

Rules shipped (thresholds in the config, per-key overrides and the allow-list there too):
  compromised-mailbox  per SMTP AUTH id: 8 messages in 2m, 40 in 1h, 500 unique recipients in 1h, 25 failures in 1h
  spamming-script      per cwd= directory: 8 submissions in 2m, 40 in 1h, 500 unique recipients in 1h
  credential-stuffing  per client address: 5 mailboxes refused in 1h, 10 mailboxes logged in in 1h

Examples:
  runbook watch --config /etc/runbook/watch.yml
  runbook watch --config /etc/runbook/watch.yml --once --json     # from cron

Exit codes: 0 ok (long-running: stopped by SIGTERM/SIGINT after saving the state) ·
1 --once: a response did not contain its trigger; either: a log could not be read · 2 bad config or flags
(file:line:col printed) · 7 the state file is unreadable or corrupt (nothing read or done) ·
130 --once interrupted (state saved)`,
    )
    .action(async (flags: WatchFlags) => {
      process.exitCode = await (await import('../commands/watch.js')).watchCommand(flags);
    });
}
