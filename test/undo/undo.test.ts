import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { builtinActions } from '../../src/actions/registry.js';
import type { AuditRecord } from '../../src/audit/records.js';
import { verifyAuditLog } from '../../src/audit/verify.js';
import { AuditWriter } from '../../src/audit/writer.js';
import { runPlaybook, type TargetHandle } from '../../src/engine/run.js';
import type { GateAnswer, Gatekeeper } from '../../src/engine/types.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { LocalTransport } from '../../src/transport/local.js';
import { buildUndoPlan, prepareUndo, runUndo, undoPlaybook, UndoError } from '../../src/undo/index.js';
import { readAuditLog } from '../../src/audit/read.js';
import { buildReport } from '../../src/audit/render/model.js';
import { simHost, type SimHost } from '../actions/support/sim.js';
import { ATTACKER_IPS, SCRIPT, writeSpamIncidentLog } from '../audit-report/sample-log.js';

const registry = builtinActions();

describe('undo plan from a log', () => {
  it('reverses changed steps newest first and lists what it cannot undo', () => {
    const plan = buildUndoPlan(readAuditLog(writeSpamIncidentLog()).records, registry);
    expect(plan.entries.map((e) => [e.host, e.action, e.params])).toEqual([
      ['web1', 'csf.remove_deny', { ip: ATTACKER_IPS[1] }],
      ['web1', 'csf.remove_deny', { ip: ATTACKER_IPS[0] }],
      ['web1', 'file.restore_mode', { path: SCRIPT, mode: '0644' }],
    ]);
    expect(plan.hosts).toEqual(['web1']);
    expect(plan.irreversible.map((i) => i.step)).toEqual(['reset', 'purge']);
    // The restart changed the host but has nothing to reverse; it is named, not attempted.
    expect(plan.manual.map((m) => m.step)).toEqual(['restart']);
    // Its action declares it is not reversible, and the plan says so rather than "recorded no undo".
    expect(plan.manual[0]?.reason).toMatch(/^service\.restart is not reversible \(restarted exim, imap\)/);
  });

  it('sends an undo naming an action that changes nothing to the operator instead of running it', () => {
    const readOnly = [...registry.values()].find((a) => !a.mutates && a.gate === undefined)!;
    const records = readAuditLog(writeSpamIncidentLog()).records.map((r) =>
      r.type === 'step.finish' && r.step === 'disable' && r.undo ? { ...r, undo: r.undo.map((u) => ({ ...u, action: readOnly.name })) } : r,
    );
    const plan = buildUndoPlan(records as AuditRecord[], registry);
    expect(plan.entries.map((e) => e.action)).not.toContain(readOnly.name);
    expect(plan.manual.find((m) => m.step === 'disable')?.reason).toMatch(/does not change a host/);
  });

  it('keeps log values out of template text', () => {
    const plan = buildUndoPlan(readAuditLog(writeSpamIncidentLog()).records, registry);
    plan.entries[2]!.params.path = '/home/x/${{ inputs }}.php';
    const { playbook, inputs } = undoPlaybook(plan, { path: 'log', sha256: 'f'.repeat(64) });
    expect(JSON.stringify(playbook.spec)).not.toContain('/home/x');
    expect(playbook.spec.steps[2]?.with).toEqual({ path: '${{ inputs.undo_3.params.path }}', mode: '${{ inputs.undo_3.params.mode }}' });
    expect(inputs.undo_3).toEqual({ host: 'web1', params: { path: '/home/x/${{ inputs }}.php', mode: '0644' } });
  });

  it('refuses a dry-run log and a log whose chain is broken', () => {
    const records = readAuditLog(writeSpamIncidentLog()).records.map((r) => (r.type === 'run.header' ? { ...r, mode: 'dry-run' as const } : r));
    expect(() => buildUndoPlan(records as AuditRecord[], registry)).toThrow(/dry-run/);
    const path = writeSpamIncidentLog();
    writeFileSync(path, readFileSync(path, 'utf8').replace('"0644"', '"4755"'));
    expect(() => prepareUndo(path, registry)).toThrow(UndoError);
    expect(() => prepareUndo(path, registry)).toThrow(/does not verify/);
  });
});

const gatekeeper = (answer: GateAnswer['answer']): Gatekeeper & { asked: number } => {
  const keeper = {
    asked: 0,
    async ask(): Promise<GateAnswer> {
      keeper.asked += 1;
      return { answer, by: 'tty:tester', ...(answer !== 'accepted' ? { reason: `gate ${answer}` } : {}) };
    },
  };
  return keeper;
};

const CONTAIN = `
name: contain-test
inputs:
  scripts: { type: array }
  ips: { type: array }
steps:
  - id: disable
    action: file.disable
    foreach: inputs.scripts
    with: { path: "\${{ item }}" }
  - id: block
    action: csf.deny
    foreach: inputs.ips
    with: { ip: "\${{ item }}", comment: "spam test" }
`;

