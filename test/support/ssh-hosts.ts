/**
 * Real sshd test hosts on 127.0.0.1. Each sshd runs in its own mount namespace with bind
 * mounts giving it its own spool, logs, homes, CSF directory and /run, so several "hosts" on
 * one machine do not see each other's state. Every sshd is stopped at teardown.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SshTransport, type SshTransportOptions } from '../../src/transport/ssh.js';

const SSHD = '/usr/sbin/sshd';

/** sshd, ssh-keygen and unshare (with the right to use it) are present. */
export const sshAvailable: boolean =
  existsSync(SSHD) &&
  existsSync('/usr/bin/ssh-keygen') &&
  spawnSync('unshare', ['-m', '--propagation', 'private', 'true'], { stdio: 'ignore' }).status === 0;

/** sudo is installed (for test hosts whose login user becomes root). */
export const sudoAvailable: boolean = existsSync('/usr/bin/sudo') && existsSync('/etc/sudoers.d');

/** Host paths each test host gets its own copy of. /root too: root's login shell must not run this machine's ~/.bashrc. */
export const PER_HOST_DIRS = ['/var/spool/exim4', '/var/log/exim4', '/home', '/etc/csf', '/run', '/root'];

export interface SshTestHost {
  name: string;
  port: number;
  /** This host's private filesystem root: `${root}/home` is its /home, and so on. */
  root: string;
  hostKeyFile: string;
  /** The host key line as `ssh-ed25519 AAAA...`. */
  hostKeyPub: string;
  readonly running: boolean;
  /** SIGKILL the sshd and its sessions: the host "dies". */
  kill(): void;
  stop(): Promise<void>;
  /** Start this host's sshd again (same port, key and filesystem) after kill() or stop(). */
  restart(): Promise<void>;
}

export interface SshTestFleet {
  dir: string;
  hosts: SshTestHost[];
  clientKey: string;
  /** Same client identity protected by a passphrase. */
  clientKeyWithPassphrase: string;
  passphrase: string;
  knownHostsFile: string;
  /** Options for SshTransport that reach `host` with the fleet's key and known_hosts. */
  transportOptions(host: SshTestHost, extra?: Partial<SshTransportOptions>): SshTransportOptions;
  transport(host: SshTestHost, extra?: Partial<SshTransportOptions>): SshTransport;
  /** Start one more host (same client key, added to known_hosts). */
  addHost(name?: string): Promise<SshTestHost>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Extra bind mounts per host: source on this machine → path the host sees. */
  binds?: (host: { name: string; root: string; index: number }) => Array<{ source: string; target: string }>;
  /** Populate a host root before its sshd starts (e.g. lay out the cPanel simulator). */
  prepare?: (host: { name: string; root: string; index: number }) => Promise<void>;
  namePrefix?: string;
  /**
   * Login users that exist only inside each test host: the host gets private copies of
   * /etc/passwd, /etc/group and /etc/shadow with these users added, its own /etc/sudoers.d
   * holding their sudo rules and its own /var/lib/sudo. This machine's /etc is never changed.
   */
  users?: TestLoginUser[];
  /** More sshd_config lines for every host (e.g. a ForceCommand that holds sessions). */
  sshdConfig?: string[];
}

/** A non-root account on a test host, reachable with the fleet's client key. */
export interface TestLoginUser {
  name: string;
  /** Also its primary group id (a group of the same name is added). */
  uid: number;
  /** The account's password, which sudo asks for when the rule requires one. Default: none. */
  password?: string;
  /** The sudoers rule after the user name, e.g. `ALL=(ALL:ALL) NOPASSWD: ALL`. Default: no rule. */
  sudo?: string;
}

