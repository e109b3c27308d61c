import type { Command } from 'commander';
import { EXIT } from '../../engine/run.js';
import { reportError } from '../errors.js';

/** `runbook demo reset`: throw the demo host's state away and stage a fresh incident. */
export async function demoResetCommand(flags: { json?: boolean }): Promise<number> {
  try {
    // Loaded on demand like --host demo: other commands never load the simulator.
    const { demoRoot, resetDemoHost } = await import('../../hosts/demo.js');
    const root = demoRoot();
    const manifest = await resetDemoHost(root);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ ok: true, root, mailbox: manifest.mailbox, script: manifest.script.path, attackerIps: manifest.attackerIps }, null, 2)}\n`);
    } else {
      process.stdout.write(
        `Demo host reset: ${root}\nA fresh incident is staged: mailbox ${manifest.mailbox} sending spam, script ${manifest.script.path}.\nTry: runbook apply playbooks/spam-incident.yml --host demo --dry-run\n`,
      );
    }
    return EXIT.ok;
  } catch (error) {
    return reportError(error, flags.json === true);
  }
}

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
      process.exitCode = await demoResetCommand(flags);
    });
}
