import { chmodSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoManifest, resetDemoHost } from '../../src/hosts/demo.js';
import { runCli } from './run-cli.js';

describe('runbook demo reset', () => {
  it("puts the demo host's state back and stages a fresh incident where the README says", async () => {
    const state = mkdtempSync(join(tmpdir(), 'runbook-demo-reset-'));
    const root = join(state, 'runbook', 'demo');
    const staged = await resetDemoHost(root);
    // What an applied playbook leaves behind: the script disabled.
    chmodSync(staged.script.path, 0o000);
    const r = await runCli(['demo', 'reset'], { env: { XDG_STATE_HOME: state } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Demo host reset: ${root}`);
    const fresh = demoManifest(root)!;
    expect(fresh.generatedAt).toBeGreaterThanOrEqual(staged.generatedAt);
    expect(statSync(fresh.script.path).mode & 0o777).not.toBe(0);
  });
});