/** SHA-512 crypt of a password, given to perl on stdin (never on argv). */
function cryptPassword(password: string): string {
  const salt = Math.random().toString(36).slice(2, 10).padEnd(8, 'x');
  const r = spawnSync('perl', ['-e', 'my $p = <STDIN>; print crypt($p, $ARGV[0])', `$6$${salt}$`], { input: password, encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout.startsWith('$6$')) throw new Error(`cannot hash a password with perl: ${r.stderr}`);
  return r.stdout;
}

/**
 * Private account files for one host: this machine's passwd/group/shadow plus the test users,
 * a sudoers.d with their rules, and each user's home (under the host's own /home) holding the
 * fleet's authorized keys. Returns the bind mounts that put them in place.
 */
async function prepareUsers(
  users: TestLoginUser[],
  hostDir: string,
  root: string,
  authorizedKeys: string,
): Promise<Array<{ source: string; target: string }>> {
  const etc = join(hostDir, 'etc');
  const sudoers = join(etc, 'sudoers.d');
  const sudoState = join(hostDir, 'var-lib-sudo');
  await mkdir(sudoers, { recursive: true, mode: 0o755 });
  await mkdir(sudoState, { recursive: true, mode: 0o700 });
  // Days since the epoch: a password changed "today" is neither expired nor due for change.
  const today = Math.floor(Date.now() / 86_400_000);
  const passwd = users.map((u) => `${u.name}:x:${u.uid}:${u.uid}:runbook test user:/home/${u.name}:/bin/sh`);
  const group = users.map((u) => `${u.name}:x:${u.uid}:`);
  // '*' is "no password" without locking the account (sshd refuses keys for a '!' account).
  const shadow = users.map((u) => `${u.name}:${u.password !== undefined ? cryptPassword(u.password) : '*'}:${today}:0:99999:7:::`);
  const withLines = async (file: string, lines: string[], mode: number): Promise<void> => {
    const text = await readFile(`/etc/${file}`, 'utf8');
    await writeFile(join(etc, file), `${text.endsWith('\n') || text === '' ? text : `${text}\n`}${lines.join('\n')}\n`, { mode });
    await chmod(join(etc, file), mode);
  };
  await withLines('passwd', passwd, 0o644);
  await withLines('group', group, 0o644);
  await withLines('shadow', shadow, 0o640);
  const rules = users.filter((u) => u.sudo !== undefined).map((u) => `${u.name} ${u.sudo}`);
  if (rules.length > 0) {
    // sudo ignores a sudoers.d file that is not root's or is writable by others.
    const file = join(sudoers, 'runbook-test');
    await writeFile(file, `${rules.join('\n')}\n`, { mode: 0o440 });
    await chmod(file, 0o440);
  }
  const keys = await readFile(authorizedKeys);
  for (const u of users) {
    const home = join(root, 'home', u.name);
    await mkdir(join(home, '.ssh'), { recursive: true });
    await writeFile(join(home, '.ssh', 'authorized_keys'), keys, { mode: 0o600 });
    for (const p of [home, join(home, '.ssh'), join(home, '.ssh', 'authorized_keys')]) await chown(p, u.uid, u.uid);
    await chmod(home, 0o700);
  }
  const binds = [
    { source: join(etc, 'passwd'), target: '/etc/passwd' },
    { source: join(etc, 'group'), target: '/etc/group' },
    { source: join(etc, 'shadow'), target: '/etc/shadow' },
  ];
  if (existsSync('/etc/sudoers.d')) binds.push({ source: sudoers, target: '/etc/sudoers.d' });
  else if (rules.length > 0) throw new Error('test users with sudo rules need sudo installed (apt-get install sudo)');
  // sudo remembers who saw its lecture and whose credentials are cached there and in /run.
  if (existsSync('/var/lib/sudo')) binds.push({ source: sudoState, target: '/var/lib/sudo' });
  return binds;
}

function run(file: string, args: string[]): void {
  const r = spawnSync(file, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} failed: ${r.stderr}`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForBanner(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`sshd on port ${port} exited: ${stderr()}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('data', (d) => {
        s.destroy();
        resolve(d.toString('latin1').startsWith('SSH-'));
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`sshd on port ${port} did not answer: ${stderr()}`);
}

// Mounts each (source, target) pair, then execs the rest: values travel as arguments only.
const MOUNT_AND_EXEC =
  'while [ "$1" != "--" ]; do mount --bind "$1" "$2" || exit 97; shift 2; done; shift; exec "$@"';

export async function startSshHosts(count: number, options: StartOptions = {}): Promise<SshTestFleet> {
  const dir = await mkdtemp(join(tmpdir(), 'runbook-ssh-'));
  await chmod(dir, 0o755);
  const clientKey = join(dir, 'client_ed25519');
  const clientKeyWithPassphrase = join(dir, 'client_ed25519_pw');
  const passphrase = 'correct horse battery';
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'runbook-test', '-f', clientKey]);
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'runbook-test-pw', '-f', clientKeyWithPassphrase]);
  const authorizedKeys = join(dir, 'authorized_keys');
  await writeFile(
    authorizedKeys,
    (await readFile(`${clientKey}.pub`, 'utf8')) + (await readFile(`${clientKeyWithPassphrase}.pub`, 'utf8')),
    { mode: 0o600 },
  );
  const knownHostsFile = join(dir, 'known_hosts');
  await writeFile(knownHostsFile, '');
  for (const d of PER_HOST_DIRS) if (!existsSync(d)) await mkdir(d, { recursive: true });

  const hosts: SshTestHost[] = [];

  const startHost = async (index: number, name: string): Promise<SshTestHost> => {
    const hostDir = join(dir, name);
    const root = join(hostDir, 'root');
    for (const d of PER_HOST_DIRS) await mkdir(join(root, d), { recursive: true });
    await mkdir(join(root, 'run', 'sshd'), { recursive: true, mode: 0o755 });
    await options.prepare?.({ name, root, index });
    const hostKeyFile = join(hostDir, 'ssh_host_ed25519_key');
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', hostKeyFile]);
    const hostKeyPub = (await readFile(`${hostKeyFile}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
    const users = options.users ?? [];
    const binds = [
      ...PER_HOST_DIRS.map((d) => ({ source: join(root, d), target: d })),
      ...(users.length > 0 ? await prepareUsers(users, hostDir, root, authorizedKeys) : []),
      ...(options.binds?.({ name, root, index }) ?? []),
    ];
    const config = join(hostDir, 'sshd_config');
    const writeConfig = (port: number) =>
      writeFile(
        config,
        [
          // First: sshd takes the first value of a keyword, so these override the lines below.
          ...(options.sshdConfig ?? []),
          `Port ${port}`,
          'ListenAddress 127.0.0.1',
          `HostKey ${hostKeyFile}`,
          `PidFile ${join(hostDir, 'sshd.pid')}`,
          // sshd reads the keys file as the user logging in: test users have their own copy.
          users.length > 0 ? `AuthorizedKeysFile ${authorizedKeys} .ssh/authorized_keys` : `AuthorizedKeysFile ${authorizedKeys}`,
          'StrictModes no',
          'UsePAM no',
          'PermitRootLogin yes',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'PubkeyAuthentication yes',
          'AllowTcpForwarding yes',
          'MaxSessions 100',
          'MaxStartups 200',
          'LogLevel ERROR',
          '',
        ].join('\n'),
      );
    /** sshd in its own mount namespace; resolves once it answers on `port`. */
    const launch = async (port: number): Promise<{ child: ChildProcess; stderr: () => string }> => {
      const child = spawn(
        'unshare',
        [
          '-m',
          '--propagation',
          'private',
          '--',
          'sh',
          '-c',
          MOUNT_AND_EXEC,
          'sh',
          ...binds.flatMap((b) => [b.source, b.target]),
          '--',
          SSHD,
          '-D',
          '-e',
          '-f',
          config,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
      );
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString('utf8');
      });
      try {
        await waitForBanner(port, child, () => stderr);
      } catch (error) {
        child.kill('SIGKILL');
        throw error;
      }
      return { child, stderr: () => stderr };
    };
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      await writeConfig(port);
      let child: ChildProcess;
      try {
        ({ child } = await launch(port));
      } catch (error) {
        if (attempt < 3 && /Bind|Address already in use/i.test((error as Error).message)) continue;
        throw error;
      }
      const line = `[127.0.0.1]:${port} ${hostKeyPub}\n`;
      await writeFile(knownHostsFile, line, { flag: 'a' });
      const host: SshTestHost = {
        name,
        port,
        root,
        hostKeyFile,
        hostKeyPub,
        get running() {
          return child.exitCode === null && child.signalCode === null;
        },
        kill() {
          if (child.pid !== undefined && host.running) {
            // sshd's session children are in their own sessions: kill them by their parent.
            spawnSync('pkill', ['-KILL', '-P', String(child.pid)]);
            try {
              process.kill(-child.pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
        },
        async stop() {
          if (child.pid === undefined || !host.running) return;
          const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          spawnSync('pkill', ['-TERM', '-P', String(child.pid)]);
          process.kill(child.pid, 'SIGTERM');
          const timer = setTimeout(() => host.kill(), 3000);
          await exited;
          clearTimeout(timer);
        },
        async restart() {
          if (host.running) return;
          ({ child } = await launch(port));
        },
      };
      return host;
    }
  };

  const prefix = options.namePrefix ?? 'host';
  // Start hosts a few at a time: key generation and sshd start are CPU-bound.
  const batch = 8;
  for (let i = 0; i < count; i += batch) {
    const started = await Promise.all(
      Array.from({ length: Math.min(batch, count - i) }, (_, j) => startHost(i + j, `${prefix}-${i + j}`)),
    );
    hosts.push(...started);
  }

  const transportOptions = (host: SshTestHost, extra: Partial<SshTransportOptions> = {}): SshTransportOptions => ({
    host: host.name,
    hostname: '127.0.0.1',
    port: host.port,
    user: 'root',
    identityFiles: [clientKey],
    agentSocket: null,
    sshConfig: false,
    knownHostsFile,
    connectTimeoutMs: 10_000,
    ...extra,
  });

  return {
    dir,
    hosts,
    clientKey,
    clientKeyWithPassphrase,
    passphrase,
    knownHostsFile,
    transportOptions,
    transport: (host, extra) => new SshTransport(transportOptions(host, extra)),
    async addHost(name) {
      const host = await startHost(hosts.length, name ?? `${prefix}-${hosts.length}`);
      hosts.push(host);
      return host;
    },
    async stop() {
      await Promise.all(hosts.map((h) => h.stop()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
