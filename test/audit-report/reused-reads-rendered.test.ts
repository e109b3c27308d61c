import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkChain, readAuditLog } from '../../src/audit/read.js';
import { buildReport } from '../../src/audit/render/index.js';
import { resetDemoHost } from '../../src/hosts/demo.js';
import { runCli } from '../cli/run-cli.js';

/**
 * While planning, a mutating step's plan reads the host (the queue, the CSF files), and an
 * identical read is reused and recorded with reusedFrom. Those command.result records carry
 * the mutating step's id but no step.start precedes them; the report must still show them,
 * or the "not run again" line written for reused reads never reaches a reader.
 */
describe('audit render of a dry-run with reused reads', () => {
  it('shows every command the log records, reused ones marked as not run again', async () => {
    const base = mkdtempSync(join(tmpdir(), 'runbook-reused-'));
    await resetDemoHost(join(base, 'state', 'runbook', 'demo'));
    const log = join(base, 'run.jsonl');
    const r = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '--audit-log', log], { env: { XDG_STATE_HOME: join(base, 'state') } });
    expect(r.code).toBe(0);
    const recorded = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; reusedFrom?: string });
    const results = recorded.filter((x) => x.type === 'command.result');
    expect(results.some((x) => x.reusedFrom !== undefined)).toBe(true);

    const audit = readAuditLog(log);
    const chain = checkChain(audit);
    const report = buildReport(audit.records, { head: chain.head, chainOk: chain.ok, complete: chain.complete, problems: chain.problems });
    const rows = report.steps.flatMap((s) => s.commands);
    expect(rows.length).toBe(results.length);
    expect(rows.filter((c) => c.outcome.includes('not run again')).length).toBe(results.filter((x) => x.reusedFrom !== undefined).length);
  });
});
