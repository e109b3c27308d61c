/**
 * `runbook watch --config FILE`: follow this server's mail logs and contain what trips a rule
 * (see src/watch/). Long-running under systemd (packaging/runbook-watch.service), or `--once`
 * from cron: read what was appended since the last run, answer its triggers, exit.
 */
import { Option, type Command } from 'commander';
import { PlaybookError } from '../../playbook/diagnostics.js';
import { FileReadError } from '../../core/read-error.js';
import { safeText } from '../../core/text.js';
import { loadWatchConfig, type WatchConfig } from '../../watch/config.js';
import { builtinActions } from '../../actions/registry.js';
import { loadPlaybook } from '../../playbook/load.js';
import { createResponder } from '../../watch/respond.js';
import { runWatch } from '../../watch/run.js';
import { StateError } from '../../watch/state.js';
import { EXIT } from '../../engine/run.js';
import { reportError, UsageError } from '../errors.js';
import { claimStopSignals } from '../stop-signals.js';
import { terminalSafeJson } from '../../core/terminal-safe.js';

/** Exit status when the state file is unreadable or corrupt (nothing was read or done). */
export const STATE_EXIT = 7;

interface WatchFlags {
  config?: string;
  once?: boolean;
  json?: boolean;
  verbose?: number;
}

async function readConfig(file: string): Promise<WatchConfig> {
  try {
    return await loadWatchConfig(file);
  } catch (error) {
    if (error instanceof PlaybookError || error instanceof FileReadError) throw error;
    // A malformed allow-list entry names its file and line already.
    throw new UsageError((error as Error).message);
  }
}

export async function watchCommand(flags: WatchFlags): Promise<number> {
  const json = flags.json === true;
  const controller = new AbortController();
  let stops = 0;
  const release = claimStopSignals((name) => {
    stops += 1;
    if (stops > 1) process.exit(EXIT.interrupted);
    if (!json) process.stderr.write(`\nStopping (${name}): finishing the read under way and saving the state.\n`);
    controller.abort(new Error(`stopped by ${name}`));
  });
  try {
    if (flags.config === undefined) throw new UsageError('--config FILE is required (a sample: packaging/watch.example.yml in the package)');
    const config = await readConfig(flags.config);
    // A playbook that cannot be read is a wrong config: say so now (exit 2), not at the first trip.
    const registry = builtinActions();
    for (const playbook of [config.response.containPlaybook, config.response.finishPlaybook]) await loadPlaybook(playbook, registry);
    // The responder's own progress is for a person reading the journal; --json keeps stdout to the outcomes.
    const responder = createResponder(config.response, { log: (line) => (json ? undefined : process.stderr.write(`${safeText(line)}\n`)) });
    if (!json && (flags.verbose ?? 0) > 0) process.stderr.write(`${safeText(`watching ${config.mainlog}${config.maillog !== undefined ? ` and ${config.maillog}` : ''}; state in ${config.statePath}`)}\n`);
    const result = await runWatch(config, responder, {
      once: flags.once === true,
      json,
      verbose: flags.verbose ?? 0,
      out: process.stdout,
      err: process.stderr,
      signal: controller.signal,
    });
    // A long-running watcher reports each response as it comes; stopping it is not a failure.
    if (flags.once !== true) return EXIT.ok;
    if (controller.signal.aborted) return EXIT.interrupted;
    return result.unsuccessful > 0 ? EXIT.failed : EXIT.ok;
  } catch (error) {
    if (error instanceof StateError) {
      if (json) process.stdout.write(`${terminalSafeJson(JSON.stringify({ ok: false, error: { kind: 'state', message: error.message } }))}\n`);
      else process.stderr.write(`${safeText(`error: ${error.message}`)}\n`);
      return STATE_EXIT;
    }
    return reportError(error, json);
  } finally {
    release();
  }
}

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
over, so killing and restarting neither repeats nor loses one.

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
      process.exitCode = await watchCommand(flags);
    });
}
