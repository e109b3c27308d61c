import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ATTACH_EXIT } from '../../src/audit/attach/index.js';
import { createSecretDelivery } from '../../src/cli/secrets.js';
import { Secret } from '../../src/core/secret.js';
import { EXIT } from '../../src/engine/run.js';
import { demoManifest, resetDemoHost } from '../../src/hosts/demo.js';
import { REPO, runCli } from '../cli/run-cli.js';

/**
 * The secrets file's directory and the attach report's fallback directory are created the same
 * way as the audit directory: a path under /proc fails at once and says why, instead of a
 * recursive mkdir that never returns. Every child process has a deadline, so a regression is
 * killed and fails (code null) instead of hanging the suite.
 */
const DEADLINE_MS = 20_000;

function sandbox() {
  const base = mkdtempSync(join(tmpdir(), 'runbook-secrets-dir-'));
  return { base, env: { XDG_STATE_HOME: join(base, 'state'), XDG_CONFIG_HOME: join(base, 'config'), HOME: base } };
}

/** Runs an ES module snippet against the built dist/, with a deadline. */
function runModule(source: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), DEADLINE_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('--secrets-file under /proc', () => {
  it('apply --yes stops before any change with the usage exit code and names the directory', async () => {
    const s = sandbox();
    const root = join(s.base, 'state', 'runbook', 'demo');
    await resetDemoHost(root);
    const script = demoManifest(root)!.script.path;
    const modeBefore = statSync(script).mode & 0o777;
    for (const file of ['/proc/self/nope/s', '/proc/self/nope/deeper/s']) {
      const r = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--yes', '--var', 'watch_for=1s', '--audit-dir', join(s.base, 'audit'), '--secrets-file', file], { env: s.env, timeoutMs: DEADLINE_MS });
      expect(r.code, `${file}: killed at the deadline or wrong exit code\n${r.stderr}`).toBe(EXIT.usage);
      expect(r.stderr).toContain(`--secrets-file ${file}`);
      expect(r.stderr).toMatch(/pseudo-filesystem/);
    }
    // Nothing was done on the host: the password reset and the rest never started.
    expect(statSync(script).mode & 0o777).toBe(modeBefore);
    expect(existsSync('/proc/self/nope')).toBe(false);
  });

  it('a missing directory on a normal disk passes the check, a dry-run leaves it uncreated and a hand-over creates it 0700', async () => {
    const s = sandbox();
    const dir = join(s.base, 'a', 'secrets');
    const r = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '--var', 'watch_for=1s', '--audit-dir', join(s.base, 'audit'), '--secrets-file', join(dir, 's')], { env: s.env, timeoutMs: DEADLINE_MS });
    expect(r.code, r.stderr).toBe(EXIT.ok);
    expect(existsSync(join(s.base, 'a'))).toBe(false);
    await createSecretDelivery({ secretsFile: join(dir, 's'), fallbackFile: join(s.base, 'unused'), interactive: false, emergencyDir: join(s.base, 'audit') })('h1', 'password', new Secret('hunter2-not-shown'));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(s.base, 'a')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 's')).mode & 0o777).toBe(0o600);
  });

  it('handing over a secret to a file under /proc rejects at once, for --secrets-file and for the fallback file', async () => {
    const source = `
      import { createSecretDelivery } from './dist/cli/secrets.js';
      import { Secret } from './dist/core/secret.js';
      for (const options of [
        { secretsFile: '/proc/self/nope/s', fallbackFile: '/tmp/unused', interactive: false, emergencyDir: '/proc/self/nope/audit' },
        { fallbackFile: '/proc/self/nope/state/run.secrets', interactive: false, emergencyDir: '/proc/self/nope/audit' },
      ]) {
        try {
          await createSecretDelivery(options)('h1', 'password', new Secret('hunter2-not-shown'));
          console.log('DELIVERED');
        } catch (error) {
          console.log('REJECTED ' + error.message);
        }
      }`;
    const r = await runModule(source);
    expect(r.code, `killed at the deadline: the delivery hung creating the directory\n${r.stderr}`).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^REJECTED .*\/proc\/self\/nope.*pseudo-filesystem/);
    expect(lines[1]).toMatch(/^REJECTED .*\/proc\/self\/nope\/state.*pseudo-filesystem/);
    expect(r.stdout).not.toContain('hunter2-not-shown');
  });
});

