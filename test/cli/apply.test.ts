import { mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/records.js';
import { demoManifest, resetDemoHost } from '../../src/hosts/demo.js';
import { hashHostState } from '../support/state-hash.js';
import { runCli } from './run-cli.js';

/** Each test gets its own demo host (XDG_STATE_HOME) and audit directory. */
async function freshDemo() {
  const base = mkdtempSync(join(tmpdir(), 'runbook-cli-'));
  const root = join(base, 'state', 'runbook', 'demo');
  await resetDemoHost(root);
  const env = { XDG_STATE_HOME: join(base, 'state') };
  const auditDir = join(base, 'audit');
  return { base, root, env, auditDir };
}

function records(path: string): AuditRecord[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
}

function onlyLog(dir: string): string {
  const logs = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();
  return join(dir, logs.at(-1)!);
}

const FAST = ['--var', 'watch_for=1s'];

describe('runbook apply on the demo host, as an operator runs it', () => {
  beforeAll(() => {
    expect(existsSync(join(process.cwd(), 'dist/cli/main.js')), 'run `npm run build` first (npm test does)').toBe(true);
  });

  it('a dry-run shows the exact commands and changes nothing', async () => {
    const demo = await freshDemo();
    const before = hashHostState(demo.root);
    const r = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '--audit-dir', demo.auditDir, ...FAST], { env: demo.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Plan [0-9a-f]{16} — spam-incident on 1 host \(dry-run/m);
    const manifest = demoManifest(demo.root)!;
    expect(r.stdout).toContain('chmod');
    expect(r.stdout).toContain('--approve');
    expect(hashHostState(demo.root)).toBe(before);
    expect(manifest).toBeDefined();
    const log = records(onlyLog(demo.auditDir));
    expect(log.at(-1)).toMatchObject({ type: 'run.summary', status: 'ok', dryRun: true });
    expect(log.some((x) => x.type === 'command.intent')).toBe(false);
  });

  it('without a terminal and without --yes nothing changes, the exit code says so and the log records why', async () => {
    const demo = await freshDemo();
    const before = hashHostState(demo.root);
    const r = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--audit-dir', demo.auditDir, ...FAST], { env: demo.env });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/Stopped before any change: no terminal to confirm on and --yes was not given/);
    expect(hashHostState(demo.root)).toBe(before);
    const log = records(onlyLog(demo.auditDir));
    expect(log.find((x) => x.type === 'gate')).toMatchObject({ answer: 'refused', by: 'no-tty' });
    expect(log.at(-1)).toMatchObject({ type: 'run.summary', status: 'refused', exitCode: 3 });
  });

  it('applies exactly an approved plan, and refuses a plan that changed, showing the difference', async () => {
    const demo = await freshDemo();
    const dry = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '--json', '--audit-dir', demo.auditDir, ...FAST], { env: demo.env });
    expect(dry.code, dry.stderr).toBe(0);
    const hash = (JSON.parse(dry.stdout) as { planHash: string }).planHash;

    // Same plan but different inputs: a different plan, refused, nothing changed.
    const before = hashHostState(demo.root);
    const changed = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--approve', hash, '--audit-dir', demo.auditDir, '--var', 'max_purge=7', ...FAST], { env: demo.env });
    expect(changed.code).toBe(4);
    expect(changed.stderr).toMatch(/Refused: the plan now has hash [0-9a-f]{16}, not the approved/);
    expect(changed.stderr).toMatch(/What changed since the approved plan:/);
    expect(hashHostState(demo.root)).toBe(before);

    const secrets = join(demo.base, 'secrets.txt');
    const applied = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--approve', hash, '--audit-dir', demo.auditDir, '--secrets-file', secrets, ...FAST], { env: demo.env });
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/demo\s+changed/);
    expect(hashHostState(demo.root)).not.toBe(before);

    const verify = await runCli(['audit', 'verify', onlyLog(demo.auditDir)]);
    expect(verify.code, verify.stderr).toBe(0);

    // The demo incident has a compromised mailbox: its new password must be in the file, and only there.
    expect(existsSync(secrets), 'the new password is handed over in --secrets-file').toBe(true);
    expect(statSync(secrets).mode & 0o777).toBe(0o600);
    const password = readFileSync(secrets, 'utf8').trim().split('\t').at(-1)!;
    expect(password.length).toBeGreaterThanOrEqual(16);
    for (const sink of [applied.stdout, applied.stderr, readFileSync(onlyLog(demo.auditDir), 'utf8')]) expect(sink).not.toContain(password);
  }, 180_000); // four CLI runs back to back: slow on a loaded machine, not stuck

  it('audit verify fails on a tampered log with exit code 5 and names the line', async () => {
    const demo = await freshDemo();
    await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '--audit-dir', demo.auditDir, ...FAST], { env: demo.env });
    const path = onlyLog(demo.auditDir);
    const lines = readFileSync(path, 'utf8').split('\n');
    const planLine = lines.findIndex((l) => l.includes('"type":"plan"'));
    expect(planLine).toBeGreaterThan(0);
    // Someone "improves" the recorded plan after the fact.
    lines[planLine] = lines[planLine]!.replace(/"planHash":"[0-9a-f]+"/, '"planHash":"0000000000000000"');
    const tampered = join(demo.base, 'tampered.jsonl');
    writeFileSync(tampered, lines.join('\n'));
    const r = await runCli(['audit', 'verify', tampered, '--json']);
    expect(r.code).toBe(5);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, problem: { line: planLine + 2 } });
  });
});

describe('runbook validate, actions and help', () => {
  it('every shipped playbook validates', async () => {
    const r = await runCli(['validate', 'playbooks/spam-incident.yml', 'playbooks/investigate.yml']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('a broken playbook reports file:line:col with the line and a caret, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runbook-validate-'));
    const file = join(dir, 'broken.yml');
    writeFileSync(file, 'name: broken\nsteps:\n  - id: detect\n    action: exim.detetc\n');
    const r = await runCli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:4:13: error: unknown action 'exim.detetc' (did you mean 'exim.detect'?)`);
    expect(r.stderr).toContain(' 4 |     action: exim.detetc');
    expect(r.stderr).toMatch(/\n {3}\| {13}\^{11}\n/);
  });

  it('lists actions with whether they mutate, as text and JSON', async () => {
    const r = await runCli(['actions', '--json']);
    const list = JSON.parse(r.stdout) as { name: string; mutates: boolean }[];
    expect(list.find((a) => a.name === 'exim.detect')?.mutates).toBe(false);
    expect(list.find((a) => a.name === 'csf.deny')?.mutates).toBe(true);
  });

  it('--help works for every command and colour obeys NO_COLOR', async () => {
    for (const args of [['--help'], ['apply', '--help'], ['validate', '--help'], ['actions', '--help'], ['audit', 'verify', '--help']]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: runbook/);
      expect(r.stdout).not.toContain('\u001b[');
    }
  });

  it('an unknown flag is a usage error (exit 2)', async () => {
    const r = await runCli(['apply', 'playbooks/spam-incident.yml', '--frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--frobnicate'/);
  });
});
