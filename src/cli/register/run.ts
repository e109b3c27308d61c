/** `runbook run ACTION`: declared at start-up; the run is loaded when the command runs. */
import type { Command } from 'commander';
import type { RunFlags } from '../commands/run.js';
import { loadForHelp } from '../lazy-help.js';
import { addAnsibleStyleOptions, addHostRunOptions, collect } from '../options.js';

export function registerRunCommand(program: Command): void {
  const command = program
    .command('run')
    .description('Run one action on hosts without a playbook file (planned, gated and audited like apply)')
    .argument('<action>', "action name, see 'runbook actions'")
    .option('-w, --with <name=value>', 'an action parameter (repeatable); numbers, booleans and [lists] are read as YAML', collect, []);
  addHostRunOptions(command);
  addAnsibleStyleOptions(command, { steps: false, inputs: false })
    .addHelpText(
      'after',
      () => `
Examples:
${loadForHelp<typeof import('../../actions/registry.js')>('../actions/registry.js')
  .runExamples()
  .slice(0, 2)
  .map((e, i) => (i === 0 ? `  runbook run ${e.name} --host demo ${e.args} --dry-run` : `  runbook run ${e.name} -i hosts.ini -l cpanel ${e.args} --yes`))
  .join('\n')}

Exit codes: as for 'runbook apply'.`,
    )
    .action(async (action: string, flags: RunFlags) => {
      process.exitCode = await (await import('../commands/run.js')).runCommand(action, flags, process.argv.slice(2));
    });
}
