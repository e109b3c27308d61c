/**
 * `runbook harden --check --host H | -i INV`: the read-only check of outgoing-mail limits and
 * CSF alerts (the `harden.check` action) on each host, through the same path as a dry-run of
 * `apply`. The changes themselves are the shipped playbook `playbooks/harden.yml`.
 */
import type { Command } from 'commander';
import { addAnsibleStyleOptions } from '../ansible-style.js';
import { reportError, UsageError } from '../errors.js';
import { addHostRunOptions, applyCommand, type ApplyFlags } from './apply.js';
import { adHocPlaybook } from './run.js';

interface HardenFlags extends ApplyFlags {
  check?: boolean;
}

export function registerHardenCommand(program: Command): void {
  const command = program
    .command('harden')
    .description('Check outgoing-mail limits (WHM Tweak Settings) and CSF alerts, and list what to tighten (read-only)')
    .option('--check', 'read the settings and list the changes with their exact commands (required: applying is playbooks/harden.yml)');
  addHostRunOptions(command);
  addAnsibleStyleOptions(command, { steps: false, inputs: false }).addHelpText(
    'after',
    `
Examples:
  runbook harden --check --host demo
  runbook harden --check -i hosts.ini --json
  runbook apply playbooks/harden.yml --host demo      # apply what the check lists (asks first)
  runbook undo                                        # put every value back

Exit codes: as for 'runbook apply --dry-run'.`,
  );
  command.action(async (flags: HardenFlags) => {
    if (flags.check !== true) {
      process.exitCode = reportError(new UsageError("runbook harden only checks: add --check. To apply the changes run 'runbook apply playbooks/harden.yml' (undo with 'runbook undo')."), flags.json === true);
      return;
    }
    process.exitCode = await applyCommand('runbook harden --check', { ...flags, dryRun: true, yes: false }, process.argv.slice(2), adHocPlaybook('harden.check', {}));
  });
}
