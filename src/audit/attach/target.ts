import { Secret } from '../../core/secret.js';

/** Where a run's report goes: parsed from `--to` / `--incident` values. */
export type AttachTarget =
  | { kind: 'webhook'; url: string }
  /** A Slack incoming webhook: its URL is its only credential, so it is held as a Secret. */
  | { kind: 'slack'; url: Secret }
  | { kind: 'pagerduty'; incidentId: string }
  | { kind: 'jira'; issueKey: string }
  | { kind: 'github'; owner: string; repo: string; issue: number };

export const TARGET_FORMS = 'webhook:URL, slack:HOOK_URL, pagerduty:INCIDENT_ID, jira:ISSUE_KEY or github:OWNER/REPO#N';

export class AttachTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AttachTargetError';
  }
}

/** Parses `kind:value`. Strict patterns: the value ends up in a URL path. */
export function parseAttachTarget(text: string): AttachTarget {
  const colon = text.indexOf(':');
  const kind = colon < 0 ? '' : text.slice(0, colon);
  const value = colon < 0 ? '' : text.slice(colon + 1);
  switch (kind) {
    case 'webhook': {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        throw new AttachTargetError(`webhook target ${JSON.stringify(value)} is not a URL; use webhook:https://host/path`);
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AttachTargetError(`webhook URL must be http(s): ${url.protocol}`);
      if (url.username !== '' || url.password !== '') {
        throw new AttachTargetError('webhook URL must not carry credentials (they would end up in the audit log and shell history); set RUNBOOK_WEBHOOK_TOKEN instead');
      }
      return { kind: 'webhook', url: url.href };
    }
    case 'slack': {
      // Whoever has the URL can post to the channel: it is registered as a secret at once, so
      // every sink (audit log, argv in its header, messages, --json) shows [redacted] instead,
      // and no error here repeats it.
      const raw = new Secret(value);
      let url: URL;
      try {
        url = new URL(raw.reveal());
      } catch {
        throw new AttachTargetError('the Slack target is not a URL; use slack:https://hooks.slack.com/services/... (the incoming webhook URL Slack gave you)');
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AttachTargetError(`Slack webhook URL must be http(s), not ${url.protocol}`);
      if (url.username !== '' || url.password !== '') throw new AttachTargetError('Slack webhook URL must not carry a user or password');
      return { kind: 'slack', url: url.href === raw.reveal() ? raw : new Secret(url.href) };
    }
    case 'pagerduty':
      if (!/^[A-Z0-9]{2,32}$/i.test(value)) throw new AttachTargetError(`PagerDuty incident id ${JSON.stringify(value)} is not valid; use pagerduty:PABC123`);
      return { kind: 'pagerduty', incidentId: value };
    case 'jira':
      if (!/^[A-Z][A-Z0-9_]{0,30}-[1-9]\d{0,9}$/.test(value)) throw new AttachTargetError(`Jira issue key ${JSON.stringify(value)} is not valid; use jira:OPS-123`);
      return { kind: 'jira', issueKey: value };
    case 'github': {
      const m = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})#([1-9]\d{0,9})$/.exec(value);
      if (m === null || m[2] === '.' || m[2] === '..') throw new AttachTargetError(`GitHub issue ${JSON.stringify(value)} is not valid; use github:OWNER/REPO#123`);
      return { kind: 'github', owner: m[1]!, repo: m[2]!, issue: Number(m[3]) };
    }
    default:
      // Only the kind is repeated: a mistyped `slack:` prefix must not echo the hook URL.
      throw new AttachTargetError(`${colon < 0 ? 'attach target has no kind' : `unknown attach target kind ${JSON.stringify(kind)}`}; use ${TARGET_FORMS}`);
  }
}

export function describeTarget(target: AttachTarget): string {
  switch (target.kind) {
    case 'webhook':
      return `webhook ${new URL(target.url).origin}`;
    case 'slack':
      // The origin only: the path is the credential.
      return `Slack webhook at ${new URL(target.url.reveal()).host}`;
    case 'pagerduty':
      return `PagerDuty incident ${target.incidentId}`;
    case 'jira':
      return `Jira issue ${target.issueKey}`;
    case 'github':
      return `GitHub issue ${target.owner}/${target.repo}#${target.issue}`;
  }
}
