/** `runbook audit render` and `audit attach`: declared at start-up, loaded when they run. */
import type { Command } from 'commander';
import type { AttachFlags, RenderFlags } from '../commands/audit-report.js';
import { TARGET_FORMS } from '../../audit/attach/target.js';
import { loadForHelp } from '../lazy-help.js';

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
      process.exitCode = await (await import('../commands/audit-report.js')).auditRenderCommand(log, flags);
    });

  audit
    .command('attach')
    .description('Post a run report to an incident, issue or webhook, with the audit chain head as an off-host anchor')
    .argument('<log>', 'audit log (JSONL)')
    .requiredOption('--to <target>', TARGET_FORMS)
    .option('--credentials <file>', 'credentials file (default ~/.config/runbook/credentials.yml, must be mode 0600)')
    .option('--json', 'machine-readable result')
    .addHelpText('after', () => {
      const { CREDENTIAL_ENV } = loadForHelp<typeof import('../../audit/attach/credentials.js')>('../audit/attach/credentials.js');
      return `
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
2 bad target or unreadable log · 6 credentials missing or refused (the message names the variable)`;
    })
    .action(async (log: string, flags: AttachFlags) => {
      process.exitCode = await (await import('../commands/audit-report.js')).auditAttachCommand(log, flags);
    });
}
