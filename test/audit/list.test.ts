import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSpamIncidentLog } from '../audit-report/sample-log.js';
import { listAuditRuns } from '../../src/audit/list.js';
import { runCli } from '../cli/run-cli.js';

function auditDir() {
  const dir = mkdtempSync(join(tmpdir(), 'runbook-audit-list-'));
  const good = writeSpamIncidentLog({ dir });
  // The same run, edited after the fact: listed, but not verified.
  const text = readFileSync(good, 'utf8').replace('web2', 'web9');
  const tampered = join(dir, 'tampered.jsonl');
  writeFileSync(tampered, text);
  // A run cut off before its summary.
  const cut = join(dir, 'cut.jsonl');
  writeFileSync(cut, `${readFileSync(good, 'utf8').trim().split('\n').slice(0, -1).join('\n')}\n`);
  writeFileSync(join(dir, 'notes.txt'), 'not a log');
  return { dir, good, tampered, cut };
}

describe('runbook audit list', () => {
  it('lists each run with time, playbook, hosts, outcome and whether it verifies', () => {
    const { dir, good, tampered, cut } = auditDir();
    const runs = listAuditRuns(dir);
    expect(runs.map((r) => r.file).sort()).toEqual([cut, good, tampered].sort());
    const byFile = new Map(runs.map((r) => [r.file, r]));
    expect(byFile.get(good)).toMatchObject({ playbook: 'spam-incident', hosts: ['web1', 'web2'], outcome: 'failed', exitCode: 1, verified: true });
    expect(byFile.get(good)!.time).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(byFile.get(tampered)).toMatchObject({ verified: false, problem: expect.stringMatching(/^line \d+/) });
    expect(byFile.get(cut)).toMatchObject({ outcome: 'unfinished', exitCode: null, verified: false });
  });

  it('prints a table and JSON, and a missing directory is a usage error', async () => {
    const { dir, good } = auditDir();
    const text = await runCli(['audit', 'list', dir]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.split('\n')[0]).toMatch(/^TIME +PLAYBOOK +MODE +HOSTS +OUTCOME +VERIFIED +LOG$/);
    expect(text.stdout).toMatch(new RegExp(`spam-incident +\\S+ +web1,web2 +failed \\(1\\) +yes +${good}`));
    expect(text.stdout).toMatch(/unfinished +no /);
    const json = await runCli(['audit', 'list', dir, '--json']);
    expect((JSON.parse(json.stdout) as { runs: unknown[] }).runs).toHaveLength(3);
    const missing = await runCli(['audit', 'list', join(dir, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read the audit directory');
  });
});
