/** `runbook apply`: declared at start-up; the run itself is loaded when the command runs. */
import type { Command } from 'commander';
import type { ApplyFlags } from '../commands/apply.js';
import { addAnsibleStyleOptions, addHostRunOptions } from '../options.js';

export function registerApplyCommand(program: Command): void {
  const command = program
    .command('apply')
    .description('Plan and run a playbook on one host or a fleet (read-only steps run, mutating steps are gated)')
    .argument('<playbook>', 'playbook YAML file');
  addHostRunOptions(command);
  addAnsibleStyleOptions(command, { steps: true, inputs: true })
    .addHelpText(
      'after',
      `
Examples:
  runbook apply playbooks/spam-incident.yml --host demo --dry-run
  runbook apply playbooks/spam-incident.yml --host demo --approve <hash from the dry-run>
  runbook apply playbooks/spam-incident.yml -i fleet.yml -l 'cpanel*' --forks 20 --yes
  runbook apply playbooks/spam-incident.yml -i hosts.ini --list-hosts

Exit codes: 0 ok · 1 a step or host failed · 2 bad playbook, inputs or flags ·
3 stopped at a gate (declined, or no terminal and no --yes) · 4 --approve hash differs ·
5 audit log not writable · 130 interrupted`,
    )
    .action(async (playbook: string, flags: ApplyFlags) => {
      process.exitCode = await (await import('../commands/apply.js')).applyCommand(playbook, flags, process.argv.slice(2));
    });
}

