import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureDirectory, pseudoFilesystemOf } from '../../src/core/ensure-dir.js';
import { EXIT } from '../../src/engine/run.js';
import { runCli } from '../cli/run-cli.js';

/**
 * An audit directory that cannot be created must stop the run at once with the audit exit
 * code. Under /proc a recursive mkdir never returns, so every CLI run here has a deadline:
 * a regression is killed and fails (code null) instead of hanging the suite.
 */
const DEADLINE = { timeoutMs: 20_000 };

function sandbox() {
  const base = mkdtempSync(join(tmpdir(), 'runbook-audit-dir-'));
  return { base, env: { XDG_STATE_HOME: join(base, 'state') } };
}

describe('--audit-dir that cannot be created', () => {
  it('apply --dry-run --audit-dir /proc/self/nope fails fast with the audit exit code and names the directory', async () => {
    const s = sandbox();
    const r = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '--audit-dir', '/proc/self/nope'], { ...DEADLINE, env: s.env });
    expect(r.code, `killed at the deadline: the run hung creating the audit directory\n${r.stderr}`).not.toBeNull();
    expect(r.code, r.stderr).toBe(EXIT.audit);
    expect(r.stderr).toContain('/proc/self/nope');
    expect(r.stderr).toMatch(/pseudo-filesystem/);
    expect(r.stderr).toMatch(/--audit-dir/);
    expect(existsSync('/proc/self/nope')).toBe(false);
  });

  it('a deeper missing path under /proc and one under /sys fail the same way', async () => {
    const s = sandbox();
    for (const dir of ['/proc/self/nope/deeper', '/sys/kernel/runbook-nope']) {
      const r = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '--audit-dir', dir], { ...DEADLINE, env: s.env });
      expect(r.code, `${dir}: ${r.stderr}`).toBe(EXIT.audit);
      expect(r.stderr).toContain(dir);
    }
  });

  it('investigate --json reports it as an audit error on stdout, exit code 5', async () => {
    const s = sandbox();
    const r = await runCli(['investigate', '--host', 'demo', '--json', '--audit-dir', '/proc/self/nope'], { ...DEADLINE, env: s.env });
    expect(r.code, r.stderr).toBe(EXIT.audit);
    const out = JSON.parse(r.stdout) as { ok: boolean; error: { kind: string; message: string } };
    expect(out).toMatchObject({ ok: false, error: { kind: 'audit' } });
    expect(out.error.message).toContain('/proc/self/nope');
  });

  it('a file where a directory should be fails with the audit exit code and names it', async () => {
    const s = sandbox();
    const file = join(s.base, 'not-a-dir');
    writeFileSync(file, 'x');
    const r = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '--audit-dir', join(file, 'audit')], { ...DEADLINE, env: s.env });
    expect(r.code, r.stderr).toBe(EXIT.audit);
    expect(r.stderr).toContain(`${file} exists and is not a directory`);
  });

  it('a missing nested directory on a normal disk is still created (0700) and the run succeeds', async () => {
    const s = sandbox();
    const dir = join(s.base, 'a', 'b', 'audit');
    const r = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '--audit-dir', dir], { ...DEADLINE, env: s.env });
    expect(r.code, r.stderr).toBe(EXIT.ok);
    expect(readdirSync(dir).filter((f) => f.endsWith('.jsonl'))).toHaveLength(1);
    expect(statSync(join(s.base, 'a')).mode & 0o777).toBe(0o700);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });
});

describe('ensureDirectory', () => {
  it('creates missing levels and accepts an existing directory', () => {
    const base = mkdtempSync(join(tmpdir(), 'runbook-ensure-dir-'));
    const dir = join(base, 'x', 'y', 'z');
    ensureDirectory(dir);
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(() => ensureDirectory(dir)).not.toThrow();
    expect(() => ensureDirectory(base)).not.toThrow();
  });

  it('refuses a file in the way, naming it', () => {
    const base = mkdtempSync(join(tmpdir(), 'runbook-ensure-dir-'));
    writeFileSync(join(base, 'f'), '');
    expect(() => ensureDirectory(join(base, 'f'))).toThrow(`${join(base, 'f')} exists and is not a directory`);
    expect(() => ensureDirectory(join(base, 'f', 'g', 'h'))).toThrow(`${join(base, 'f')} exists and is not a directory`);
  });

  it('knows /proc and /sys for what they are, and a temp directory as a normal disk', () => {
    expect(pseudoFilesystemOf('/proc/self')).toBe('proc');
    expect(pseudoFilesystemOf('/sys')).toBe('sysfs');
    expect(pseudoFilesystemOf(tmpdir())).toBeNull();
  });
});
