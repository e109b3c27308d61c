import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/records.js';
import { demoManifest, resetDemoHost } from '../../src/hosts/demo.js';
import { CTRL_C, startOnPty } from '../support/pty.js';
import { runCli } from './run-cli.js';

/**
 * Ctrl-C typed on a real terminal, with the live progress display running: the terminal sends
 * SIGINT to the whole foreground process group (runbook and the command it runs), as it does
 * for an operator.
 */
async function freshDemo() {
  const base = mkdtempSync(join(tmpdir(), 'runbook-ctrlc-'));
  const root = join(base, 'state', 'runbook', 'demo');
  await resetDemoHost(root);
  return { base, root, auditDir: join(base, 'audit'), lockDir: join(root, 'var', 'sim', 'runbook.lock') };
}

function apply(demo: { base: string; auditDir: string }, ...extra: string[]) {
  // Colours on: the redrawing display is the one that runs on an operator's terminal.
  return startOnPty(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--audit-dir', demo.auditDir, '--secrets-file', join(demo.base, 'secrets'), ...extra], {
    env: { XDG_STATE_HOME: join(demo.base, 'state'), NO_COLOR: undefined, FORCE_COLOR: undefined },
  });
}

async function expectCleanInterrupt(demo: { auditDir: string; lockDir: string }, code: number | null, output: string): Promise<AuditRecord[]> {
  expect(code, output).toBe(130);
  expect(output).not.toMatch(/unsettled top-level await/);
  const name = readdirSync(demo.auditDir).find((f) => f.endsWith('.jsonl'))!;
  const logPath = join(demo.auditDir, name);
  const records = readFileSync(logPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
  const verify = await runCli(['audit', 'verify', logPath]);
  expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  expect(existsSync(demo.lockDir), 'the host lock is released').toBe(false);
  return records;
}

// A whole apply on a pseudo-terminal; generous for a loaded machine (the pty guard is 150 s).
describe('Ctrl-C on a terminal', { timeout: 180_000 }, () => {
  it('at the gate prompt: exit 130, the log says it stopped at the gate, nothing changed', async () => {
    const demo = await freshDemo();
    const run = apply(demo);
    await run.waitFor("Type 'yes' to continue");
    run.type(CTRL_C);
    const code = await run.exited;
    const records = await expectCleanInterrupt(demo, code, run.output);
    expect(records.find((r) => r.type === 'gate')).toMatchObject({ answer: 'declined', reason: expect.stringMatching(/interrupted/) });
    expect(records.some((r) => r.type === 'command.intent')).toBe(false);
    expect(records.at(-1)).toMatchObject({ type: 'run.summary', status: 'interrupted', exitCode: 130, reason: expect.stringMatching(/at a gate/) });
  });

  it('in the middle of a step: the running command is stopped, recorded as interrupted, the lock released', async () => {
    const demo = await freshDemo();
    // A restart that hangs until it is stopped, and says on the terminal when it is running.
    const restart = join(demoManifest(demo.root)!.tools.restartsrvDir, 'restartsrv_exim');
    writeFileSync(restart, '#!/bin/sh\necho "restartsrv_exim: restarting (hangs)" > /dev/tty\nexec sleep 600\n');
    chmodSync(restart, 0o755);
    const run = apply(demo, '--yes');
    await run.waitFor('restartsrv_exim: restarting (hangs)');
    run.type(CTRL_C);
    const code = await run.exited;
    const records = await expectCleanInterrupt(demo, code, run.output);
    expect(records.find((r) => r.type === 'step.finish' && r.step === 'restart')).toMatchObject({ status: 'interrupted' });
    expect(records.find((r) => r.type === 'step.finish' && r.step === 'reset_password')).toMatchObject({ status: 'changed' });
    expect(records.at(-1)).toMatchObject({ type: 'run.summary', status: 'interrupted', exitCode: 130, reason: expect.stringMatching(/SIGINT.*demo.*restart/) });
  });

  it('during the queue watch: the watch stops at once, recorded as interrupted', async () => {
    const demo = await freshDemo();
    const run = apply(demo, '--yes', '--var', 'watch_for=10m');
    // The first sample of the watch is on the live display, with how long it ran and has left
    // (the display wraps long lines at the terminal's width).
    await run.waitFor(/queue \d+, from [^;]*; 0:\d\d\s+of\s+10:00,\s+\d+:\d\d\s+left/);
    run.type(CTRL_C);
    const code = await run.exited;
    const records = await expectCleanInterrupt(demo, code, run.output);
    expect(records.find((r) => r.type === 'step.finish' && r.step === 'verify')).toMatchObject({ status: 'interrupted' });
    expect(records.at(-1)).toMatchObject({ type: 'run.summary', status: 'interrupted', exitCode: 130, reason: expect.stringMatching(/SIGINT.*demo.*verify/) });
  });
});
