import { mkdtempSync, readFileSync, writeFileSync, existsSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditWriter } from '../../src/audit/writer.js';
import { verifyAuditLog } from '../../src/audit/verify.js';
import type { AuditRecord } from '../../src/audit/records.js';
import { runPlaybook, EXIT, type RunOptions } from '../../src/engine/run.js';
import type { GateAnswer, Gatekeeper } from '../../src/engine/types.js';
import { CPANEL_LAYOUT, CPANEL_TOOL_PATHS } from '../../src/hosts/types.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { LocalTransport } from '../../src/transport/local.js';
import { testRegistry } from './test-actions.js';

const registry = testRegistry();

function setup(yaml: (dir: string) => string) {
  const dir = mkdtempSync(join(tmpdir(), 'runbook-engine-'));
  writeFileSync(join(dir, 'input.txt'), 'hello\n');
  const playbook = parsePlaybook(join(dir, 'pb.yml'), yaml(dir), registry);
  const auditPath = join(dir, 'audit', 'run.jsonl');
  return { dir, playbook, auditPath };
}

const gate = (answer: GateAnswer['answer']): Gatekeeper & { asked: number } => {
  const keeper = {
    asked: 0,
    async ask(): Promise<GateAnswer> {
      keeper.asked += 1;
      return { answer, by: answer === 'refused' ? 'no-tty' : 'tty:tester', ...(answer !== 'accepted' ? { reason: `gate ${answer}` } : {}) };
    },
  };
  return keeper;
};

