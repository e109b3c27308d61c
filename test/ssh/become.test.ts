import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIncident, type IncidentManifest } from '../../fixtures/generator/incident.mjs';
import type { AuditRecord } from '../../src/audit/records.js';
import { Secret } from '../../src/core/secret.js';
import { BecomeError, type BecomeOptions, type SshTransport } from '../../src/transport/ssh.js';
import { runCli } from '../cli/run-cli.js';
import { startSshHosts, sshAvailable, sudoAvailable, type SshTestFleet, type SshTestHost, type TestLoginUser } from '../support/ssh-hosts.js';

/**
 * `become` for real: the client logs in to a real sshd as a user that is not root and runs
 * commands as root through the host's real sudo. The users, their passwords and their sudo
 * rules exist only inside the test host's mount namespace (private /etc/passwd, /etc/group,
 * /etc/shadow and /etc/sudoers.d): this machine's accounts are not touched.
 */

/** Uids (and user names) this machine does not use, so files they own are recognisable. */
function freeUids(count: number): number[] {
  const used = new Set(readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => Number(l.split(':')[2])));
  const out: number[] = [];
  for (let uid = 42_420; out.length < count; uid++) if (!used.has(uid)) out.push(uid);
  return out;
}

const SUDO_PASSWORD = 'sudo Pa55 for rb-pw; not on argv';
const GLOBAL_PASSWORD = 'another-sudo-pass-7';

function records(path: string): AuditRecord[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
}

