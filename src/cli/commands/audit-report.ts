import { writeFileSync } from 'node:fs';
import { attachExitCode, attachRun, AttachTargetError, parseAttachTarget } from '../../audit/attach/index.js';
import { checkChain, readAuditLog, reportVerification } from '../../audit/read.js';
import { isReportFormat, renderReport, REPORT_FORMATS } from '../../audit/render/index.js';
import { SigningKeyError, verifySignedLog } from '../../audit/sign.js';
import { safeLine } from '../../core/text.js';
import { EXIT } from '../../engine/exit-codes.js';
import { reportError, UsageError } from '../errors.js';
import { printJson } from '../render/json.js';

export interface RenderFlags {
  format: string;
  output?: string;
  pubkey?: string;
}

function readLog(path: string) {
  try {
    return readAuditLog(path);
  } catch (error) {
    throw new UsageError(`cannot read the audit log ${path}: ${(error as Error).message}`);
  }
}

/** `runbook audit render`: 0 rendered from an intact log · 5 rendered, but the log does not verify · 2 usage. */
export async function auditRenderCommand(logPath: string, flags: RenderFlags): Promise<number> {
  try {
    if (!isReportFormat(flags.format)) throw new UsageError(`--format must be one of ${REPORT_FORMATS.join(', ')}, got ${JSON.stringify(flags.format)}`);
    const log = readLog(logPath);
    const chain = checkChain(log);
    const verification = { ...reportVerification(log, chain) };
    let intact = chain.ok;
    if (flags.pubkey) {
      const signed = verifySignedLog(logPath, flags.pubkey);
      const signatureProblems = signed.problems.filter((p) => !verification.problems.includes(p));
      Object.assign(verification, { signatureOk: signed.ok, problems: [...verification.problems, ...signatureProblems] });
      intact = intact && signed.ok;
    }
    const text = renderReport(log.records, flags.format, verification);
    if (flags.output) {
      writeFileSync(flags.output, text, { mode: 0o600 });
      process.stderr.write(`Report written to ${flags.output} (chain head ${log.head}${intact ? '' : '; THE LOG DOES NOT VERIFY, see the report'})\n`);
    } else {
      process.stdout.write(text);
    }
    if (!intact) {
      for (const p of verification.problems) process.stderr.write(`${safeLine(logPath)}: ${safeLine(p)}\n`);
    }
    return intact ? EXIT.ok : EXIT.audit;
  } catch (error) {
    if (error instanceof SigningKeyError) return reportError(new UsageError(error.message), false);
    return reportError(error, false);
  }
}

export interface AttachFlags {
  to: string;
  credentials?: string;
  json?: boolean;
}

/** `runbook audit attach`: exit codes in ATTACH_EXIT (0 · 1 post failed, report kept · 2 usage · 6 credentials). */
export async function auditAttachCommand(logPath: string, flags: AttachFlags): Promise<number> {
  const json = flags.json === true;
  try {
    let target;
    try {
      target = parseAttachTarget(flags.to);
    } catch (error) {
      if (error instanceof AttachTargetError) throw new UsageError(error.message);
      throw error;
    }
    readLog(logPath);
    const result = await attachRun(logPath, target, { ...(flags.credentials ? { credentialsFile: flags.credentials } : {}) });
    if (json) printJson(result);
    else if (result.ok) process.stdout.write(`${safeLine(result.message)}\n`);
    else process.stderr.write(`error: ${safeLine(result.message)}\n`);
    return attachExitCode(result);
  } catch (error) {
    return reportError(error, json);
  }
}

/** Adds `render` and `attach` to the `audit` command. */
