import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simHostInfo } from '../../fixtures/sim/host.mjs';
import { demoManifest, resetDemoHost } from '../../src/hosts/demo.js';
import { runCli } from './run-cli.js';

describe('runbook expire', () => {
  it('lifts a hold run with hold_for once its deadline has passed, audited, and only once', async () => {
    const base = mkdtempSync(join(tmpdir(), 'runbook-expire-'));
    const root = join(base, 'state', 'runbook', 'demo');
    await resetDemoHost(root);
    const env = { XDG_STATE_HOME: join(base, 'state') };
    const manifest = demoManifest(root)!;
    const suspensions = join(simHostInfo(root).layout.emailSendLimitsDir!, 'users', manifest.cpanelUser, 'suspensions.json');
    const held = () => readFileSync(suspensions, 'utf8').includes(`"${manifest.mailbox.split('@')[0]}"`);
    const auditDir = join(base, 'audit');

    const hold = await runCli(['run', 'cpanel.email.suspend_outgoing', '--host', 'demo', '--with', `email=${manifest.mailbox}`, '--with', 'hold_for=1h', '--yes', '--audit-dir', auditDir], { env });
    expect(hold.code, hold.stdout + hold.stderr).toBe(0);
    expect(held()).toBe(true);

    // Not due yet: nothing runs, no log is written.
    const early = await runCli(['expire', '--audit-dir', auditDir, '--json'], { env });
    expect(early.code, early.stderr).toBe(0);
    const earlyOut = JSON.parse(early.stdout) as { status: string; pending: { target: string }[] };
    expect(earlyOut.status).toBe('nothing-due');
    expect(earlyOut.pending.map((p) => p.target)).toEqual([`mailbox-outgoing:${manifest.mailbox}`]);
    expect(readdirSync(auditDir)).toHaveLength(1);

    // Two hours on (measured against --now, not by waiting): the hold is lifted by an audited run.
    const later = new Date(Date.now() + 2 * 3_600_000).toISOString();
    const dry = await runCli(['expire', '--audit-dir', auditDir, '--now', later, '--dry-run'], { env });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/mailbox-outgoing:.*deadline/);
    expect(held()).toBe(true);
    const expired = await runCli(['expire', '--audit-dir', auditDir, '--now', later, '--json'], { env });
    expect(expired.code, expired.stdout + expired.stderr).toBe(0);
    const out = JSON.parse(expired.stdout) as { ok: boolean; status: string; auditLog: string; due: { target: string }[] };
    expect(out).toMatchObject({ ok: true, status: 'ok' });
    expect(out.due.map((d) => d.target)).toEqual([`mailbox-outgoing:${manifest.mailbox}`]);
    expect(held()).toBe(false);
    const verified = await runCli(['audit', 'verify', out.auditLog], { env });
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);

    const again = await runCli(['expire', '--audit-dir', auditDir, '--now', later, '--json'], { env });
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'nothing-due', due: [] });
    rmSync(base, { recursive: true, force: true });
    // Five CLI runs against the demo host: slow on a loaded machine, not stuck.
  }, 180_000);

  it('explains itself and refuses a time it cannot read', async () => {
    const help = await runCli(['expire', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/newest finished step/);
    const bad = await runCli(['expire', '--now', 'tomorrow', '--audit-dir', mkdtempSync(join(tmpdir(), 'runbook-expire-'))]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--now tomorrow is not a time/);
  });
});
