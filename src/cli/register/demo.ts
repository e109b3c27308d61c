/** `runbook demo reset`: declared at start-up, loaded when it runs. */
import type { Command } from 'commander';

export function registerDemoCommand(program: Command): void {
  const demo = program
    .command('demo')
    .description('The built-in demo host (--host demo): a simulated cPanel server with a spam incident in progress');
  demo
    .command('reset')
    .description('Undo everything runs did to the demo host and stage a fresh incident')
    .option('--json', 'machine-readable result')
    .addHelpText('after', '\nThe demo host lives in $XDG_STATE_HOME/runbook/demo (else <tmpdir>/runbook-demo-<uid>); it is rebuilt\nafter 12 hours or when damaged, and reset with this command.')
    .action(async (flags: { json?: boolean }) => {
      process.exitCode = await (await import('../commands/demo.js')).demoResetCommand(flags);
    });
}
