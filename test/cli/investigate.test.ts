import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simHostInfo } from '../../fixtures/sim/host.mjs';
import { demoManifest, resetDemoHost } from '../../src/hosts/demo.js';
import { hashHostState } from '../support/state-hash.js';
import { runCli } from './run-cli.js';

async function demo() {
  const base = mkdtempSync(join(tmpdir(), 'runbook-investigate-'));
  const root = join(base, 'state', 'runbook', 'demo');
  await resetDemoHost(root);
  return { base, root, env: { XDG_STATE_HOME: join(base, 'state') }, auditDir: join(base, 'audit') };
}

describe('runbook investigate', () => {
  it('finds the compromised mailbox on the demo host, read-only, as JSON', async () => {
    const d = await demo();
    const before = hashHostState(d.root);
    const r = await runCli(['investigate', '--host', 'demo', '--json', '--audit-dir', d.auditDir], { env: d.env });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { hosts: { host: string; verdict: { kind: string; sender: string; ips: string[]; scripts: { path: string }[] } }[] };
    const manifest = demoManifest(d.root)!;
    expect(out.hosts[0]?.verdict).toMatchObject({ kind: 'mailbox', sender: manifest.mailbox });
    expect(out.hosts[0]?.verdict.ips.sort()).toEqual([...manifest.attackerIps, manifest.scriptIp].sort());
    expect(out.hosts[0]?.verdict.scripts.map((s) => s.path)).toContain(manifest.script.path);
    expect(hashHostState(d.root)).toBe(before);
  });

  it('reads files copied off a server (--mainlog, --spool) and reaches the same verdict', async () => {
    const d = await demo();
    const info = simHostInfo(d.root);
    const r = await runCli(['investigate', '--mainlog', info.mainlog, '--spool', info.spoolDir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { verdict: { kind: string; sender: string } };
    expect(out.verdict).toMatchObject({ kind: 'mailbox', sender: demoManifest(d.root)!.mailbox });
  });

  it('never lets escape sequences from hostile subjects reach the terminal', async () => {
    const d = await demo();
    const manifest = demoManifest(d.root)!;
    expect(manifest.subjects.hostile.some((s) => s.includes('\u001b'))).toBe(true);
    const r = await runCli(['investigate', '--host', 'demo', '--audit-dir', d.auditDir, '--min-messages', '1'], { env: d.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Verdict: MAILBOX/);
    expect(r.stdout + r.stderr).not.toContain('\u001b');
  });

  it('refuses to mix files and hosts', async () => {
    const r = await runCli(['investigate', '--host', 'demo', '--mainlog', '/dev/null']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/either files .* or hosts/);
  });
});
