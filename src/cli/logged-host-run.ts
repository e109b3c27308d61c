/**
 * What the commands that act on the hosts their audit logs name (undo, expire, quarantine
 * prune) share once they have a plan to run: the summary signer (asked before the audit log
 * exists, so a bad key leaves nothing behind), their own audit log, progress on stderr, where a
 * generated secret would go, and the plan shown before any gate. Each command adds what is its
 * own (targets, gates, the run itself).
 */
import { dirname, join } from 'node:path';
import { AuditWriter } from '../audit/writer.js';
import type { RunOptions } from '../engine/run.js';
import { renderPlan } from './render/plan.js';
import { plainProgress, type ProgressView } from './render/progress.js';
import { auditFileName } from './run-support.js';
import { createSecretDelivery, fallbackSecretsFile } from './secrets.js';
import { summarySigner, type SigningFlags } from './signing-key.js';
import type { Style } from './style.js';
import { VERSION } from './version.js';

export interface LoggedHostRunSetup {
  /** The run's playbook name: the audit log's file name and the plan's title. */
  name: string;
  auditDir: string;
  argv: string[];
  json: boolean;
  dryRun: boolean;
  /** The hosts the plan covers, as the plan shows them. */
  hosts: string[];
  style: Style;
  errStyle: Style;
  signal: AbortSignal;
  signing: SigningFlags;
  /** Where secrets go: a file the operator named, else the terminal when there is one, else beside the log. */
  secrets?: { file?: string; interactive: boolean };
}

export interface LoggedHostRun {
  auditPath: string;
  audit: AuditWriter;
  progress: ProgressView;
  /** The run options every one of these commands passes the same way. */
  options: Pick<RunOptions, 'audit' | 'argv' | 'toolVersion' | 'observer' | 'signal' | 'signSummary' | 'deliverSecret' | 'onPlan'>;
}

export async function openLoggedHostRun(s: LoggedHostRunSetup): Promise<LoggedHostRun> {
  const signSummary = await summarySigner(s.signing);
  const auditPath = join(s.auditDir, auditFileName(s.name));
  const audit = AuditWriter.create(auditPath);
  const progress = plainProgress(process.stderr, s.errStyle, s.json);
  return {
    auditPath,
    audit,
    progress,
    options: {
      audit,
      argv: s.argv,
      toolVersion: VERSION,
      observer: (event) => progress.observer(event),
      signal: s.signal,
      ...(signSummary ? { signSummary } : {}),
      deliverSecret: createSecretDelivery({
        ...(s.secrets?.file ? { secretsFile: s.secrets.file } : {}),
        fallbackFile: fallbackSecretsFile(auditPath),
        interactive: s.secrets?.interactive ?? false,
        emergencyDir: dirname(auditPath),
      }),
      onPlan: async (p) => {
        await progress.end();
        if (!s.json) process.stdout.write(`${renderPlan(p, { playbook: s.name, dryRun: s.dryRun, hosts: s.hosts }, s.style)}\n\n`);
      },
    },
  };
}
