// A new password is never lost: the check before a run refuses exactly what the hand-over
// refuses, and a hand-over that fails after the reset still gives the operator the password once.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoManifest, resetDemoHost } from '../../src/hosts/demo.js';
import { CLI, REPO } from './run-cli.js';

const isRoot = process.getuid?.() === 0;
const inCi = (process.env.CI ?? '') !== '';

/**
 * Runs node in a new session (setsid): no controlling terminal, so /dev/tty cannot be opened,
 * as under cron; every other way of handing over is then exercised for real.
 */
function runDetached(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The stored crypt hash of a mailbox on the demo host. */
function shadowHash(root: string, mailbox: string): string {
  const manifest = demoManifest(root)!;
  const [local, domain] = mailbox.split('@') as [string, string];
  const line = readFileSync(join(root, 'home', manifest.cpanelUser, 'etc', domain, 'shadow'), 'utf8').split('\n').find((l) => l.startsWith(`${local}:`))!;
  return line.split(':')[1]!.replace(/^!/, '');
}

function matchesHash(password: string, hash: string): boolean {
  const salt = hash.split('$')[2]!;
  return execFileSync('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], { input: password }).toString().trim() === hash;
}

describe('secrets file: one rule before the run and at the hand-over', () => {
  beforeAll(() => {
    expect(existsSync(CLI), 'run `npm run build` first (npm test does)').toBe(true);
  });

  it('every file the check refuses, the hand-over refuses too (and the other way round)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runbook-secrets-rule-'));
    const good = join(dir, 'good');
    writeFileSync(good, '', { mode: 0o600 });
    const loose = join(dir, 'loose');
    writeFileSync(loose, '', { mode: 0o644 });
    chmodSync(loose, 0o644);
    const cases: Record<string, string> = {
      'new file': join(dir, 'new'),
      'existing 0600 file': good,
      'new file in a missing directory': join(dir, 'sub', 'dir', 's'),
      'link to a good file': join(dir, 'link'),
      'dangling link': join(dir, 'dangling'),
      'loose file': loose,
      directory: join(dir, 'adir'),
      'under /proc': '/proc/self/nope/s',
    };
    const linked = join(dir, 'linked');
    writeFileSync(linked, '', { mode: 0o600 });
    symlinkSync(linked, cases['link to a good file']!);
    symlinkSync(join(dir, 'missing-target'), cases['dangling link']!);
    mkdirSync(cases.directory!);
    if (isRoot) {
      const foreign = join(dir, 'foreign');
      writeFileSync(foreign, '', { mode: 0o600 });
      chownSync(foreign, 65534, 65534);
      cases['file of another user'] = foreign;
    }
    const emergency = join(dir, 'emergency');
    const source = `
      import { checkSecretsFile, createSecretDelivery } from './dist/cli/secrets.js';
      import { Secret } from './dist/core/secret.js';
      const cases = ${JSON.stringify(cases)};
      const out = {};
      for (const [name, file] of Object.entries(cases)) {
        const problem = checkSecretsFile(file);
        const where = await createSecretDelivery({ secretsFile: file, fallbackFile: '/nonexistent/x', interactive: false, emergencyDir: ${JSON.stringify(emergency)} })('h1', 'new password for a@b on h1', new Secret('correct-horse-' + name.length));
        out[name] = { problem: problem ?? null, where };
      }
      console.log(JSON.stringify(out));`;
    const r = await runDetached(['--input-type=module', '-e', source]);
    expect(r.code, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as Record<string, { problem: string | null; where: string }>;
    for (const [name, { problem, where }] of Object.entries(results)) {
      const deliveredToFile = where === `written to ${cases[name]} (mode 0600)`;
      expect(deliveredToFile, `${name}: check says ${problem ?? 'fine'}, hand-over ${where}`).toBe(problem === null);
    }
    expect(results['link to a good file']!.problem).toMatch(/symbolic link/);
    expect(results['dangling link']!.problem).toMatch(/symbolic link/);
    expect(results['loose file']!.problem).toMatch(/readable or writable by others/);
    // What was refused went to a fresh private file whose path the operator was shown.
    const refused = Object.values(results).filter((x) => x.problem !== null);
    expect(refused.length).toBeGreaterThanOrEqual(5);
    const files = readdirSync(emergency);
    expect(files).toHaveLength(refused.length);
    for (const f of files) {
      expect(statSync(join(emergency, f)).mode & 0o777).toBe(0o600);
      expect(r.stderr).toContain(join(emergency, f));
    }
    // Nothing went through the link.
    expect(readFileSync(linked, 'utf8')).toBe('');
    rmSync(dir, { recursive: true, force: true });
  });
});

