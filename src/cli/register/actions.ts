/** `runbook actions`: declared at start-up; the list is built when the command runs. */
import type { Command } from 'commander';

export function registerActionsCommand(program: Command): void {
  program
    .command('actions')
    .description('List the actions playbooks can use, their parameters and whether they change hosts')
    .argument('[name]', 'one action or family (e.g. exim), as the list names them')
    .option('--json', 'machine-readable list')
    .action(async (name: string | undefined, flags: { json?: boolean }) => {
      process.exitCode = (await import('../commands/actions.js')).actionsCommand(name, flags);
    });
}
