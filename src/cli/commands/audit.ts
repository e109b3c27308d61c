import { Command } from 'commander';
import { verifySignedLog } from '../../audit/sign.js';
import { verifyAuditLog } from '../../audit/verify.js';
import { EXIT } from '../../engine/run.js';
import { reportError } from '../errors.js';
import { printJson } from '../render/json.js';
import { safeForTerminal } from '../../core/terminal-safe.js';

export async function auditVerifyCommand(file: string, flags: { json?: boolean; pubkey?: string }): Promise<number> {
  try {
    const result = await verifyAuditLog(file);
    let signature: { ok: boolean; problems: string[] } | undefined;
    if (flags.pubkey) {
      signature = verifySignedLog(file, flags.pubkey);
    }
    const ok = result.ok && (signature?.ok ?? true);
    // A signature is only worth something checked against a trusted key: never call it valid unchecked.
    const last = result.records.at(-1);
    const unchecked = signature === undefined && last?.type === 'run.summary' && last.signature !== undefined;
    const signatureNote = signature ? ', signature valid' : unchecked ? '; signature present, not checked: pass --pubkey' : '';
    if (flags.json) {
      printJson({ ok, file, records: result.records.length, head: result.head, complete: result.complete, problem: result.problem, ...(result.torn ? { torn: true } : {}), ...(signature ? { signature } : unchecked ? { signature: { present: true, checked: false, hint: 'pass --pubkey' } } : {}) });
    } else if (ok) {
      process.stdout.write(`${safeForTerminal(file)}: ok — ${result.records.length} records, chain head ${result.head}${signatureNote}\n`);
    } else {
      if (result.problem) process.stderr.write(`${safeForTerminal(file)}:${result.problem.line}: ${safeForTerminal(result.problem.message)}\n`);
      for (const p of signature?.problems ?? []) process.stderr.write(`${safeForTerminal(file)}: signature: ${safeForTerminal(p)}\n`);
      if (result.torn && (signature?.ok ?? true)) process.stderr.write(`${safeForTerminal(file)}: INCOMPLETE (${result.records.length} records intact; the chain shows no tampering)\n`);
      else process.stderr.write(`${safeForTerminal(file)}: FAILED verification (${result.records.length} records intact before the break)\n`);
    }
    return ok ? EXIT.ok : EXIT.audit;
  } catch (error) {
    return reportError(error, flags.json === true);
  }
}

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
      process.exitCode = await auditVerifyCommand(file, flags);
    });
  return audit;
}
