/** `runbook doctor`: declared at start-up, loaded when it runs. */
import type { Command } from 'commander';

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('Show the Node runbook runs on and whether ssh2\'s native crypto loaded (same as --version -v)')
    .option('--json', 'machine-readable result')
    .addHelpText('after', '\nExit codes: 0 all in place · 1 the native SSH crypto did not load (SSH still works, slower)')
    .action(async (flags: { json?: boolean }) => {
      process.exitCode = (await import('../commands/doctor.js')).doctorCommand(flags);
    });
}
