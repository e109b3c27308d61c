/**
 * The runs recorded in an audit directory, one line each: when, which playbook, on which hosts,
 * how it ended and whether its hash chain verifies. Reads only; a log that cannot be parsed is
 * listed as unverified rather than skipped, so nothing recorded goes missing from the list.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { whyUnreadable } from '../core/read-error.js';
import { checkChain, readAuditLog } from './read.js';
import type { HeaderRecord } from './records.js';

export interface AuditRun {
  file: string;
  /** When the run started (the header's time), ISO-8601 UTC; null when the log has no header. */
  time: string | null;
  playbook: string | null;
  mode: HeaderRecord['mode'] | null;
  hosts: string[];
  /** The summary's status, or `unfinished` when the log has no summary (crash, cut tail). */
  outcome: string;
  exitCode: number | null;
  /** The hash chain holds and a summary closes it. */
  verified: boolean;
  /** Why it does not verify; absent when it does. */
  problem?: string;
}

export function listAuditRuns(dir: string): AuditRun[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
  const runs = files.map((name): AuditRun => {
    const file = join(dir, name);
    let log;
    try {
      log = readAuditLog(file);
    } catch (error) {
      return { file, time: null, playbook: null, mode: null, hosts: [], outcome: 'unreadable', exitCode: null, verified: false, problem: whyUnreadable(error) };
    }
    const chain = checkChain(log);
    const header = log.records.find((r): r is HeaderRecord => r.type === 'run.header');
    const problem = chain.problems[0] ?? log.problems[0];
    return {
      file,
      time: header?.ts ?? null,
      playbook: header?.playbook.name ?? null,
      mode: header?.mode ?? null,
      hosts: header?.hosts ?? [],
      outcome: chain.summary?.status ?? 'unfinished',
      exitCode: chain.summary?.exitCode ?? null,
      verified: chain.ok,
      ...(chain.ok || problem === undefined ? {} : { problem }),
    };
  });
  return runs.sort((a, b) => (a.time ?? '').localeCompare(b.time ?? '') || a.file.localeCompare(b.file));
}
