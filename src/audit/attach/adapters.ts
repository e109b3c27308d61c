import type { AttachCredentials } from './credentials.js';
import { CREDENTIAL_ENV, CredentialsError } from './credentials.js';
import type { AttachContent } from './content.js';
import type { OutgoingRequest } from './http.js';
import { describeTarget, type AttachTarget } from './target.js';
import { displayText } from '../render/escape.js';

/**
 * Request builders, one per service. Pure: they turn a target, credentials and the content
 * into the requests to send, so tests can check each request's shape exactly.
 */

const PAGERDUTY_NOTE_MAX = 25_000;
const GITHUB_COMMENT_MAX = 65_000;

function trimTo(text: string, max: number, notice: string): string {
  return text.length <= max ? text : `${text.slice(0, max - notice.length - 2)}\n\n${notice}`;
}

function required<T>(value: T | undefined, variable: string, what: string): T {
  if (value === undefined) throw new CredentialsError(`${what} is not set: export ${variable}=... or add it to the credentials file (see 'runbook audit attach --help')`);
  return value;
}

function baseUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

function json(value: unknown): string {
  return JSON.stringify(value);
}

export function webhookRequests(target: Extract<AttachTarget, { kind: 'webhook' }>, creds: AttachCredentials, content: AttachContent): OutgoingRequest[] {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json', 'User-Agent': 'runbook' };
  if (creds.webhook.token) headers.Authorization = `Bearer ${creds.webhook.token.reveal()}`;
  const r = content.report;
  return [{
    description: `POST to the webhook ${new URL(target.url).origin}`,
    url: target.url,
    headers,
    body: json({
      type: 'runbook.audit-report',
      runId: r.run.runId ?? null,
      playbook: r.trigger.playbook?.name ?? null,
      incident: r.trigger.incident ?? null,
      status: r.run.status,
      head: content.head,
      chainVerified: content.chainOk,
      summary: content.brief,
      report: { markdown: content.markdown, html: content.html },
      log: { name: content.logName, jsonl: content.logText },
      ...(content.pending ? { pending: content.pending } : {}),
    }),
  }];
}

const SLACK_SECTION_MAX = 3000;
const SLACK_HEADER_MAX = 150;

/**
 * Slack mrkdwn with no markup of its own: `&`, `<` and `>` are escaped, as Slack asks, so no
 * logged value can mention a channel (`<!channel>`) or hide a link.
 */
export function slackEscape(text: string): string {
  return displayText(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A code block whose body cannot close it early: Slack has no longer fences, so backticks become primes. */
function slackCode(text: string): string {
  return `\`\`\`${slackEscape(text).replace(/`/g, 'ʹ')}\`\`\``;
}

/**
 * A Slack incoming webhook: `{text, blocks}` POSTed to the hook URL, which is the only
 * credential (no header carries one). `text` is the notification's fallback.
 */
export function slackRequests(target: Extract<AttachTarget, { kind: 'slack' }>, content: AttachContent): OutgoingRequest[] {
  const [title = 'runbook run', ...rest] = content.brief.split('\n');
  const details = rest.filter((l) => !l.startsWith('Waiting for a human: ') && !l.startsWith('To finish: '));
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: trimTo(displayText(title), SLACK_HEADER_MAX, '…') } },
    { type: 'section', text: { type: 'mrkdwn', text: trimTo(details.map(slackEscape).join('\n'), SLACK_SECTION_MAX, '[cut; the full report stays with the audit log]') } },
  ];
  if (content.pending) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: trimTo(`*Waiting for a human:* ${slackEscape(content.pending.what)}\nTo finish, review and run:\n${slackCode(content.pending.command)}`, SLACK_SECTION_MAX, '') },
    });
  }
  return [{
    description: describeTarget(target),
    url: target.url.reveal(),
    headers: { 'Content-Type': 'application/json', 'User-Agent': 'runbook' },
    body: json({ text: slackEscape(title), blocks }),
  }];
}

export function pagerdutyRequests(target: Extract<AttachTarget, { kind: 'pagerduty' }>, creds: AttachCredentials, content: AttachContent): OutgoingRequest[] {
  const token = required(creds.pagerduty.token, CREDENTIAL_ENV.pagerdutyToken, 'the PagerDuty API token');
  const from = required(creds.pagerduty.from, CREDENTIAL_ENV.pagerdutyFrom, 'the PagerDuty From address (a PagerDuty user email)');
  return [{
    description: `note on PagerDuty incident ${target.incidentId}`,
    url: `${baseUrl(creds.pagerduty.url)}/incidents/${encodeURIComponent(target.incidentId)}/notes`,
    headers: {
      Authorization: `Token token=${token.reveal()}`,
      From: from,
      Accept: 'application/vnd.pagerduty+json;version=2',
      'Content-Type': 'application/json',
    },
    body: json({ note: { content: trimTo(content.brief, PAGERDUTY_NOTE_MAX, `[cut; full report kept with the audit log; chain head ${content.head}]`) } }),
  }];
}