describe.skipIf(!isRoot && !inCi)('apply: the password hand-over fails after the reset', () => {
  let base: string;
  let fullDir: string;
  let mounted = false;

  beforeAll(() => {
    expect(isRoot, 'a full disk for the secrets file is a tmpfs, which needs root to mount').toBe(true);
    base = mkdtempSync(join(tmpdir(), 'runbook-secrets-lost-'));
    fullDir = join(base, 'full');
    mkdirSync(fullDir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4k,mode=0700', 'tmpfs', fullDir]);
    mounted = true;
    // Fill it: the check before the run passes (the directory is writable), the write fails.
    try {
      writeFileSync(join(fullDir, 'filler'), Buffer.alloc(64 * 1024));
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
  });

  afterAll(() => {
    if (mounted) execFileSync('umount', [fullDir]);
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('a symlinked --secrets-file is refused before anything changes', async () => {
    const root = join(base, 'state1', 'runbook', 'demo');
    await resetDemoHost(root);
    const mailbox = demoManifest(root)!.mailbox;
    const before = shadowHash(root, mailbox);
    const target = join(base, 'real-secrets');
    writeFileSync(target, '', { mode: 0o600 });
    const link = join(base, 'link-secrets');
    symlinkSync(target, link);
    const r = await runDetached([CLI, 'apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--yes', '--var', 'watch_for=1s', '--audit-dir', join(base, 'audit1'), '--secrets-file', link], { XDG_STATE_HOME: join(base, 'state1') });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`--secrets-file ${link}: a symbolic link`);
    expect(shadowHash(root, mailbox)).toBe(before);
  });

  it('the password that was set reaches the operator once, and the log says it changed and where it went', async () => {
    const root = join(base, 'state2', 'runbook', 'demo');
    await resetDemoHost(root);
    const mailbox = demoManifest(root)!.mailbox;
    const before = shadowHash(root, mailbox);
    const auditDir = join(base, 'audit2');
    const secrets = join(fullDir, 'secrets');
    const r = await runDetached([CLI, 'apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--yes', '--var', 'watch_for=1s', '--audit-dir', auditDir, '--secrets-file', secrets], { XDG_STATE_HOME: join(base, 'state2') });
    expect(r.code, r.stderr).toBe(0);
    const after = shadowHash(root, mailbox);
    expect(after).not.toBe(before);

    const shown = /it is in (\S+) \(mode 0600\)/.exec(r.stderr);
    expect(shown, r.stderr).not.toBeNull();
    const file = shown![1]!;
    expect(file.startsWith(`${auditDir}/`)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const [host, label, password] = readFileSync(file, 'utf8').trimEnd().split('\t') as [string, string, string];
    expect([host, label]).toEqual(['demo', `new password for ${mailbox} on demo`]);
    expect(matchesHash(password, after)).toBe(true);

    const logName = readdirSync(auditDir).find((f) => f.endsWith('.jsonl'))!;
    const log = readFileSync(join(auditDir, logName), 'utf8');
    for (const sink of [log, r.stdout, r.stderr]) expect(sink).not.toContain(password);
    const records = log.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; step?: string; message?: string; status?: string; summary?: string });
    const note = records.find((x) => x.type === 'note' && x.step === 'reset_password')!;
    expect(note.message).toContain(`written to ${file} (mode 0600), because it could not be written to ${secrets}`);
    expect(note.message).toMatch(/ENOSPC/);
    const finish = records.find((x) => x.type === 'step.finish' && x.step === 'reset_password')!;
    expect(finish).toMatchObject({ status: 'changed', summary: expect.stringContaining(`password of ${mailbox} replaced (handed over: written to ${file}`) });
  });
});