describe.runIf((sshAvailable && sudoAvailable) || process.env.CI)('become: a non-root login user running commands as root through real sudo', () => {
  const [opsUid, pwUid, plainUid, globalUid, narrowUid] = freeUids(5) as [number, number, number, number, number];
  const users: TestLoginUser[] = [
    { name: 'rb-ops', uid: opsUid, sudo: 'ALL=(ALL:ALL) NOPASSWD: ALL' },
    { name: 'rb-pw', uid: pwUid, password: SUDO_PASSWORD, sudo: 'ALL=(ALL:ALL) ALL' },
    { name: 'rb-plain', uid: plainUid },
    // Credentials cached across sessions: sudo would skip the password if runbook let it.
    { name: 'rb-global', uid: globalUid, password: GLOBAL_PASSWORD, sudo: 'ALL=(ALL:ALL) ALL\nDefaults:rb-global timestamp_type=global' },
    // Allowed a few commands only: sudo's refusal of the others must not pass for their exit 1.
    { name: 'rb-narrow', uid: narrowUid, sudo: 'ALL=(root) NOPASSWD: /usr/bin/true, /usr/bin/id' },
  ];
  let fleet: SshTestFleet;
  let host: SshTestHost;
  let manifest: IncidentManifest;
  const open: SshTransport[] = [];

  const as = (user: string, become?: BecomeOptions): SshTransport => {
    const t = fleet.transport(host, { user, ...(become !== undefined ? { become } : {}) });
    open.push(t);
    return t;
  };

  beforeAll(async () => {
    fleet = await startSshHosts(1, {
      namePrefix: 'become',
      users,
      prepare: async ({ root }) => {
        manifest = await generateIncident({ root, mode: 'synthetic', sizes: { spam: 16, script: 12, legit: 4, bounces: 2, frozen: 1 }, seed: 4242 });
        // As on a real server: root's home, the spool and the main log are not for other users.
        chmodSync(join(root, 'root'), 0o700);
        chmodSync(manifest.spoolDir, 0o750);
        chmodSync(manifest.mainlog, 0o640);
      },
    });
    host = fleet.hosts[0]!;
  });

  afterAll(async () => {
    await Promise.all(open.map((t) => t.close()));
    await fleet?.stop();
  });

  it('become with a NOPASSWD rule: the login user is not root, the commands run as root and write as root', async () => {
    const plain = as('rb-ops');
    expect((await plain.exec(['id', '-u'])).stdout.trim()).toBe(String(opsUid));
    expect((await plain.exec(['id', '-un'])).stdout.trim()).toBe('rb-ops');

    const root = as('rb-ops', {});
    const id = await root.exec(['id', '-u']);
    expect(id).toMatchObject({ exitCode: 0, stderr: '' });
    expect(id.stdout.trim()).toBe('0');
    // It went through sudo from that login, not a root login.
    expect((await root.exec(['printenv', 'SUDO_USER'])).stdout.trim()).toBe('rb-ops');
    expect(root.stats().route).toEqual([`rb-ops@127.0.0.1:${host.port}`]);

    // A file written in root's own directory, and a real CSF deny through the simulator.
    const made = await root.exec(['touch', '/root/written-by-become']);
    expect(made.exitCode, made.stderr).toBe(0);
    expect(statSync(join(host.root, 'root', 'written-by-become')).uid).toBe(0);
    const deny = await root.exec([manifest.tools.csf, '-d', '203.0.113.77', 'runbook become test']);
    expect(deny.exitCode, deny.stdout + deny.stderr).toBe(0);
    const denyFile = join(manifest.layout.csfDir, 'csf.deny');
    expect(readFileSync(denyFile, 'utf8')).toContain('203.0.113.77');
    expect(statSync(denyFile).uid).toBe(0);
  });

  it('without become the same commands are refused with a permission error, and nothing is written', async () => {
    const plain = as('rb-ops');
    const touch = await plain.exec(['touch', '/root/not-without-become']);
    expect(touch.exitCode).not.toBe(0);
    expect(touch.stderr).toMatch(/Permission denied/);
    expect(existsSync(join(host.root, 'root', 'not-without-become'))).toBe(false);
    const denyFile = join(manifest.layout.csfDir, 'csf.deny');
    const before = readFileSync(denyFile, 'utf8');
    const deny = await plain.exec([manifest.tools.csf, '-d', '203.0.113.78']);
    expect(deny.exitCode).not.toBe(0);
    expect(deny.stdout + deny.stderr).toMatch(/EACCES|permission denied/i);
    expect(readFileSync(denyFile, 'utf8')).toBe(before);
  });

  it('a user sudo has no rule for: become fails when connecting, with a message that says what to set up', async () => {
    const t = as('rb-plain', {});
    await expect(t.connect()).rejects.toThrow(BecomeError);
    await expect(t.exec(['touch', '/root/never'])).rejects.toThrow(/sudo asks for a password \(or has no rule for the login user\).*NOPASSWD/);
    expect(existsSync(join(host.root, 'root', 'never'))).toBe(false);
  });

  it('become as another user (sudo -u), and a target user that does not exist is refused when connecting', async () => {
    const t = as('rb-ops', { user: 'rb-plain' });
    expect((await t.exec(['id', '-un'])).stdout.trim()).toBe('rb-plain');
    await expect(as('rb-ops', { user: 'rb-no-such-user' }).connect()).rejects.toThrow(/sudo refused to run commands as rb-no-such-user: .*unknown user/);
  });

  it('a command sudo will not run for this user is an error naming sudo, not the command failing with exit 1', async () => {
    const t = as('rb-narrow', {});
    expect((await t.exec(['id', '-u'])).stdout.trim()).toBe('0');
    await expect(t.exec(['grep', '-c', 'x', '/etc/hostname'])).rejects.toThrow(/^become-0: sudo asks for a password to run grep/);
  });

  it('become with a password: sudo reads it on stdin, it is on no command line and in no output', async () => {
    const password = new Secret(SUDO_PASSWORD);
    const t = as('rb-pw', { password });
    expect((await t.exec(['id', '-u'])).stdout.trim()).toBe('0');
    // The command's own stdin arrives whole after the password line, on every command.
    for (const data of ['first input\nsecond line\n', 'no newline at the end']) {
      const cat = await t.exec(['cat'], { stdin: data });
      expect(cat).toMatchObject({ exitCode: 0, stdout: data, stderr: '' });
    }

    // While sudo and the command run, no process on the host has the password on its command
    // line. The script gets the password to search for on its stdin, never on argv.
    const script = [
      'IFS= read -r S; export S',
      "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n' | awk 'index($0, ENVIRON[\"S\"]) {n++} END {print n+0}'",
      // sudo itself is alive as this script's parent: count it to show it was looked at.
      "ps -o args= -p \"$PPID\" | grep -c '^sudo '",
      'id -u',
    ].join('\n');
    const r = await t.exec(['sh', '-c', script], { stdin: `${SUDO_PASSWORD}\n` });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['0', '1', '0']);
    for (const text of [r.stdout, r.stderr, r.argv.join(' '), JSON.stringify(r)]) expect(text).not.toContain(SUDO_PASSWORD);
  });

  it('a wrong become password fails at once with a clear error, runs nothing and is not retried with the command input', async () => {
    const t = as('rb-pw', { password: new Secret('not the password') });
    const refused = await t.connect().then(() => undefined, (error: unknown) => error);
    expect(refused).toBeInstanceOf(BecomeError);
    expect((refused as Error).message).toMatch(/^become-0: sudo did not accept the become password \(nothing was run\)/);
    // Later commands get the same answer without asking sudo again (wrong passwords can lock accounts).
    const again = await t.exec(['touch', '/root/wrong-password'], { stdin: 'line1\nline2\nline3\n' }).then(() => undefined, (error: unknown) => error);
    expect(again).toBe(refused);
    expect(existsSync(join(host.root, 'root', 'wrong-password'))).toBe(false);
    // No password at all where sudo wants one: the same, without waiting on sudo.
    await expect(as('rb-pw', {}).connect()).rejects.toThrow(/sudo asks for a password.*give a become password/);
  });

  it('a password configured where sudo needs none is never sent: the command input is intact', async () => {
    const t = as('rb-ops', { password: new Secret('unused-sudo-password') });
    expect(await t.exec(['cat'], { stdin: 'payload\n' })).toMatchObject({ exitCode: 0, stdout: 'payload\n' });
    expect((await t.exec(['id', '-u'])).stdout.trim()).toBe('0');
  });

  it('where sudo shares cached credentials between sessions, the password line still never reaches the command', async () => {
    const t = as('rb-global', { password: new Secret(GLOBAL_PASSWORD) });
    for (const data of ['payload 1\n', 'payload 2\n', 'payload 3\n']) {
      expect(await t.exec(['cat'], { stdin: data })).toMatchObject({ exitCode: 0, stdout: data });
    }
  });

  it('a timeout under become with a password kills the root process, and the connection stays usable', async () => {
    const t = as('rb-pw', { password: new Secret(SUDO_PASSWORD) });
    let pid = '';
    // A short sleep: if the kill failed, it still ends soon by itself.
    const r = await t.exec(['sh', '-c', 'echo $$; exec sleep 30'], {
      timeoutMs: 800,
      onStdout: (c) => {
        pid += c.toString();
      },
    });
    expect(r.timedOut).toBe(true);
    pid = pid.trim();
    expect(pid).toMatch(/^\d+$/);
    // The sleep ran as root (uid 0 in /proc) and is gone after the kill.
    let alive = true;
    for (let i = 0; i < 40 && alive; i++) {
      alive = (await t.exec(['kill', '-0', pid])).exitCode === 0;
      if (alive) await new Promise((res) => setTimeout(res, 100));
    }
    expect(alive).toBe(false);
    expect((await t.exec(['id', '-u'])).stdout.trim()).toBe('0');
  });

  describe('through the CLI: an inventory host with a non-root user and become: true', () => {
    let base: string;
    let inventory: string;
    let ansibleInventory: string;
    const env = (): Record<string, string> => ({ HOME: join(base, 'home'), SSH_AUTH_SOCK: '' });

    beforeAll(() => {
      expect(existsSync(join(process.cwd(), 'dist/cli/main.js')), 'run `npm run build` first (npm test does)').toBe(true);
      base = mkdtempSync(join(tmpdir(), 'runbook-become-cli-'));
      mkdirSync(join(base, 'home'));
      inventory = join(base, 'inventory.yml');
      ansibleInventory = join(base, 'ansible-hosts.yml');
      const entry = (extra: Record<string, unknown>) => ({
        ssh_host: '127.0.0.1',
        port: host.port,
        user: 'rb-ops',
        identity_file: fleet.clientKey,
        tools: manifest.tools,
        layout: manifest.layout,
        vars: { allow_documentation_ips: true },
        ...extra,
      });
      writeFileSync(inventory, JSON.stringify({ hosts: { 'mx-become': entry({ become: true }), 'mx-plain': entry({}), 'mx-norule': entry({ user: 'rb-plain', become: true }), 'mx-pw': entry({ user: 'rb-pw', become: true }) } }));
      // The same host in an Ansible inventory: ansible_user and ansible_become.
      writeFileSync(
        ansibleInventory,
        JSON.stringify({
          all: {
            hosts: {
              'mx-ansible': {
                ansible_host: '127.0.0.1',
                ansible_port: host.port,
                ansible_user: 'rb-ops',
                ansible_ssh_private_key_file: fleet.clientKey,
                ansible_become: 'yes',
                ...Object.fromEntries(Object.entries(manifest.tools).map(([k, v]) => [`runbook_tool_${k}`, v])),
              },
            },
          },
        }),
      );
    });
    afterAll(() => {
      if (base) rmSync(base, { recursive: true, force: true });
    });

    const investigate = (limit: string, file = inventory) =>
      runCli(
        ['apply', 'playbooks/investigate.yml', '-i', file, '-l', limit, '--known-hosts', fleet.knownHostsFile, '--audit-dir', join(base, 'audit', limit), '--json', '--var', 'min_messages=8'],
        { env: env(), timeoutMs: 60_000 },
      );

    it('runbook apply playbooks/investigate.yml finds the compromised mailbox as root, end to end', async () => {
      const r = await investigate('mx-become');
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { auditLog: string; exitCode: number };
      expect(out.exitCode).toBe(0);
      expect(r.stdout).toContain(manifest.mailbox);
      const log = records(out.auditLog);
      expect(log.find((x) => x.type === 'host.finish')).toMatchObject({ host: 'mx-become', status: 'ok' });
      expect((await runCli(['audit', 'verify', out.auditLog])).code).toBe(0);
    });

    it('a sudo password from --become-password-file (0600) works and is seen nowhere', async () => {
      const file = join(base, 'become-pass');
      writeFileSync(file, `${SUDO_PASSWORD}\n`, { mode: 0o644 });
      const loose = await runCli(['apply', 'playbooks/investigate.yml', '-i', inventory, '-l', 'mx-pw', '--become-password-file', file, '--known-hosts', fleet.knownHostsFile], { env: env() });
      expect(loose.code).toBe(2);
      expect(loose.stderr).toMatch(/readable by others; chmod 600 it/);
      chmodSync(file, 0o600);
      const r = await runCli(
        ['apply', 'playbooks/investigate.yml', '-i', inventory, '-l', 'mx-pw', '--become-password-file', file, '--known-hosts', fleet.knownHostsFile, '--audit-dir', join(base, 'audit', 'pw'), '--json', '--var', 'min_messages=8'],
        { env: env(), timeoutMs: 60_000 },
      );
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(manifest.mailbox);
      const out = JSON.parse(r.stdout) as { auditLog: string };
      for (const sink of [r.stdout, r.stderr, readFileSync(out.auditLog, 'utf8')]) expect(sink).not.toContain(SUDO_PASSWORD);
    });

    it('an Ansible inventory with ansible_user and ansible_become works the same way', async () => {
      const r = await investigate('mx-ansible', ansibleInventory);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(manifest.mailbox);
    });

    it('become for a user sudo has no rule for: the host stops before any step, and the outcome says why', async () => {
      const r = await investigate('mx-norule');
      expect(r.code).not.toBe(0);
      const out = JSON.parse(r.stdout) as { auditLog: string; hosts: Array<{ host: string; status: string; error?: string }> };
      expect(out.hosts[0]).toMatchObject({ host: 'mx-norule', error: expect.stringMatching(/sudo asks for a password \(or has no rule for the login user\)/) });
      expect(records(out.auditLog).some((x) => x.type === 'step.finish' && x.status === 'ok')).toBe(false);
    });

    it('the same host without become: the read fails with a permission error, not an empty finding', async () => {
      const r = await investigate('mx-plain');
      expect(r.code).not.toBe(0);
      expect(r.stdout + r.stderr).toMatch(/permission denied/i);
      expect(r.stdout).not.toContain(manifest.mailbox);
    });

    it('runbook apply playbooks/spam-incident.yml --yes contains the incident as root; the new mailbox password is seen nowhere', async () => {
      const secrets = join(base, 'secrets.tsv');
      const shadow = join(host.root, 'home', manifest.cpanelUser, 'etc', manifest.domain, 'shadow');
      const shadowBefore = readFileSync(shadow, 'utf8');
      const r = await runCli(
        ['apply', 'playbooks/spam-incident.yml', '-i', inventory, '-l', 'mx-become', '--known-hosts', fleet.knownHostsFile, '--audit-dir', join(base, 'audit', 'contain'), '--yes', '--secrets-file', secrets, '--var', 'min_messages=8', '--var', 'watch_for=1s'],
        { env: env(), timeoutMs: 90_000 },
      );
      expect(r.code, r.stdout + r.stderr).toBe(0);
      // The script is disabled and the attacker addresses are blocked, in files only root may write.
      expect(statSync(manifest.script.path).mode & 0o777).toBe(0);
      const deny = readFileSync(join(manifest.layout.csfDir, 'csf.deny'), 'utf8');
      for (const ip of manifest.attackerIps) expect(deny).toContain(ip);
      expect(readFileSync(shadow, 'utf8')).not.toBe(shadowBefore);
      // The mailbox password reached uapi on stdin through sudo: it is nowhere else.
      const password = readFileSync(secrets, 'utf8').trim().split('\t').at(-1)!;
      expect(password).toMatch(/^[A-Za-z0-9]{16,}$/);
      const auditDir = join(base, 'audit', 'contain');
      for (const sink of [r.stdout, r.stderr, readFileSync(join(host.root, 'var/log/sim-calls.log'), 'utf8'), ...readdirSync(auditDir).map((f) => readFileSync(join(auditDir, f), 'utf8'))]) {
        expect(sink.includes(password)).toBe(false);
      }
    });
  });
});
