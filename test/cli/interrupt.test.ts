import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/records.js';
import { resetDemoHost } from '../../src/hosts/demo.js';
import { CLI, REPO, runCli } from './run-cli.js';

/** Starts `runbook apply` without a terminal; `signalWhen` sends the signal once the output matches. */
function applyUntil(args: string[], env: Record<string, string>, signalWhen: RegExp, signal: NodeJS.Signals) {
  const child = spawn(process.execPath, [CLI, 'apply', ...args], { cwd: REPO, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let sent = false;
  const exited = new Promise<number | null>((resolve) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      if (!sent && signalWhen.test(output)) {
        sent = true;
        child.kill(signal);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', resolve);
  });
  return { child, exited, output: () => output };
}

async function demoRun() {
  const base = mkdtempSync(join(tmpdir(), 'runbook-sigint-'));
  await resetDemoHost(join(base, 'state', 'runbook', 'demo'));
  return { base, auditDir: join(base, 'audit'), env: { XDG_STATE_HOME: join(base, 'state') } };
}

describe('interrupting a run', { timeout: 180_000 }, () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} during the queue watch stops it, exits 130 and leaves a verifiable log naming ${signal} and where it stopped`, async () => {
      const demo = await demoRun();
      const run = applyUntil(
        ['playbooks/spam-incident.yml', '--host', 'demo', '--yes', '--var', 'watch_for=10m', '--audit-dir', demo.auditDir, '--secrets-file', join(demo.base, 's')],
        demo.env,
        // The containment is done and the watch has taken its first sample (line by line,
        // with how long it ran and has left).
        /\[demo\] verify: queue \d+, from [^\n]*; 0:\d\d of 10:00, \d+:\d\d left/,
        signal,
      );
      const code = await run.exited;
      expect(code, run.output()).toBe(130);
      const logPath = join(demo.auditDir, readdirSync(demo.auditDir).find((f) => f.endsWith('.jsonl'))!);
      const records = readFileSync(logPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
      expect(records.find((r) => r.type === 'step.finish' && r.step === 'verify')).toMatchObject({ status: 'interrupted' });
      expect(records.find((r) => r.type === 'step.finish' && r.step === 'block')).toMatchObject({ status: 'changed' });
      const summary = records.at(-1);
      expect(summary).toMatchObject({ type: 'run.summary', status: 'interrupted', exitCode: 130, reason: `interrupted by the operator (${signal}); stopped demo at step verify` });
      const verify = await runCli(['audit', 'verify', logPath]);
      expect(verify.code, verify.stderr).toBe(0);
    });
  }

  it('SIGTERM before the audit log opens exits 130 and writes no log', async () => {
    const demo = await demoRun();
    // The run blocks reading this password file until the test opens it for writing: then it
    // is certainly past start-up and before its audit log.
    const fifo = join(demo.base, 'become-pass');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    const child = spawn(process.execPath, [CLI, 'apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '--become-password-file', fifo, '--audit-dir', demo.auditDir], {
      cwd: REPO,
      env: { ...process.env, NO_COLOR: '1', ...demo.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const writer = await open(fifo, 'w');
    child.kill('SIGTERM');
    // The notice is printed by the signal handler: the signal was taken, now let the read end.
    await new Promise<void>((resolve) => {
      const check = () => (output.includes('Interrupted (SIGTERM)') ? resolve() : child.stderr.once('data', check));
      check();
    });
    await writer.close();
    expect(await exited, output).toBe(130);
    expect(output).toMatch(/no audit log was written/);
    expect(existsSync(demo.auditDir)).toBe(false);
  });
});
