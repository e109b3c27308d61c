/** `runbook audit verify` and `audit list`: declared at start-up, loaded when they run. */
import type { Command } from 'commander';

export function registerAuditCommand(program: Command): Command {
  const audit = program.command('audit').description('Work with audit logs: verify, render, attach');
  audit
    .command('verify')
    .description('Check the hash chain of an audit log and report the first broken record')
    .argument('<log>', 'audit log (JSONL)')
    .option('--pubkey <file>', 'also check the Ed25519 signature of the run summary (outcome and chain head) with this public key')
    .option('--json', 'machine-readable result')
    .addHelpText('after', '\nExit codes: 0 intact · 5 broken, truncated, unsigned or wrongly signed · 2 bad usage')
    .action(async (file: string, flags: { json?: boolean; pubkey?: string }) => {
      process.exitCode = await (await import('../commands/audit.js')).auditVerifyCommand(file, flags);
    });
  audit
    .command('list')
    .description('List past runs in an audit directory: time, playbook, hosts, outcome and whether the log verifies')
    .argument('[dir]', 'audit directory', 'runbook-audit')
    .option('--json', 'machine-readable list')
    .addHelpText('after', "\nA log that does not verify says no under VERIFIED; 'runbook audit verify LOG' says where it breaks.\nExit codes: 0 listed · 2 the directory cannot be read")
    .action(async (dir: string, flags: { json?: boolean }) => {
      process.exitCode = (await import('../commands/audit.js')).auditListCommand(dir, flags);
    });
  return audit;
}
