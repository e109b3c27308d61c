import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simHostInfo } from '../../fixtures/sim/host.mjs';
import { demoManifest, resetDemoHost } from '../../src/hosts/demo.js';
import { runCli } from './run-cli.js';

describe('runbook undo after the spam-incident playbook', () => {
  it('restores the script mode and removes exactly the CSF denies the run added', async () => {
    const base = mkdtempSync(join(tmpdir(), 'runbook-undo-'));
    const root = join(base, 'state', 'runbook', 'demo');
    await resetDemoHost(root);
    const env = { XDG_STATE_HOME: join(base, 'state') };
    const manifest = demoManifest(root)!;
    const denyFile = join(simHostInfo(root).layout.csfDir, 'csf.deny');
    // An operator's earlier, unrelated block must survive the undo.
    writeFileSync(denyFile, `${readFileSync(denyFile, 'utf8')}198.18.7.7 # manual block - Sat Nov 21 09:00:00 2026\n`);
    const denyBefore = readFileSync(denyFile, 'utf8');
    const modeBefore = statSync(manifest.script.path).mode & 0o777;

    const applyDir = join(base, 'apply');
    const applied = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--yes', '--var', 'watch_for=1s', '--audit-dir', applyDir, '--secrets-file', join(base, 's')], { env });
    expect(applied.code, applied.stderr).toBe(0);
    expect(statSync(manifest.script.path).mode & 0o777).toBe(0);
    for (const ip of manifest.attackerIps) expect(readFileSync(denyFile, 'utf8')).toContain(ip);
    const log = join(applyDir, readdirSync(applyDir).find((f) => f.endsWith('.jsonl'))!);

    // The undo run's own audit log is signed like an apply's.
    const key = join(base, 'sign.pem');
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', key]);
    chmodSync(key, 0o600);
    const undone = await runCli(['undo', log, '--yes', '--audit-dir', join(base, 'undo'), '--sign-key', key], { env });
    expect(undone.code, undone.stdout + undone.stderr).toBe(0);
    const undoLog = join(base, 'undo', readdirSync(join(base, 'undo')).find((f) => f.endsWith('.jsonl'))!);
    const verified = await runCli(['audit', 'verify', undoLog, '--pubkey', key], { env });
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout + verified.stderr).toMatch(/signature/i);
    expect(undone.stdout + undone.stderr).toMatch(/cannot be undone|not undoable|irreversible/i);
    expect(statSync(manifest.script.path).mode & 0o777).toBe(modeBefore);
    const denyAfter = readFileSync(denyFile, 'utf8');
    for (const ip of manifest.attackerIps) expect(denyAfter).not.toContain(ip);
    expect(denyAfter).toContain('198.18.7.7');
    expect(denyAfter.trim().split('\n').filter((l) => !l.startsWith('#'))).toEqual(denyBefore.trim().split('\n').filter((l) => !l.startsWith('#')));
  });
});
