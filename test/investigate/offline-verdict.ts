/**
 * The offline verdict of one small incident: its logs written to a fresh directory, then
 * `investigate --json` on them as an operator runs it on files copied off a server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import type { Verdict } from '../../src/investigate/verdict.js';
import { runCli } from '../cli/run-cli.js';
import type { SmallLogs } from './small-logs.js';

export type VerdictOf = (logs: SmallLogs, since?: string, extra?: string[]) => Promise<Verdict>;

/** Call at a test file's top level: the directories it makes are removed after the file's tests. */
export function offlineVerdicts(prefix: string): VerdictOf {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return async (logs, since = '24h', extra = []) => {
    const dir = mkdtempSync(join(tmpdir(), `runbook-${prefix}-`));
    dirs.push(dir);
    const files = logs.write(dir);
    const r = await runCli(['investigate', '--json', '--since', since, '--mainlog', files.mainlog, '--maillog', files.maillog, ...extra]);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { verdict: Verdict }).verdict;
  };
}
