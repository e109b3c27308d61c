import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/records.js';
import { resetDemoHost } from '../../src/hosts/demo.js';
import { CLI, REPO, runCli } from './run-cli.js';

describe('Ctrl-C in the middle of a run', () => {
  it('stops the running step, exits 130 and leaves a verifiable log that says where it stopped', async () => {
    const base = mkdtempSync(join(tmpdir(), 'runbook-sigint-'));
    await resetDemoHost(join(base, 'state', 'runbook', 'demo'));
    const auditDir = join(base, 'audit');
    const child = spawn(
      process.execPath,
      [CLI, 'apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--yes', '--var', 'watch_for=60s', '--audit-dir', auditDir, '--secrets-file', join(base, 's')],
      { cwd: REPO, env: { ...process.env, NO_COLOR: '1', XDG_STATE_HOME: join(base, 'state') }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const code = await new Promise<number | null>((resolve) => {
      const onData = (d: Buffer) => {
        output += d.toString();
        // The containment is done and the queue watch has started: interrupt it.
        if (output.includes('Block the attacker IP') && !child.killed) setTimeout(() => child.kill('SIGINT'), 500);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('close', resolve);
    });
    expect(code, output).toBe(130);
    const logPath = join(auditDir, readdirSync(auditDir).find((f) => f.endsWith('.jsonl'))!);
    const records = readFileSync(logPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    const watch = records.find((r) => r.type === 'step.finish' && r.step === 'verify');
    expect(watch).toMatchObject({ status: 'interrupted' });
    expect(records.at(-1)).toMatchObject({ type: 'run.summary', status: 'interrupted', exitCode: 130 });
    const verify = await runCli(['audit', 'verify', logPath]);
    expect(verify.code, verify.stderr).toBe(0);
  });
});
