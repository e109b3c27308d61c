import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Secret } from '../../core/secret.js';

/**
 * Credentials and base URLs for attach targets. They come ONLY from environment variables or
 * a private config file, never from argv (visible in `ps` and shell history) and never from
 * the audit log. Environment wins over the file.
 *
 *   ~/.config/runbook/credentials.yml (mode 0600; RUNBOOK_CREDENTIALS overrides the path)
 *     pagerduty: { token: ..., from: oncall@example.com, url: https://api.pagerduty.com }
 *     jira:      { url: https://acme.atlassian.net, email: ..., token: ... }
 *     github:    { token: ..., url: https://api.github.com }
 *     webhook:   { token: ... }
 */

export interface AttachCredentials {
  webhook: { token?: Secret };
  pagerduty: { token?: Secret; from?: string; url: string };
  jira: { url?: string; email?: string; token?: Secret };
  github: { token?: Secret; url: string };
}

/** Which variable sets each value: named in errors so the operator knows what to set. */
export const CREDENTIAL_ENV = {
  webhookToken: 'RUNBOOK_WEBHOOK_TOKEN',
  pagerdutyToken: 'RUNBOOK_PAGERDUTY_TOKEN',
  pagerdutyFrom: 'RUNBOOK_PAGERDUTY_FROM',
  pagerdutyUrl: 'RUNBOOK_PAGERDUTY_URL',
  jiraUrl: 'RUNBOOK_JIRA_URL',
  jiraEmail: 'RUNBOOK_JIRA_EMAIL',
  jiraToken: 'RUNBOOK_JIRA_TOKEN',
  githubToken: 'RUNBOOK_GITHUB_TOKEN',
  githubUrl: 'RUNBOOK_GITHUB_URL',
  file: 'RUNBOOK_CREDENTIALS',
} as const;

export class CredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsError';
  }
}

export function defaultCredentialsPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return env[CREDENTIAL_ENV.file] ?? join(base, 'runbook', 'credentials.yml');
}

type Section = Record<string, unknown>;

function readFileSections(path: string, explicit: boolean): Record<string, Section> {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat === undefined) {
    if (explicit) throw new CredentialsError(`credentials file ${path} does not exist`);
    return {};
  }
  if ((stat.mode & 0o077) !== 0) {
    throw new CredentialsError(`credentials file ${path} is readable by group or others (mode ${(stat.mode & 0o777).toString(8)}); run 'chmod 600 ${path}' and try again`);
  }
  if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) {
    throw new CredentialsError(`credentials file ${path} belongs to another user (uid ${stat.uid}); use your own file`);
  }
  let data: unknown;
  try {
    data = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CredentialsError(`credentials file ${path} is not valid YAML: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new CredentialsError(`credentials file ${path} must be a mapping of sections (pagerduty, jira, github, webhook)`);
  const out: Record<string, Section> = {};
  for (const [name, value] of Object.entries(data as Record<string, unknown>)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) out[name] = value as Section;
  }
  return out;
}

function pick(env: NodeJS.ProcessEnv, variable: string, section: Section | undefined, field: string): string | undefined {
  const fromEnv = env[variable];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const fromFile = section?.[field];
  return typeof fromFile === 'string' && fromFile !== '' ? fromFile : undefined;
}

function secret(value: string | undefined): Secret | undefined {
  return value === undefined ? undefined : new Secret(value);
}

export function loadAttachCredentials(env: NodeJS.ProcessEnv = process.env, file?: string): AttachCredentials {
  const path = file ?? defaultCredentialsPath(env);
  const sections = readFileSections(path, file !== undefined || env[CREDENTIAL_ENV.file] !== undefined);
  const E = CREDENTIAL_ENV;
  return {
    webhook: { ...opt('token', secret(pick(env, E.webhookToken, sections.webhook, 'token'))) },
    pagerduty: {
      ...opt('token', secret(pick(env, E.pagerdutyToken, sections.pagerduty, 'token'))),
      ...opt('from', pick(env, E.pagerdutyFrom, sections.pagerduty, 'from')),
      url: pick(env, E.pagerdutyUrl, sections.pagerduty, 'url') ?? 'https://api.pagerduty.com',
    },
    jira: {
      ...opt('url', pick(env, E.jiraUrl, sections.jira, 'url')),
      ...opt('email', pick(env, E.jiraEmail, sections.jira, 'email')),
      ...opt('token', secret(pick(env, E.jiraToken, sections.jira, 'token'))),
    },
    github: {
      ...opt('token', secret(pick(env, E.githubToken, sections.github, 'token') ?? (env.GITHUB_TOKEN || undefined))),
      url: pick(env, E.githubUrl, sections.github, 'url') ?? 'https://api.github.com',
    },
  };
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
