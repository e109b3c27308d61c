/** `runbook validate`: declared at start-up; the checks are loaded when the command runs. */
import type { Command } from 'commander';

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('Check playbooks: YAML, schema, actions, parameters, input defaults and expressions (reports file:line:col)')
    .argument('<playbook...>', 'playbook files')
    .option('--json', 'machine-readable result')
    .addHelpText('after', '\nExit codes: 0 all valid · 2 a playbook has problems')
    .action(async (files: string[], flags: { json?: boolean }) => {
      process.exitCode = await (await import('../commands/validate.js')).validateCommand(files, flags);
    });
}
