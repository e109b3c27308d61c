import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const RECORD = fileURLToPath(new URL('./fixtures/record-packages.mjs', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Runs the built CLI and returns what it printed and the npm packages it loaded. */
function run(args: string[]): { code: number | null; stdout: string; packages: string[] } {
  const r = spawnSync(process.execPath, ['--import', RECORD, CLI, ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const line = /\nloaded-packages (.*)\n/.exec(r.stderr);
  expect(line, r.stderr).not.toBeNull();
  return { code: r.status, stdout: r.stdout, packages: JSON.parse(line![1]!) as string[] };
}

// What only running playbooks on hosts needs: SSH, the engine's schemas and expressions, the
// audit logger, terminal progress, YAML.
const HEAVY = ['ssh2', 'ajv', 'ajv-formats', 'pino', 'listr2', '@sinclair/typebox', '@marcbachmann/cel-js', 'yaml', 'execa'];

describe('start-up loads only what the command runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'runbook-startup-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--help lists every command and loads only commander', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    for (const command of ['apply', 'run', 'validate', 'actions', 'audit', 'investigate', 'undo', 'demo', 'doctor', 'rbl', 'harden']) {
      expect(r.stdout).toMatch(new RegExp(`\\n  ${command} `));
    }
    expect(r.packages).toEqual(['commander']);
  });

  it('investigate on a copied main log loads no SSH, engine or logger', () => {
    const log = join(dir, 'exim_mainlog');
    writeFileSync(log, '2026-11-07 10:00:00 1tAAAA-000000-00 <= a@example.test U=a P=local S=100 id=x@example.test T="hi" for b@example.test\n');
    const r = run(['investigate', '--mainlog', log, '--since', '30d', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ source: { kind: 'files' } });
    expect(r.packages.filter((p) => HEAVY.includes(p))).toEqual([]);
  });

  it('help text that needs the actions or credentials is there when asked for', () => {
    const runHelp = run(['run', '--help']);
    expect(runHelp.code).toBe(0);
    expect(runHelp.stdout).toMatch(/Examples:\n {2}runbook run \S+ --host demo .* --dry-run\n/);
    const attach = run(['audit', 'attach', '--help']);
    expect(attach.code).toBe(0);
    expect(attach.stdout).toContain('RUNBOOK_JIRA_TOKEN');
  });
});