async function run(ctx: ReturnType<typeof setup>, extra: Partial<RunOptions> = {}) {
  const audit = extra.audit ?? AuditWriter.create(ctx.auditPath);
  const delivered: string[] = [];
  const report = await runPlaybook({
    playbook: ctx.playbook,
    inputs: {},
    targets: [{ name: 'local', connect: async () => ({ name: 'local', transport: new LocalTransport(), tools: CPANEL_TOOL_PATHS, layout: CPANEL_LAYOUT, vars: {} }) }],
    registry,
    dryRun: false,
    gatekeeper: gate('accepted'),
    audit,
    argv: ['apply', 'pb.yml'],
    toolVersion: 'test',
    observer: () => {},
    signal: new AbortController().signal,
    deliverSecret: async (_h, label, secret) => {
      delivered.push(secret.reveal());
      return `test sink for ${label}`;
    },
    ...extra,
  });
  audit.close();
  const records = readFileSync(ctx.auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
  return { report, records, delivered, text: readFileSync(ctx.auditPath, 'utf8') };
}

const twoStep = (dir: string) => `
name: t
steps:
  - id: read
    action: test.read
    with: { path: ${dir}/input.txt }
  - id: write
    action: test.write
    with: { path: ${dir}/out.txt, content: "from \${{ steps.read.content }}" }
`;

describe('engine', () => {
  it('dry-run runs read-only steps, plans mutating ones with resolved argv, and changes nothing', async () => {
    const ctx = setup(twoStep);
    const { report, records } = await run(ctx, { dryRun: true });
    expect(report.exitCode).toBe(EXIT.ok);
    expect(existsSync(join(ctx.dir, 'out.txt'))).toBe(false);
    const plan = records.find((r) => r.type === 'plan');
    expect(plan && plan.type === 'plan' && plan.steps.map((s) => [s.step, s.commands])).toEqual([
      ['read', []],
      ['write', [['tee', '--', join(ctx.dir, 'out.txt')]]],
    ]);
    expect(records.some((r) => r.type === 'command.intent')).toBe(false);
    expect((await verifyAuditLog(ctx.auditPath)).ok).toBe(true);
  });

  it('the plan hash is stable for the same state and changes with it', async () => {
    const ctx = setup(twoStep);
    const a = await run(ctx, { dryRun: true });
    const ctx2 = { ...ctx, auditPath: join(ctx.dir, 'audit', 'run2.jsonl') };
    const b = await run(ctx2, { dryRun: true });
    expect(a.report.plan.hash).toBe(b.report.plan.hash);
    writeFileSync(join(ctx.dir, 'input.txt'), 'changed\n');
    const ctx3 = { ...ctx, auditPath: join(ctx.dir, 'audit', 'run3.jsonl') };
    const c = await run(ctx3, { dryRun: true });
    expect(c.report.plan.hash).not.toBe(a.report.plan.hash);
  });

  it('--approve with the right hash applies; a different hash refuses and changes nothing', async () => {
    const ctx = setup(twoStep);
    const dry = await run(ctx, { dryRun: true });
    const refused = await run({ ...ctx, auditPath: join(ctx.dir, 'audit', 'r.jsonl') }, { approve: '0000000000000000' });
    expect(refused.report.exitCode).toBe(EXIT.approveMismatch);
    expect(existsSync(join(ctx.dir, 'out.txt'))).toBe(false);
    const applied = await run({ ...ctx, auditPath: join(ctx.dir, 'audit', 'a.jsonl') }, { approve: dry.report.plan.hash });
    expect(applied.report.exitCode).toBe(EXIT.ok);
    expect(readFileSync(join(ctx.dir, 'out.txt'), 'utf8')).toBe('from hello');
    const g = applied.records.find((r) => r.type === 'gate');
    expect(g && g.type === 'gate' && g.by).toBe(`--approve ${dry.report.plan.hash}`);
  });

  it('gates fail closed: refused or declined stops before the first mutation and is recorded', async () => {
    for (const answer of ['refused', 'declined'] as const) {
      const ctx = setup(twoStep);
      const { report, records } = await run(ctx, { gatekeeper: gate(answer) });
      expect(report.exitCode).toBe(EXIT.gate);
      expect(existsSync(join(ctx.dir, 'out.txt'))).toBe(false);
      expect(records.some((r) => r.type === 'command.intent')).toBe(false);
      const g = records.find((r) => r.type === 'gate');
      expect(g && g.type === 'gate' && g.answer).toBe(answer);
      const summary = records.at(-1);
      expect(summary?.type === 'run.summary' && summary.status).toBe(answer);
    }
  });

  it('an explicit confirm step gates the mutations after it, with its resolved message', async () => {
    const ctx = setup(
      (dir) => `
name: t
steps:
  - id: read
    action: test.read
    with: { path: ${dir}/input.txt }
  - id: ask
    action: confirm
    with: { message: "Write \${{ steps.read.content }}?" }
  - id: write
    action: test.write
    with: { path: ${dir}/out.txt, content: x }
`,
    );
    const keeper = gate('accepted');
    const { records } = await run(ctx, { gatekeeper: keeper });
    expect(keeper.asked).toBe(1);
    const g = records.find((r) => r.type === 'gate');
    expect(g && g.type === 'gate' && [g.gate, g.message]).toEqual(['ask', 'Write hello?']);
  });

  it('writes the intent durably before a mutating command, then its result', async () => {
    const ctx = setup(twoStep);
    const { records } = await run(ctx);
    const types = records.map((r) => r.type);
    const intent = types.indexOf('command.intent');
    expect(intent).toBeGreaterThan(types.indexOf('gate'));
    expect(types[intent + 1]).toBe('command.result');
    expect(records.at(-1)?.type).toBe('run.summary');
  });

  it('no mutation happens when the audit log cannot be written', async () => {
    const ctx = setup(twoStep);
    const audit = AuditWriter.create(ctx.auditPath);
    // Sabotage the writer after planning: the intent append must fail and stop the command.
    const original = audit.appendDurable.bind(audit);
    audit.appendDurable = (record) => {
      if (record.type === 'command.intent') throw new Error('disk full');
      return original(record);
    };
    const { report } = await run(ctx, { audit });
    expect(report.exitCode).toBe(EXIT.failed);
    expect(existsSync(join(ctx.dir, 'out.txt'))).toBe(false);
  });

  it('on_error: continue goes on; abort (default) stops the host and records the rest as not run', async () => {
    const yaml = (onError: string) => (dir: string) => `
name: t
steps:
  - id: boom
    action: test.fail
    on_error: ${onError}
  - id: write
    action: test.write
    with: { path: ${dir}/out.txt, content: x }
`;
    const cont = setup(yaml('continue'));
    const c = await run(cont);
    expect(existsSync(join(cont.dir, 'out.txt'))).toBe(true);
    expect(c.report.outcomes[0]?.counts.failed_steps).toBe(1);
    const abort = setup(yaml('abort'));
    const a = await run(abort);
    expect(a.report.exitCode).toBe(EXIT.failed);
    expect(existsSync(join(abort.dir, 'out.txt'))).toBe(false);
    const finishes = a.records.filter((r) => r.type === 'step.finish').map((r) => r.type === 'step.finish' && [r.step, r.status]);
    expect(finishes).toEqual([
      ['boom', 'failed'],
      ['write', 'skipped'],
    ]);
  });

  it('a step that changed the host and then failed says so, in its error, its record and the outcome', async () => {
    const ctx = setup((dir) => `
name: t
steps:
  - id: half
    action: test.halfway
    with: { path: ${dir}/half.txt }
`);
    const r = await run(ctx);
    expect(readFileSync(join(ctx.dir, 'half.txt'), 'utf8')).toBe('half\n');
    const finish = r.records.find((x) => x.type === 'step.finish' && x.step === 'half');
    expect(finish).toMatchObject({ status: 'failed', changingCommandsRun: 1 });
    const error = finish?.type === 'step.finish' ? finish.error : '';
    expect(error).toBe(`false exited 1 (after 1 changing command of this step had succeeded, so the host may be changed part-way: \`tee -- ${join(ctx.dir, 'half.txt')}\` (exit 0); the audit log has each)`);
    expect(r.report.outcomes[0]).toMatchObject({ status: 'failed', error: `step half: ${error}` });
    // A step whose only changing command failed changed nothing it knows of: no such claim.
    const plain = setup(() => 'name: t\nsteps:\n  - id: boom\n    action: test.fail\n');
    const p = await run(plain);
    expect(p.records.find((x) => x.type === 'step.finish' && x.step === 'boom')).toMatchObject({ status: 'failed', error: 'false exited 1' });
  });

  it('a step timeout kills the command and is recorded as a failure', async () => {
    const ctx = setup(() => `
name: t
steps:
  - id: slow
    action: test.sleep
    timeout: 300ms
    with: { seconds: 30 }
`);
    const { report, records } = await run(ctx);
    expect(report.exitCode).toBe(EXIT.failed);
    const finish = records.find((r) => r.type === 'step.finish');
    expect(finish && finish.type === 'step.finish' && finish.error).toMatch(/timed out after 300ms/);
  });

  it('an interrupt (SIGINT) stops the running command and leaves a closed, consistent log', async () => {
    const ctx = setup((dir) => `
name: t
steps:
  - id: slow
    action: test.sleep
    with: { seconds: 30 }
  - id: write
    action: test.write
    with: { path: ${dir}/out.txt, content: x }
`);
    const controller = new AbortController();
    // Interrupt once the slow step has started, whatever the machine's load.
    const observer: RunOptions['observer'] = (event) => {
      if (event.type === 'step.start' && event.step === 'slow') controller.abort(new Error('interrupted by the operator (SIGTERM)'));
    };
    const { report, records } = await run(ctx, { signal: controller.signal, observer });
    expect(report.exitCode).toBe(EXIT.interrupted);
    // The summary names the signal that stopped the run and where each host stopped.
    expect(report.reason).toBe('interrupted by the operator (SIGTERM); stopped local at step slow');
    expect(records.at(-1)).toMatchObject({ type: 'run.summary', reason: report.reason });
    expect(existsSync(join(ctx.dir, 'out.txt'))).toBe(false);
    const statuses = records.filter((r) => r.type === 'step.finish').map((r) => r.type === 'step.finish' && r.status);
    expect(statuses).toEqual(['interrupted', 'skipped']);
    expect((await verifyAuditLog(ctx.auditPath)).ok).toBe(true);
  });

  it('a second apply of an idempotent step is a no-op', async () => {
    const ctx = setup(twoStep);
    await run(ctx);
    const again = await run({ ...ctx, auditPath: join(ctx.dir, 'audit', 'again.jsonl') });
    const plan = again.records.find((r) => r.type === 'plan');
    expect(plan && plan.type === 'plan' && plan.steps[1]?.noop).toBe(true);
    expect(again.records.some((r) => r.type === 'command.intent')).toBe(false);
  });

  it('foreach runs per item and when skips; outputs are registered per item', async () => {
    const ctx = setup((dir) => {
      mkdirSync(join(dir, 'many'));
      return `
name: t
steps:
  - id: read
    action: test.read
    with: { path: ${dir}/input.txt }
  - id: each
    action: test.write
    foreach: "['a', 'b', 'c']"
    when: item != 'b'
    with: { path: "${dir}/many/\${{ item }}", content: "\${{ item }}" }
`;
    });
    const { report } = await run(ctx);
    expect(report.exitCode).toBe(EXIT.ok);
    expect(existsSync(join(ctx.dir, 'many', 'a'))).toBe(true);
    expect(existsSync(join(ctx.dir, 'many', 'b'))).toBe(false);
    expect(existsSync(join(ctx.dir, 'many', 'c'))).toBe(true);
  });

  it('secrets reach the command on stdin, the operator once, and no log', async () => {
    const ctx = setup((dir) => `
name: t
steps:
  - id: s
    action: test.secret
    with: { path: ${dir}/secret.txt }
`);
    const { delivered, text } = await run(ctx);
    expect(delivered).toHaveLength(1);
    const secret = delivered[0]!;
    expect(readFileSync(join(ctx.dir, 'secret.txt'), 'utf8')).toBe(secret);
    expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
  });

  it('a host that cannot be reached is an outcome, not a crash', async () => {
    const ctx = setup(twoStep);
    const { report } = await run(ctx, {
      targets: [{ name: 'gone', connect: async () => { throw Object.assign(new Error('connection refused'), { name: 'HostUnreachableError' }); } }],
    });
    expect(report.outcomes[0]?.status).toBe('unreachable');
    expect(report.exitCode).toBe(EXIT.failed);
  });
});
