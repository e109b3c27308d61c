/**
 * `runbook watch --config FILE`: follow this server's mail logs and contain what trips a rule
 * (see src/watch/). Long-running under systemd (packaging/runbook-watch.service), or `--once`
 * from cron: read what was appended since the last run, answer its triggers, exit.
 */
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

export interface WatchFlags {
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
  /** Replaced at each reload: SIGHUP to a long-running watcher re-reads its config (systemctl reload). */
  let reload = new AbortController();
  let stops = 0;
  const say = (line: string): void => {
    if (json) process.stdout.write(`${terminalSafeJson(JSON.stringify({ type: 'reload', message: line }))}\n`);
    else process.stderr.write(`${safeText(line)}\n`);
  };
  const release = claimStopSignals((name) => {
    if (name === 'SIGHUP' && flags.once !== true && !controller.signal.aborted) {
      reload.abort(new Error('reload'));
      return;
    }
    stops += 1;
    if (stops > 1) process.exit(EXIT.interrupted);
    if (!json) process.stderr.write(`\nStopping (${name}): finishing the read under way and saving the state.\n`);
    controller.abort(new Error(`stopped by ${name}`));
  });
  try {
    if (flags.config === undefined) throw new UsageError('--config FILE is required (a sample: packaging/watch.example.yml in the package)');
    const configFile = flags.config;
    let config = await readWatchSetup(configFile, json);
    for (;;) {
      if (!json && (flags.verbose ?? 0) > 0) process.stderr.write(`${safeText(`watching ${config.config.mainlog}${config.config.maillog !== undefined ? ` and ${config.config.maillog}` : ''}; state in ${config.config.statePath}`)}\n`);
      const result = await runWatch(config.config, config.responder, {
        once: flags.once === true,
        json,
        verbose: flags.verbose ?? 0,
        out: process.stdout,
        err: process.stderr,
        signal: controller.signal,
        reload: reload.signal,
      });
      if (reload.signal.aborted && !controller.signal.aborted) {
        reload = new AbortController();
        // A config that no longer reads keeps the one running, as sshd and nginx do on SIGHUP.
        try {
          config = await readWatchSetup(configFile, json);
          say(`reloaded ${configFile}`);
        } catch (error) {
          say(`reload refused, still running with the configuration read before: ${error instanceof Error ? error.message : String(error)}`);
        }
        continue;
      }
      // A long-running watcher reports each response as it comes; stopping it is not a failure.
      if (flags.once !== true) return EXIT.ok;
      if (controller.signal.aborted) return EXIT.interrupted;
      return result.unsuccessful > 0 ? EXIT.failed : EXIT.ok;
    }
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

/** The config, its response playbooks checked, and the responder built from it. */
async function readWatchSetup(file: string, json: boolean): Promise<{ config: WatchConfig; responder: ReturnType<typeof createResponder> }> {
  const config = await readConfig(file);
  // A playbook that cannot be read is a wrong config: say so now (exit 2), not at the first trip.
  const registry = builtinActions();
  for (const playbook of [config.response.containPlaybook, config.response.finishPlaybook]) await loadPlaybook(playbook, registry);
  // The responder's own progress is for a person reading the journal; --json keeps stdout to the outcomes.
  const responder = createResponder(config.response, { log: (line) => (json ? undefined : process.stderr.write(`${safeText(line)}\n`)) });
  return { config, responder };
}