/** Atlassian Document Format comment: literal text nodes, so nothing in them is markup. */
function adfComment(content: AttachContent, attached: string[]): unknown {
  const paragraph = (text: string) => ({ type: 'paragraph', content: [{ type: 'text', text }] });
  const lines = content.brief.split('\n');
  return {
    body: {
      type: 'doc',
      version: 1,
      content: [
        paragraph(lines[0] ?? 'runbook run'),
        { type: 'bulletList', content: lines.slice(1).map((l) => ({ type: 'listItem', content: [paragraph(l)] })) },
        paragraph(`Attached: ${attached.join(', ')}. Audit chain head (keep as an off-host anchor):`),
        { type: 'codeBlock', content: [{ type: 'text', text: content.head }] },
      ],
    },
  };
}

export function jiraRequests(target: Extract<AttachTarget, { kind: 'jira' }>, creds: AttachCredentials, content: AttachContent): OutgoingRequest[] {
  const base = baseUrl(required(creds.jira.url, CREDENTIAL_ENV.jiraUrl, 'the Jira site URL'));
  const email = required(creds.jira.email, CREDENTIAL_ENV.jiraEmail, 'the Jira account email');
  const token = required(creds.jira.token, CREDENTIAL_ENV.jiraToken, 'the Jira API token');
  const auth = `Basic ${Buffer.from(`${email}:${token.reveal()}`).toString('base64')}`;
  const stem = content.logName.replace(/\.jsonl$/, '');
  const reportName = `${stem}.report.html`;
  const issue = encodeURIComponent(target.issueKey);
  return [
    {
      description: `attachments on Jira issue ${target.issueKey}`,
      url: `${base}/rest/api/3/issue/${issue}/attachments`,
      headers: { Authorization: auth, 'X-Atlassian-Token': 'no-check', Accept: 'application/json' },
      body: () => {
        const form = new FormData();
        form.append('file', new Blob([content.html], { type: 'text/html' }), reportName);
        form.append('file', new Blob([content.logText], { type: 'application/x-ndjson' }), content.logName);
        return form;
      },
    },
    {
      description: `comment on Jira issue ${target.issueKey}`,
      url: `${base}/rest/api/3/issue/${issue}/comment`,
      headers: { Authorization: auth, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: json(adfComment(content, [reportName, content.logName])),
    },
  ];
}

export function githubRequests(target: Extract<AttachTarget, { kind: 'github' }>, creds: AttachCredentials, content: AttachContent): OutgoingRequest[] {
  const token = required(creds.github.token, CREDENTIAL_ENV.githubToken, 'the GitHub token');
  const anchor = `\n\n---\nAudit chain head: \`${content.head}\` (${content.chainOk ? 'chain verified' : 'CHAIN DOES NOT VERIFY'})\n`;
  const body = trimTo(content.markdown, GITHUB_COMMENT_MAX - anchor.length, '_Report cut to fit a GitHub comment; the full report and log stay with the run._') + anchor;
  return [{
    description: `comment on GitHub issue ${target.owner}/${target.repo}#${target.issue}`,
    url: `${baseUrl(creds.github.url)}/repos/${encodeURIComponent(target.owner)}/${encodeURIComponent(target.repo)}/issues/${target.issue}/comments`,
    headers: {
      Authorization: `Bearer ${token.reveal()}`,
      Accept: 'application/vnd.github+json',
      'X-GitHub-Api-Version': '2022-11-28',
      'Content-Type': 'application/json',
      'User-Agent': 'runbook',
    },
    body: json({ body }),
  }];
}

export function requestsFor(target: AttachTarget, creds: AttachCredentials, content: AttachContent): OutgoingRequest[] {
  switch (target.kind) {
    case 'webhook':
      return webhookRequests(target, creds, content);
    case 'slack':
      return slackRequests(target, content);
    case 'pagerduty':
      return pagerdutyRequests(target, creds, content);
    case 'jira':
      return jiraRequests(target, creds, content);
    case 'github':
      return githubRequests(target, creds, content);
  }
}

/** The variable to fix when a service answers 401/403. */
export function authHint(target: AttachTarget): string {
  switch (target.kind) {
    case 'webhook':
      return `check ${CREDENTIAL_ENV.webhookToken}`;
    case 'slack':
      return 'the webhook URL was revoked or its app removed; create a new incoming webhook in Slack and use its URL';
    case 'pagerduty':
      return `check ${CREDENTIAL_ENV.pagerdutyToken} (a REST API key with write access) and ${CREDENTIAL_ENV.pagerdutyFrom} (an existing PagerDuty user's email)`;
    case 'jira':
      return `check ${CREDENTIAL_ENV.jiraEmail} and ${CREDENTIAL_ENV.jiraToken} (an API token of that account, with permission to comment and attach on the issue)`;
    case 'github':
      return `check ${CREDENTIAL_ENV.githubToken} (a token with Issues write access to the repository)`;
  }
}