describe('runbook undo on a simulated cPanel host', () => {
  let sim: SimHost;
  let scripts: string[];
  let denyFile: string;
  const attackers = ['45.33.12.7', '45.33.12.8'];
  const modeOf = (p: string) => (statSync(p).mode & 0o7777).toString(8);

  beforeEach(() => {
    sim = simHost();
    const dir = join(sim.layout.homeRoots[0]!, 'shopuser/public_html/wp-content/uploads');
    mkdirSync(dir, { recursive: true });
    scripts = [join(dir, 'mailer.php'), join(dir, 'cron.php')];
    writeFileSync(scripts[0]!, '<?php mail();');
    writeFileSync(scripts[1]!, '<?php mail();');
    chmodSync(scripts[0]!, 0o644);
    chmodSync(scripts[1]!, 0o750);
    denyFile = join(sim.root, 'etc/csf/csf.deny');
    // A block the operator made earlier: undo must leave it alone.
    writeFileSync(denyFile, '45.33.12.1 # blocked by hand - Sun Nov 22 10:00:00 2026\n');
  });
  afterEach(() => sim.cleanup());

  const target = (): TargetHandle => ({
    name: 'sim1',
    connect: async () => ({ name: 'sim1', transport: new LocalTransport({ host: 'sim1', env: sim.env }), tools: sim.tools, layout: sim.layout, vars: {} }),
  });

  function common(auditPath: string, keeper: Gatekeeper) {
    return {
      targets: [target()],
      registry,
      dryRun: false,
      gatekeeper: keeper,
      audit: AuditWriter.create(auditPath),
      argv: ['runbook', 'test'],
      toolVersion: 'test',
      observer: () => {},
      signal: new AbortController().signal,
      deliverSecret: async () => 'nowhere',
    };
  }

  async function applyContainment(): Promise<string> {
    const logPath = join(sim.root, 'audit/apply.jsonl');
    const opts = common(logPath, gatekeeper('accepted'));
    const report = await runPlaybook({ ...opts, playbook: parsePlaybook(join(sim.root, 'contain.yml'), CONTAIN, registry), inputs: { scripts, ips: attackers } });
    opts.audit.close();
    expect(report.status).toBe('ok');
    expect(scripts.map(modeOf)).toEqual(['0', '0']);
    for (const ip of attackers) expect(readFileSync(denyFile, 'utf8')).toContain(ip);
    return logPath;
  }

  it('writes each change typed into its step.finish record, and the report reads it from there', async () => {
    const logPath = await applyContainment();
    const records = readAuditLog(logPath).records;
    const changes = records.flatMap((r) => (r.type === 'step.finish' && r.status === 'changed' ? (r.changes ?? []) : []));
    expect(changes).toEqual([
      { kind: 'file-mode', path: scripts[0], from: '0644', to: '0000' },
      { kind: 'file-mode', path: scripts[1], from: '0750', to: '0000' },
      { kind: 'ip-deny', ip: attackers[0], comment: 'spam test' },
      { kind: 'ip-deny', ip: attackers[1], comment: 'spam test' },
    ]);
    const report = buildReport(records);
    expect(report.changes.map((c) => [c.kind, c.what, c.target, c.before])).toEqual([
      ['file-mode', 'file disabled (mode 000)', scripts[0], 'mode 0644'],
      ['file-mode', 'file disabled (mode 000)', scripts[1], 'mode 0750'],
      ['ip-deny', 'IP blocked in the firewall', attackers[0], undefined],
      ['ip-deny', 'IP blocked in the firewall', attackers[1], undefined],
    ]);
  });

  it('restores the modes and removes exactly the denies the run added, after a gate', async () => {
    const logPath = await applyContainment();
    const prepared = prepareUndo(logPath, registry);
    expect(prepared.plan.entries.map((e) => e.action)).toEqual(['csf.remove_deny', 'csf.remove_deny', 'file.restore_mode', 'file.restore_mode']);

    const undoLog = join(sim.root, 'audit/undo.jsonl');
    const keeper = gatekeeper('accepted');
    const opts = common(undoLog, keeper);
    const report = await runUndo(prepared, opts);
    opts.audit.close();
    expect(report.status).toBe('ok');
    expect(keeper.asked).toBe(1);
    expect(scripts.map(modeOf)).toEqual(['644', '750']);
    const deny = readFileSync(denyFile, 'utf8');
    for (const ip of attackers) expect(deny).not.toContain(ip);
    expect(deny).toContain('45.33.12.1 # blocked by hand');

    const verified = await verifyAuditLog(undoLog);
    expect(verified.ok).toBe(true);
    const header = verified.records[0];
    expect(header?.type === 'run.header' && header.mode).toBe('undo');
  });

  it('changes nothing when the gate is declined', async () => {
    const logPath = await applyContainment();
    const before = readFileSync(denyFile, 'utf8');
    const opts = common(join(sim.root, 'audit/undo.jsonl'), gatekeeper('declined'));
    const report = await runUndo(prepareUndo(logPath, registry), opts);
    opts.audit.close();
    expect(report.status).toBe('declined');
    expect(scripts.map(modeOf)).toEqual(['0', '0']);
    expect(readFileSync(denyFile, 'utf8')).toBe(before);
  });
});

describe('undo of a log with nothing reversible', () => {
  it('has an empty plan and no hosts', () => {
    const records = readAuditLog(writeSpamIncidentLog()).records.filter((r) => !(r.type === 'step.finish' && r.undo));
    const plan = buildUndoPlan(records, registry);
    expect(plan.entries).toEqual([]);
    expect(plan.hosts).toEqual([]);
    expect(plan.irreversible).toHaveLength(2);
  });
  it('throws UndoError for a file that is not an audit log', () => {
    expect(() => buildUndoPlan([], registry)).toThrow(/not a runbook audit log/);
  });
});
