import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resetDemoHost } from '../../src/hosts/demo.js';
import { runCli } from './run-cli.js';

/** On hosts, allow-list entries and trusted proxies reach exim.detect; offline-only files are refused, not ignored. */
describe('investigate on hosts: --allow and --trusted-proxy', () => {
  it('an allow-listed sender is not flagged on the demo host; a file flag is a usage error', async () => {
    const base = mkdtempSync(join(tmpdir(), 'runbook-investigate-flags-'));
    await resetDemoHost(join(base, 'state', 'runbook', 'demo'));
    const env = { XDG_STATE_HOME: join(base, 'state') };
    const plain = await runCli(['investigate', '--host', 'demo', '--json', '--audit-dir', join(base, 'audit')], { env });
    expect(plain.code, plain.stderr).toBe(0);
    const sender = (JSON.parse(plain.stdout) as { verdict: { sender: string } }).verdict.sender;
    expect(sender).toContain('@');
    const allowed = await runCli(['investigate', '--host', 'demo', '--json', '--allow', sender, '--trusted-proxy', '198.51.100.0/24', '--audit-dir', join(base, 'audit')], { env });
    expect(allowed.code, allowed.stderr).toBe(0);
    const v = (JSON.parse(allowed.stdout) as { verdict: { sources: { id: string }[] } }).verdict;
    expect(v.sources.map((s) => s.id)).not.toContain(sender);
    const refused = await runCli(['investigate', '--host', 'demo', '--maillog', '/var/log/maillog', '--audit-dir', join(base, 'audit')], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr + refused.stdout).toMatch(/--maillog is for files copied off a server/);
  }, 240_000);
});
