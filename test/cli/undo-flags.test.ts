import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoManifest, resetDemoHost } from '../../src/hosts/demo.js';
import { runCli } from './run-cli.js';

/** undo takes the run flags apply takes: --approve, --limit, --forks, --secrets-file. */
describe('runbook undo with the flags of apply', () => {
  it('applies exactly an approved undo plan, refuses another hash, and checks --forks, --limit and --secrets-file', async () => {
    const base = mkdtempSync(join(tmpdir(), 'runbook-undo-flags-'));
    const root = join(base, 'state', 'runbook', 'demo');
    await resetDemoHost(root);
    const env = { XDG_STATE_HOME: join(base, 'state') };
    const script = demoManifest(root)!.script.path;
    const modeBefore = statSync(script).mode & 0o777;
    const applyDir = join(base, 'apply');
    const applied = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--yes', '--var', 'watch_for=1s', '--audit-dir', applyDir, '--secrets-file', join(base, 's')], { env });
    expect(applied.code, applied.stderr).toBe(0);
    const log = join(applyDir, readdirSync(applyDir).find((f) => f.endsWith('.jsonl'))!);
    const undoDir = join(base, 'undo');

    const badForks = await runCli(['undo', log, '--forks', '0', '--audit-dir', undoDir], { env });
    expect(badForks.code).toBe(2);
    expect(badForks.stderr).toContain('--forks needs a whole number of 1 or more');
    const openSecrets = join(base, 'open.secrets');
    writeFileSync(openSecrets, '', { mode: 0o644 });
    const badSecrets = await runCli(['undo', log, '--secrets-file', openSecrets, '--audit-dir', undoDir], { env });
    expect(badSecrets.code).toBe(2);
    expect(badSecrets.stderr).toContain(`--secrets-file ${openSecrets}: readable or writable by others`);
    const inventory = join(base, 'fleet.yml');
    writeFileSync(inventory, 'hosts:\n  web1: { ssh_host: 192.0.2.10 }\n');
    const badLimit = await runCli(['undo', log, '-i', inventory, '--limit', 'db*', '--audit-dir', undoDir], { env });
    expect(badLimit.code).toBe(2);
    expect(badLimit.stderr).toContain("--limit: 'db*' matches no host or group");

    const dry = await runCli(['undo', log, '--dry-run', '--json', '--audit-dir', undoDir], { env });
    expect(dry.code, dry.stderr).toBe(0);
    const hash = (JSON.parse(dry.stdout) as { planHash: string }).planHash;
    const wrong = await runCli(['undo', log, '--approve', '0000000000000000', '--forks', '2', '--audit-dir', undoDir], { env });
    expect(wrong.code, wrong.stderr).toBe(4);
    expect(statSync(script).mode & 0o777).toBe(0);
    const approved = await runCli(['undo', log, '--approve', hash, '--forks', '2', '--secrets-file', join(base, 'undo.secrets'), '--audit-dir', undoDir], { env });
    expect(approved.code, approved.stdout + approved.stderr).toBe(0);
    expect(statSync(script).mode & 0o777).toBe(modeBefore);
  });

  it('shows the flags in --help', async () => {
    const r = await runCli(['undo', '--help']);
    for (const flag of ['--approve <hash>', '-l, --limit <pattern>', '-f, --forks <n>', '--secrets-file <file>']) expect(r.stdout).toContain(flag);
    expect(r.stdout).toContain('(default: 10)');
    expect(r.stdout).not.toContain('(default: [])');
  });
});
