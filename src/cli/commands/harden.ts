/**
 * `runbook harden --check --host H | -i INV`: the read-only check of outgoing-mail limits and
 * CSF alerts (the hardening check action) on each host, through the same path as a dry-run of
 * `apply`. The changes themselves are the shipped playbook `playbooks/harden.yml`.
 */
import { hardenCheck } from '../../actions/harden/check.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pastSpamSources, type PastSpamSource } from '../../harden/past-incidents.js';
import { escapeForDisplay } from '../../parsers/malware-scan.js';
import { reportError, UsageError } from '../errors.js';
import { applyCommand, type ApplyFlags } from './apply.js';
import { adHocPlaybook } from './run.js';

export interface HardenFlags extends ApplyFlags {
  check?: boolean;
}

/** Every audit log in the directory (unreadable ones skipped: the list is a hint, not a verdict). */
function readAuditLogs(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.jsonl'));
  } catch {
    return [];
  }
  const texts: string[] = [];
  for (const name of names) {
    try {
      texts.push(readFileSync(join(dir, name), 'utf8'));
    } catch {
      // a log being written or removed right now
    }
  }
  return texts;
}

/** The accounts behind past spam, with the per-account limit cPanel offers (set by hand). */
export function renderPastSources(sources: readonly PastSpamSource[], dir: string): string {
  if (sources.length === 0) return '';
  const lines = [`Spam sources found by earlier runs (audit logs in ${escapeForDisplay(dir)}):`];
  for (const s of sources.slice(0, 20)) {
    const account = s.account !== undefined ? `account ${escapeForDisplay(s.account)}, ` : '';
    lines.push(`  ${escapeForDisplay(s.host)}: ${s.kind} ${escapeForDisplay(s.source)} (${account}${s.runs} run(s), last ${s.last.slice(0, 10)})`);
  }
  if (sources.length > 20) lines.push(`  … and ${sources.length - 20} more`);
  lines.push(
    '  Consider a lower hourly limit for these accounts: MAX_EMAIL_PER_HOUR=<n> in /var/cpanel/users/<account>,',
    '  then /usr/local/cpanel/scripts/updateuserdomains (not changed by runbook).',
  );
  return lines.join('\n') + '\n';
}

/** `runbook harden --check`: a dry-run of the check action, then the past sources in text mode. */
export async function hardenCommand(flags: HardenFlags, argv: string[]): Promise<number> {
  if (flags.check !== true) {
    return reportError(new UsageError("runbook harden only checks: add --check. To apply the changes run 'runbook apply playbooks/harden.yml' (undo with 'runbook undo')."), flags.json === true);
  }
  const code = await applyCommand('runbook harden --check', { ...flags, dryRun: true, yes: false }, argv, adHocPlaybook(hardenCheck.name, {}));
  // Text mode only: --json keeps the single document apply prints.
  if (flags.json !== true) process.stdout.write(renderPastSources(pastSpamSources(readAuditLogs(flags.auditDir)), flags.auditDir));
  return code;
}