describe('audit attach when the report cannot be left on disk', () => {
  /** A real audit log from a dry-run on the demo host. */
  async function auditLog(s: ReturnType<typeof sandbox>): Promise<string> {
    const dir = join(s.base, 'audit');
    const r = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '--var', 'watch_for=1s', '--audit-dir', dir], { env: s.env, timeoutMs: DEADLINE_MS });
    expect(r.code, r.stderr).toBe(EXIT.ok);
    return join(dir, readdirSync(dir).find((f) => f.endsWith('.jsonl'))!);
  }

  it('a temporary directory under /proc fails fast with the credentials exit code and says the report was not saved, and why', async () => {
    const s = sandbox();
    const log = await auditLog(s);
    // The place beside the log is taken (a directory with the report's name), so the temporary
    // directory is tried next; it is under /proc.
    const beside = log.replace(/\.jsonl$/, '.report.md');
    mkdirSync(beside);
    const r = await runCli(['audit', 'attach', log, '--to', 'github:acme/infra#7'], { env: { ...s.env, TMPDIR: '/proc/self/runbook-nope' }, timeoutMs: DEADLINE_MS });
    expect(r.code, `killed at the deadline or wrong exit code\n${r.stderr}`).toBe(ATTACH_EXIT.credentials);
    expect(r.stderr).toMatch(/could not be saved/);
    expect(r.stderr).toContain('/proc/self/runbook-nope');
    expect(r.stderr).toMatch(/pseudo-filesystem/);
    expect(r.stderr).toContain(beside);
    expect(r.stderr).toContain(`runbook audit render ${log} -o FILE`);
    expect(r.stderr).not.toMatch(/saved at/);
  });

  it('--json gives no reportPath when nothing was saved', async () => {
    const s = sandbox();
    const log = await auditLog(s);
    mkdirSync(log.replace(/\.jsonl$/, '.report.md'));
    const r = await runCli(['audit', 'attach', log, '--to', 'github:acme/infra#7', '--json'], { env: { ...s.env, TMPDIR: '/proc/self/runbook-nope' }, timeoutMs: DEADLINE_MS });
    expect(r.code, r.stderr).toBe(ATTACH_EXIT.credentials);
    const out = JSON.parse(r.stdout) as { ok: boolean; failure: string; reportPath?: string; message: string };
    expect(out).toMatchObject({ ok: false, failure: 'credentials' });
    expect(out.reportPath).toBeUndefined();
    expect(out.message).toContain('/proc/self/runbook-nope');
  });

  it('an explicit fallback directory under /proc falls back to the temporary directory at once', async () => {
    const s = sandbox();
    const log = await auditLog(s);
    const tmp = join(s.base, 'tmp');
    const source = `
      import { attachRun } from './dist/audit/attach/index.js';
      const r = await attachRun(${JSON.stringify(log)}, 'github:acme/infra#7', { env: {}, credentialsFile: ${JSON.stringify(join(s.base, 'none.yml'))}, fallbackDir: '/proc/self/nope/reports' });
      console.log(JSON.stringify({ failure: r.failure, reportPath: r.reportPath }));`;
    const r = await runModule(source, { TMPDIR: tmp });
    expect(r.code, `killed at the deadline: the fallback hung creating the directory\n${r.stderr}`).toBe(0);
    const out = JSON.parse(r.stdout) as { failure: string; reportPath: string };
    expect(out.failure).toBe('credentials');
    expect(out.reportPath).toBe(join(tmp, `${log.replace(/^.*\//, '').replace(/\.jsonl$/, '')}.report.md`));
    expect(readFileSync(out.reportPath, 'utf8').length).toBeGreaterThan(0);
    expect(statSync(tmp).mode & 0o777).toBe(0o700);
  });
});
