/** `runbook harden --check`: declared at start-up, loaded when it runs. */
import type { Command } from 'commander';
import type { HardenFlags } from '../commands/harden.js';
import { addAnsibleStyleOptions, addHostRunOptions } from '../options.js';

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
    process.exitCode = await (await import('../commands/harden.js')).hardenCommand(flags, process.argv.slice(2));
  });
}
