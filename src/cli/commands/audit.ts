import { verifySignedLog } from '../../audit/sign.js';
import { verifyAuditLog } from '../../audit/verify.js';
import { listAuditRuns } from '../../audit/list.js';
import { safeLine } from '../../core/text.js';
import { FileReadError } from '../../core/read-error.js';
import { EXIT } from '../../engine/exit-codes.js';
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

/** `runbook audit list [DIR]`: past runs, oldest first. */
export function auditListCommand(dir: string, flags: { json?: boolean }): number {
  try {
    let runs;
    try {
      runs = listAuditRuns(dir);
    } catch (error) {
      throw new FileReadError('the audit directory', dir, error);
    }
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ ok: true, dir, runs }, null, 2)}\n`);
      return EXIT.ok;
    }
    if (runs.length === 0) {
      process.stdout.write(`No runs recorded in ${safeLine(dir)}.\n`);
      return EXIT.ok;
    }
    const rows = [
      ['TIME', 'PLAYBOOK', 'MODE', 'HOSTS', 'OUTCOME', 'VERIFIED', 'LOG'],
      ...runs.map((r) => [
        r.time?.replace(/\.\d+Z$/, 'Z') ?? '?',
        r.playbook ?? '?',
        r.mode ?? '?',
        r.hosts.length > 3 ? `${r.hosts.slice(0, 3).join(',')},+${r.hosts.length - 3}` : r.hosts.join(',') || '-',
        r.exitCode === null ? r.outcome : `${r.outcome} (${r.exitCode})`,
        r.verified ? 'yes' : 'no',
        r.file,
      ].map((cell) => safeLine(cell))),
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
    for (const row of rows) process.stdout.write(`${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}\n`);
    return EXIT.ok;
  } catch (error) {
    return reportError(error, flags.json === true);
  }
}
