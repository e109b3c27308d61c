import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { attachExitCode, attachRun, AttachTargetError, CREDENTIAL_ENV, parseAttachTarget, TARGET_FORMS } from '../../audit/attach/index.js';
import { checkChain, readAuditLog, reportVerification } from '../../audit/read.js';
import { isReportFormat, renderReport, REPORT_FORMATS } from '../../audit/render/index.js';
import { SigningKeyError, verifySignedLog } from '../../audit/sign.js';
import { safeLine } from '../../core/text.js';
import { EXIT } from '../../engine/run.js';
import { reportError, UsageError } from '../errors.js';
import { printJson } from '../render/json.js';

interface RenderFlags {
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

interface AttachFlags {
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
export function registerAuditReportCommands(audit: Command): void {
  audit
    .command('render')
    .description('Write an incident report of a run: trigger, operator, findings, gates, commands, changes, failures, undo, chain head')
    .argument('<log>', 'audit log (JSONL)')
    .option('--format <format>', `md (tickets), html (one self-contained file, prints cleanly) or json`, 'md')
    .option('-o, --output <file>', 'write the report to this file (mode 0600) instead of stdout')
    .option('--pubkey <file>', 'also check the Ed25519 signature of the run summary (outcome and chain head) and show the result in the report')
    .addHelpText(
      'after',
      `
Everything in the log is treated as hostile: HTML is escaped, Markdown is escaped or fenced,
terminal escapes are removed. The report names the audit chain head; keep it with the incident.

Examples:
  runbook audit render runbook-audit/20250301T100000Z-spam-incident-123.jsonl --format html -o incident.html
  runbook audit render LOG --format md | pbcopy

Exit codes: 0 rendered from an intact log · 5 rendered, but the log does not verify (or the
signature check failed; the report says why) · 2 bad usage or unreadable log`,
    )
    .action(async (log: string, flags: RenderFlags) => {
      process.exitCode = await auditRenderCommand(log, flags);
    });

  audit
    .command('attach')
    .description('Post a run report to an incident, issue or webhook, with the audit chain head as an off-host anchor')
    .argument('<log>', 'audit log (JSONL)')
    .requiredOption('--to <target>', TARGET_FORMS)
    .option('--credentials <file>', 'credentials file (default ~/.config/runbook/credentials.yml, must be mode 0600)')
    .option('--json', 'machine-readable result')
    .addHelpText(
      'after',
      `
Targets and what is posted:
  webhook:URL             JSON POST: summary, Markdown and HTML report, the raw log, chain head
  slack:HOOK_URL          Slack incoming webhook: {text, blocks} with the summary and chain head
  pagerduty:INCIDENT_ID   incident note (summary and chain head)
  jira:ISSUE_KEY          HTML report and raw log as attachments, plus a comment
  github:OWNER/REPO#N     issue comment with the Markdown report

Credentials come only from the environment or the credentials file, never from the command line:
  ${CREDENTIAL_ENV.webhookToken} (optional bearer token)
  ${CREDENTIAL_ENV.pagerdutyToken}, ${CREDENTIAL_ENV.pagerdutyFrom} (a PagerDuty user's email), ${CREDENTIAL_ENV.pagerdutyUrl}
  ${CREDENTIAL_ENV.jiraUrl}, ${CREDENTIAL_ENV.jiraEmail}, ${CREDENTIAL_ENV.jiraToken}
  ${CREDENTIAL_ENV.githubToken} (or GITHUB_TOKEN), ${CREDENTIAL_ENV.githubUrl} (GitHub Enterprise)
The file holds the same values in sections: pagerduty: {token, from, url}, jira: {url, email,
token}, github: {token, url}, webhook: {token}.
A Slack hook URL is its own credential: runbook shows it as [redacted] everywhere (audit log,
messages, --json), but a shell keeps its history; 'runbook watch' reads it from its config file.

Network errors, timeouts, 429 and 5xx are retried with backoff (4 attempts); other answers are not.
When posting fails the Markdown report is saved beside the log and its path printed.

Exit codes: 0 posted · 1 not posted (service unreachable or rejected it; report saved) ·
2 bad target or unreadable log · 6 credentials missing or refused (the message names the variable)`,
    )
    .action(async (log: string, flags: AttachFlags) => {
      process.exitCode = await auditAttachCommand(log, flags);
    });
}
