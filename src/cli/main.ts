#!/usr/bin/env node
// First: signals exit 130 while the rest of the program is still loading.
import './stop-signals.js';
import { Command, CommanderError } from 'commander';
import { runExamples } from '../actions/registry.js';
import { registerActionsCommand } from './commands/actions.js';
import { registerApplyCommand } from './commands/apply.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerExpireCommand } from './commands/expire.js';
import { doctorCommand, registerDoctorCommand } from './commands/doctor.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerAuditReportCommands } from './commands/audit-report.js';
import { registerHardenCommand } from './commands/harden.js';
import { registerInvestigateCommand } from './commands/investigate.js';
import { registerRblCommand } from './commands/rbl.js';
import { registerRunCommand } from './commands/run.js';
import { registerUndoCommand } from './commands/undo.js';
import { registerValidateCommand } from './commands/validate.js';
import { registerWatchCommand } from './commands/watch.js';
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
${runExamples()
  .slice(0, 1)
  .map((e) => `  runbook run ${e.name} --host demo ${e.args} --dry-run\n`)
  .join('')}  runbook actions
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
    process.exitCode = doctorCommand({});
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
