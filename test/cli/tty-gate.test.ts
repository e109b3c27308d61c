import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/records.js';
import { demoContainScript } from '../support/demo-contain.js';
import { hashHostState } from '../support/state-hash.js';
import { runOnTty } from './run-cli.js';

const GATE_PROMPT = "Type 'yes' to continue";

const demoWithPlaybook = () => demoContainScript('runbook-tty-');

function lastLog(dir: string): AuditRecord[] {
  const name = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort().at(-1)!;
  return readFileSync(join(dir, name), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
}

describe('progress on a terminal without a size', () => {
  it('is written line by line instead of redrawn one character per line', async () => {
    const demo = await demoWithPlaybook();
    // `script` gives the run a pseudo-terminal of 0 columns.
    const r = await runOnTty(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '--audit-dir', demo.auditDir], '\u0000 no prompt', '', demo.env);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/Find the spam source: mailbox info@shop\.example\.test/);
    expect(r.output).not.toMatch(/\n {2}P\r?\n {2}l\r?\n/);
  });
});

describe('confirmation gates on a terminal', () => {
  it('shows the question and applies only after the operator types yes', async () => {
    const demo = await demoWithPlaybook();
    const r = await runOnTty(['apply', demo.playbook, '--host', 'demo', '--audit-dir', demo.auditDir], GATE_PROMPT, 'yes', demo.env);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain('chmod 000 the spam script?');
    expect(statSync(demo.script).mode & 0o777).toBe(0);
    const gate = lastLog(demo.auditDir).find((x) => x.type === 'gate');
    expect(gate).toMatchObject({ answer: 'accepted', by: expect.stringMatching(/^tty:/) });
  });

  it('anything but yes declines: nothing changes, exit 3, recorded', async () => {
    const demo = await demoWithPlaybook();
    const before = hashHostState(demo.root);
    const r = await runOnTty(['apply', demo.playbook, '--host', 'demo', '--audit-dir', demo.auditDir], GATE_PROMPT, 'no', demo.env);
    expect(r.code, r.output).toBe(3);
    expect(hashHostState(demo.root)).toBe(before);
    const log = lastLog(demo.auditDir);
    expect(log.find((x) => x.type === 'gate')).toMatchObject({ answer: 'declined' });
    expect(log.at(-1)).toMatchObject({ type: 'run.summary', status: 'declined' });
  });
});
