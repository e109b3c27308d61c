#!/usr/bin/env node
// First: signals exit 130 while the rest of the program is still loading.
import './stop-signals.js';
import { Command, CommanderError } from 'commander';
import { registerActionsCommand } from './register/actions.js';
import { registerApplyCommand } from './register/apply.js';
import { registerAuditCommand } from './register/audit.js';
import { registerAuditReportCommands } from './register/audit-report.js';
import { registerDemoCommand } from './register/demo.js';
import { registerDoctorCommand } from './register/doctor.js';
import { registerExpireCommand } from './register/expire.js';
import { registerQuarantineCommand } from './register/quarantine.js';
import { registerHardenCommand } from './register/harden.js';
import { registerInvestigateCommand } from './register/investigate.js';
import { registerRblCommand } from './register/rbl.js';
import { registerRunCommand } from './register/run.js';
import { registerUndoCommand } from './register/undo.js';
import { registerValidateCommand } from './register/validate.js';
import { registerWatchCommand } from './register/watch.js';
import { tidyOptionHelp } from './help.js';
import { VERSION } from './version.js';

export async function buildProgram(): Promise<Command> {
  const program = new Command();
  program
    .name('runbook')
    .description('Remediation playbooks for cPanel/WHM + Exim servers: detect and contain outgoing spam with dry-run, gates and a tamper-evident audit log')
    .version(VERSION, '-V, --version', 'output the version number (with -v: the Node, its binary and the native SSH crypto, as runbook doctor)')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Start here:
  runbook apply playbooks/spam-incident.yml --host demo --dry-run
  runbook investigate --host demo
  runbook run --help          # one action without a playbook, with examples
  runbook actions
  runbook audit list

Exit codes: 0 ok · 1 failure · 2 bad playbook, inputs or flags · 3 stopped at a gate ·
4 approved plan differs · 5 audit log problem · 6 audit attach credentials ·
7 watch state file corrupt · 130 interrupted.
NO_COLOR is respected. runbook doctor shows the Node in use and the native SSH crypto.`,
    );
  registerApplyCommand(program);
  registerRunCommand(program);
  registerValidateCommand(program);
  registerActionsCommand(program);
  const audit = registerAuditCommand(program);
  registerInvestigateCommand(program);
  registerAuditReportCommands(audit);
  registerUndoCommand(program);
  registerExpireCommand(program);
  registerQuarantineCommand(program);
  registerDemoCommand(program);
  registerDoctorCommand(program);
  registerRblCommand(program);
  registerHardenCommand(program);
  registerWatchCommand(program);
  // Usage errors anywhere in the tree (audit verify, audit render ...) exit 2, not commander's 1.
  const override = (command: Command): void => {
    command.exitOverride();
    tidyOptionHelp(command);
    for (const sub of command.commands) override(sub);
  };
  override(program);
  return program;
}

async function main(): Promise<void> {
  // `runbook ... | head` (or a closed terminal) stops the reader, not the run: a remediation
  // half done because nobody reads its output any more would be worse than lost output. Later
  // writes are dropped; the audit log still gets everything.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'EIO') {
        stream.write = (() => true) as typeof stream.write;
        return;
      }
      throw error;
    });
  }
  // `--version -v`: commander prints --version on sight, so the verbose form is taken first.
  const args = process.argv.slice(2);
  if (args.length === 2 && args.some((a) => a === '--version' || a === '-V') && args.some((a) => a === '-v' || a === '--verbose')) {
    process.exitCode = (await import('./commands/doctor.js')).doctorCommand({});
    return;
  }
  const program = await buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; usage errors exit 2.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    throw error;
  }
}

await main();
