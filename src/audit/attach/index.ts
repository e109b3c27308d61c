import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ensureDirectory } from '../../core/ensure-dir.js';
import { authHint, requestsFor } from './adapters.js';
import { buildAttachContent, type PendingAction } from './content.js';
import { CredentialsError, loadAttachCredentials } from './credentials.js';
import { AttachHttpError, postWithRetry, type RetryOptions } from './http.js';
import { describeTarget, parseAttachTarget, type AttachTarget } from './target.js';

export interface AttachOptions extends RetryOptions {
  /** Where credentials and base URLs are read from. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Credentials file; default ~/.config/runbook/credentials.yml. */
  credentialsFile?: string;
  /** Where to leave the report when posting fails. Default: beside the log. */
  fallbackDir?: string;
  /** What the run left for a human and the command that does it; posted with the report. */
  pending?: PendingAction;
}

export type AttachFailure = 'credentials' | 'auth' | 'rejected' | 'unreachable';

export interface AttachResult {
  ok: boolean;
  /** One line for the operator: what was posted, or what failed and what to do. */
  message: string;
  target: string;
  /** The chain head included in every post. */
  head: string;
  chainVerified: boolean;
  posted: { description: string; status: number; attempts: number }[];
  failure?: AttachFailure;
  error?: string;
  /** Set when posting failed and the report could be saved: where it was left for attaching by hand. */
  reportPath?: string;
}

/** Exit codes of `runbook audit attach` (and the attach part of `apply --incident`). */
export const ATTACH_EXIT = {
  ok: 0,
  /** The service could not be reached or failed after retries; the report is on disk. */
  failed: 1,
  /** Bad target or unreadable log. */
  usage: 2,
  /** Credentials missing, or refused by the service (401/403). */
  credentials: 6,
} as const;

export function attachExitCode(result: AttachResult): number {
  if (result.ok) return ATTACH_EXIT.ok;
  return result.failure === 'credentials' || result.failure === 'auth' ? ATTACH_EXIT.credentials : ATTACH_EXIT.failed;
}

/**
 * Leaves the report on disk, beside the log (or in `dir`), else in the temporary directory.
 * Each place's failure is kept, so an operator told it could not be saved learns why.
 */
function saveReport(logPath: string, markdown: string, dir: string | undefined): { path: string } | { error: string } {
  const name = `${logPath.replace(/^.*\//, '').replace(/\.jsonl$/, '')}.report.md`;
  const reasons: string[] = [];
  for (const base of [dir ?? dirname(logPath), tmpdir()]) {
    try {
      // Not a recursive mkdir: under /proc that never returns.
      ensureDirectory(base, 0o700);
      const path = join(base, name);
      writeFileSync(path, markdown, { mode: 0o600 });
      return { path };
    } catch (error) {
      reasons.push((error as Error).message);
    }
  }
  return { error: reasons.join('; ') };
}

/**
 * Posts a run's report to an incident, issue or webhook, with the audit chain head as an
 * off-host anchor. Never throws for a service failure: the result says what happened, and on
 * failure the Markdown report is left on disk (reportPath) for attaching by hand.
 */
export async function attachRun(logPath: string, target: string | AttachTarget, options: AttachOptions = {}): Promise<AttachResult> {
  const parsed = typeof target === 'string' ? parseAttachTarget(target) : target;
  const content = buildAttachContent(logPath, readFileSync(logPath, 'utf8'), options.pending);
  const where = describeTarget(parsed);
  const base: AttachResult = { ok: false, message: '', target: where, head: content.head, chainVerified: content.chainOk, posted: [] };
  const fail = (failure: AttachFailure, error: string): AttachResult => {
    const saved = saveReport(logPath, content.markdown, options.fallbackDir);
    if ('error' in saved) {
      return { ...base, failure, error, message: `could not attach to ${where}: ${error} The report could not be saved either (${saved.error}); write it with 'runbook audit render ${logPath} -o FILE', then attach it by hand or run 'runbook audit attach ${logPath} --to ...' again.` };
    }
    return { ...base, failure, error, reportPath: saved.path, message: `could not attach to ${where}: ${error} The report is saved at ${saved.path}; attach it by hand or run 'runbook audit attach ${logPath} --to ...' again.` };
  };

  let requests;
  try {
    requests = requestsFor(parsed, loadAttachCredentials(options.env ?? process.env, options.credentialsFile), content);
  } catch (error) {
    if (error instanceof CredentialsError) return fail('credentials', error.message);
    throw error;
  }
  for (const request of requests) {
    try {
      const result = await postWithRetry(request, options);
      base.posted.push({ description: request.description, status: result.status, attempts: result.attempts });
    } catch (error) {
      if (!(error instanceof AttachHttpError)) throw error;
      if (error.status === 401 || error.status === 403) return fail('auth', `${error.message}. The service refused the credentials: ${authHint(parsed)}.`);
      if (!error.retryable) return fail('rejected', `${error.message}. Check that ${describeTarget(parsed)} exists and accepts this content.`);
      return fail('unreachable', error.message);
    }
  }
  return { ...base, ok: true, message: `attached to ${where} (chain head ${content.head})` };
}

export { parseAttachTarget, describeTarget, TARGET_FORMS, AttachTargetError } from './target.js';
export type { AttachTarget } from './target.js';
export type { PendingAction } from './content.js';
export { CREDENTIAL_ENV, CredentialsError, loadAttachCredentials } from './credentials.js';
