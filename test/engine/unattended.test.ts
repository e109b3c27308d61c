import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Action } from '../../src/actions/types.js';
import type { AuditRecord } from '../../src/audit/records.js';
import { verifyAuditLog } from '../../src/audit/verify.js';
import { AuditWriter } from '../../src/audit/writer.js';
import { EXIT, runPlaybook } from '../../src/engine/run.js';
import type { Gatekeeper } from '../../src/engine/types.js';
import { CPANEL_LAYOUT, CPANEL_TOOL_PATHS } from '../../src/hosts/types.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { LocalTransport } from '../../src/transport/local.js';
import { appendAction, testRegistry } from './test-actions.js';

/** Nobody is there to answer: an unattended run that asks fails the test. */
const noHuman: Gatekeeper = {
  async ask() {
    throw new Error('an unattended run asked a gate');
  },
};

/**
 * A gate, then a reversible change (the hold), an irreversible one (the password reset: a
 * new secret), and an irreversible step that needs the hold's outputs (deferred at planning).
 */
const mixed = (dir: string) => `
name: mixed
steps:
  - id: ask
    action: confirm
    with: { message: "Contain?" }
  - id: hold
    action: test.write
    with: { path: ${dir}/hold.txt, content: "held" }
  - id: reset
    action: test.secret
    with: { path: ${dir}/password.txt }
  - id: later
    action: test.append
    with: { path: ${dir}/log.txt, line: "wrote \${{ steps.hold.written }}" }
`;

async function runUnattended(registry: Map<string, Action>, dryRun = false) {
  const dir = mkdtempSync(join(tmpdir(), 'runbook-unattended-'));
  writeFileSync(join(dir, 'log.txt'), '');
  const playbook = parsePlaybook(join(dir, 'pb.yml'), mixed(dir), registry);
  const auditPath = join(dir, 'audit', 'run.jsonl');
  const audit = AuditWriter.create(auditPath);
  const report = await runPlaybook({
    playbook,
    inputs: {},
    targets: [{ name: 'local', connect: async () => ({ name: 'local', transport: new LocalTransport(), tools: CPANEL_TOOL_PATHS, layout: CPANEL_LAYOUT, vars: {} }) }],
    registry,
    dryRun,
    unattended: true,
    gatekeeper: noHuman,
    audit,
    argv: ['watch'],
    toolVersion: 'test',
    observer: () => {},
    signal: new AbortController().signal,
    deliverSecret: async () => {
      throw new Error('an unattended run has nobody to hand a secret to');
    },
  });
  audit.close();
  const records = readFileSync(auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
  return { dir, report, records, auditPath };
}

describe('unattended runs', () => {
  it('make the reversible change, refuse the irreversible ones at planning, ask no gate, and say why in the log', async () => {
    const { dir, report, records, auditPath } = await runUnattended(testRegistry());
    expect(report.exitCode).toBe(EXIT.ok);
    expect(readFileSync(join(dir, 'hold.txt'), 'utf8')).toBe('held');
    expect(existsSync(join(dir, 'password.txt'))).toBe(false);
    expect(readFileSync(join(dir, 'log.txt'), 'utf8')).toBe('');

    const header = records[0];
    expect(header?.type === 'run.header' && header.unattended).toBe(true);
    // Refused while planning: a note per refused step comes before the plan record.
    const planAt = records.findIndex((r) => r.type === 'plan');
    const refusals = records.flatMap((r, i) => (r.type === 'note' && r.message.startsWith('refused:') ? [{ step: r.step, i, message: r.message }] : []));
    expect(refusals.map((r) => r.step)).toEqual(['reset', 'later']);
    for (const r of refusals) {
      expect(r.i).toBeLessThan(planAt);
      expect(r.message).toMatch(/waiting for a human: test\.(secret|append) cannot be undone, and an unattended run makes only reversible changes/);
    }
    const plan = records[planAt];
    expect(plan?.type === 'plan' && plan.steps.map((s) => [s.step, s.commands.length, s.skipped?.startsWith('waiting for a human') ?? false])).toEqual([
      ['ask', 0, false],
      ['hold', 1, false],
      ['reset', 0, true],
      ['later', 0, true],
    ]);
    // No command of a refused step was ever written, not even its intent.
    const intents = records.filter((r) => r.type === 'command.intent').map((r) => (r.type === 'command.intent' ? r.step : ''));
    expect(new Set(intents)).toEqual(new Set(['hold']));

    const gates = records.filter((r) => r.type === 'gate');
    expect(gates).toHaveLength(1);
    expect(gates[0]).toMatchObject({ gate: 'ask', answer: 'accepted', by: 'unattended' });
    expect(gates[0]?.type === 'gate' && gates[0].reason).toContain('waiting for a human: reset, later');

    const finishes = Object.fromEntries(records.flatMap((r) => (r.type === 'step.finish' ? [[r.step, r]] : [])));
    expect(finishes.hold).toMatchObject({ status: 'changed' });
    expect(finishes.reset).toMatchObject({ status: 'skipped' });
    expect(finishes.reset?.type === 'step.finish' && finishes.reset.summary).toMatch(/^waiting for a human/);
    const summary = records.at(-1);
    expect(summary).toMatchObject({ type: 'run.summary', status: 'ok', reason: '2 steps not reversible, waiting for a human: reset, later' });
    expect(report.plan.hosts[0]?.steps.filter((s) => s.waitsForHuman).map((s) => s.spec.id)).toEqual(['reset', 'later']);
    expect((await verifyAuditLog(auditPath)).ok).toBe(true);
  });

  it('a dry-run shows the same refusals, and nothing is planned for them', async () => {
    const { dir, report, records } = await runUnattended(testRegistry(), true);
    expect(report.exitCode).toBe(EXIT.ok);
    expect(existsSync(join(dir, 'hold.txt'))).toBe(false);
    expect(records.filter((r) => r.type === 'gate')).toHaveLength(0);
    expect(report.reason).toBe('2 steps not reversible, waiting for a human: reset, later');
  });

  it('follows the declaration, not the name: the same action declared reversible runs', async () => {
    const registry = testRegistry();
    registry.set(appendAction.name, { ...(appendAction as unknown as Action), reversible: true } as Action);
    const { dir, report } = await runUnattended(registry);
    expect(report.exitCode).toBe(EXIT.ok);
    expect(readFileSync(join(dir, 'log.txt'), 'utf8')).toBe('wrote 4\n');
    expect(existsSync(join(dir, 'password.txt'))).toBe(false);
    expect(report.reason).toBe('1 step not reversible, waiting for a human: reset');
  });
});
