import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../src/core/secret.js';
import { sha256Fingerprint } from '../../src/transport/known-hosts.js';
import { UnquotableArgumentError } from '../../src/transport/quote.js';
import { parseSshConfig } from '../../src/transport/ssh-config.js';
import { SshTransport, becomeArgv } from '../../src/transport/ssh.js';
import { CommandNotFoundError, HostUnreachableError } from '../../src/transport/types.js';
import { startSshHosts, sshAvailable, type SshTestFleet, type SshTestHost } from '../support/ssh-hosts.js';
import { hostileWord, splitNul } from './hostile.js';

function fingerprintOf(host: SshTestHost): string {
  return sha256Fingerprint(Buffer.from(host.hostKeyPub.split(' ')[1]!, 'base64'));
}

describe('becomeArgv', () => {
  it('wraps argv in non-interactive sudo, or sudo -S when a password is configured', () => {
    expect(becomeArgv(['id'], undefined)).toEqual(['id']);
    expect(becomeArgv(['id', '-u'], {})).toEqual(['sudo', '-n', '--', 'id', '-u']);
    expect(becomeArgv(['id'], { user: 'bob' })).toEqual(['sudo', '-n', '-u', 'bob', '--', 'id']);
    expect(becomeArgv(['id'], { password: new Secret('sudo-password-1') })).toEqual(['sudo', '-k', '-S', '-p', '', '--', 'id']);
  });
});

describe.runIf(sshAvailable || process.env.CI)('SSH transport against real sshd hosts', () => {
  let fleet: SshTestFleet;
  let host: SshTestHost;
  let shared: SshTransport;

  beforeAll(async () => {
    fleet = await startSshHosts(2, { namePrefix: 'ssh' });
    host = fleet.hosts[0]!;
    shared = fleet.transport(host);
  });
  afterAll(async () => {
    await shared?.close();
    await fleet?.stop();
  });

  it('authenticates by key, reuses one connection and counts bytes', async () => {
    const a = await shared.exec(['printf', '%s|', 'a b', "it's"]);
    expect(a).toMatchObject({ exitCode: 0, stdout: "a b|it's|", timedOut: false, aborted: false });
    const before = shared.stats();
    const b = await shared.exec(['id', '-u']);
    expect(b.stdout.trim()).toBe('0');
    const after = shared.stats();
    expect(after.bytesIn).toBeGreaterThan(before.bytesIn);
    expect(after.route).toEqual([`root@127.0.0.1:${host.port}`]);
  });

  it('each test host sees its own /home (mount namespace)', async () => {
    const other = fleet.transport(fleet.hosts[1]!);
    try {
      writeFileSync(join(host.root, 'home', 'marker'), 'host-0');
      expect((await shared.exec(['cat', '/home/marker'])).stdout).toBe('host-0');
      expect((await other.exec(['cat', '/home/marker'])).exitCode).not.toBe(0);
    } finally {
      await other.close();
    }
  });

  it('hostile argv arrives unchanged through the remote shell', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(hostileWord, { minLength: 1, maxLength: 6 }), async (words) => {
        const r = await shared.exec(['printf', '%s\\0', ...words]);
        expect(r.exitCode).toBe(0);
        expect(splitNul(Buffer.from(r.stdout, 'utf8'))).toEqual(words);
      }),
      { numRuns: 25 },
    );
  });

  it('keeps stderr and exit codes exactly as the command wrote them', async () => {
    const r = await shared.exec(['sh', '-c', 'printf "first\\nsecond\\n" >&2; exit 3']);
    expect(r.stderr).toBe('first\nsecond\n');
    expect(r.exitCode).toBe(3);
  });

  it('refuses NUL bytes in argv before anything is sent', async () => {
    await expect(shared.exec(['echo', 'a\0b'])).rejects.toBeInstanceOf(UnquotableArgumentError);
  });

  it('a stdin secret reaches the remote command and no process argv', async () => {
    const secret = new Secret('Tr0ub4dor&3-not-on-argv');
    const script = [
      'IFS= read -r S; export S',
      'printf %s "$S" | sha256sum | cut -c1-64',
      // every process command line on the host, searched without putting S on any argv
      "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n' | awk 'index($0, ENVIRON[\"S\"]) {n++} END {print n+0}'",
    ].join('\n');
    const r = await shared.exec(['sh', '-c', script], { stdin: secret });
    const [digest, hits] = r.stdout.trim().split('\n');
    const expected = spawnSync('sha256sum', { input: secret.reveal() }).stdout.toString().slice(0, 64);
    expect(digest).toBe(expected);
    expect(hits).toBe('0');
    expect(r.argv.join(' ')).not.toContain(secret.reveal());
  });

  it('streams a large output without retaining it', async () => {
    let streamed = 0;
    const r = await shared.exec(['head', '-c', '30000000', '/dev/zero'], {
      maxOutputBytes: 1024 * 1024,
      onStdout: (chunk) => {
        streamed += chunk.length;
      },
    });
    expect(r.exitCode).toBe(0);
    expect(streamed).toBe(30_000_000);
    expect(r.stdoutBytes).toBe(30_000_000);
    expect(r.stdout.length).toBe(1024 * 1024);
    expect(r.truncated).toBe(true);
  });

  it('a timeout kills the remote process and keeps the connection usable', async () => {
    let pid = '';
    const r = await shared.exec(['sh', '-c', 'echo $$; exec sleep 300'], {
      timeoutMs: 800,
      onStdout: (c) => {
        pid += c.toString();
      },
    });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeNull();
    pid = pid.trim();
    expect(pid).toMatch(/^\d+$/);
    let alive = true;
    for (let i = 0; i < 40 && alive; i++) {
      alive = (await shared.exec(['kill', '-0', pid])).exitCode === 0;
      if (alive) await new Promise((res) => setTimeout(res, 100));
    }
    expect(alive).toBe(false);
  });

  it('an abort signal stops the command', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const r = await shared.exec(['sleep', '300'], { signal: controller.signal });
    expect(r.aborted).toBe(true);
  });

  it('reports a missing program as CommandNotFoundError', async () => {
    await expect(shared.exec(['runbook-no-such-tool', '--x'])).rejects.toBeInstanceOf(CommandNotFoundError);
    expect((await shared.exec(['sh', '-c', 'exit 127'])).exitCode).toBe(127);
  });

  it('authenticates with a passphrase-protected key, asking for the passphrase', async () => {
    const asked: string[] = [];
    const t = fleet.transport(host, {
      identityFiles: [fleet.clientKeyWithPassphrase],
      askPassphrase: async (file) => {
        asked.push(file);
        return fleet.passphrase;
      },
    });
    try {
      expect((await t.exec(['true'])).exitCode).toBe(0);
      expect(asked).toEqual([fleet.clientKeyWithPassphrase]);
    } finally {
      await t.close();
    }
    const noPrompt = fleet.transport(host, { identityFiles: [fleet.clientKeyWithPassphrase] });
    await expect(noPrompt.exec(['true'])).rejects.toThrow(/authentication as root failed/);
    await noPrompt.close();
  });

  it('authenticates through a real ssh-agent', async () => {
    const sock = join(fleet.dir, 'agent.sock');
    const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 50; i++) {
        const add = spawnSync('ssh-add', [fleet.clientKey], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
        if (add.status === 0) break;
        await new Promise((res) => setTimeout(res, 50));
      }
      const t = fleet.transport(host, { identityFiles: [], agentSocket: sock });
      try {
        expect((await t.exec(['echo', 'via agent'])).stdout).toBe('via agent\n');
      } finally {
        await t.close();
      }
    } finally {
      agent.kill('SIGTERM');
    }
  });

  it('follows ~/.ssh/config with ProxyJump through another sshd', async () => {
    const [jump, target] = fleet.hosts as [SshTestHost, SshTestHost];
    const config = parseSshConfig(
      [
        'Host bastion',
        '  HostName 127.0.0.1',
        `  Port ${jump.port}`,
        'Host web-*',
        '  HostName 127.0.0.1',
        `  Port ${target.port}`,
        '  ProxyJump root@bastion',
        'Host *',
        '  User root',
        `  IdentityFile ${fleet.clientKey}`,
      ].join('\n'),
    );
    const t = new SshTransport({
      host: 'web-1',
      sshConfig: config,
      agentSocket: null,
      knownHostsFile: fleet.knownHostsFile,
    });
    try {
      writeFileSync(join(target.root, 'home', 'who'), 'target');
      expect((await t.exec(['cat', '/home/who'])).stdout).toBe('target');
      expect(t.stats().route).toEqual([`root@127.0.0.1:${jump.port}`, `root@127.0.0.1:${target.port}`]);
    } finally {
      await t.close();
    }
  });

  it('refuses an unknown host key, showing its SHA256 fingerprint and what to do', async () => {
    const empty = join(fleet.dir, 'known_hosts.empty');
    writeFileSync(empty, '');
    const t = fleet.transport(host, { knownHostsFile: empty });
    const error = await t.exec(['true']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostUnreachableError);
    const message = (error as Error).message;
    expect(message).toContain(fingerprintOf(host));
    expect(message).toMatch(/ssh-keyscan/);
    expect(message).toMatch(/--accept-new-host-keys/);
    expect(readFileSync(empty, 'utf8')).toBe('');
  });

  it('accept-new trusts a first-seen key, records it and reports it', async () => {
    const file = join(fleet.dir, 'known_hosts.tofu');
    writeFileSync(file, '');
    const accepted: Array<[string, string]> = [];
    const t = fleet.transport(host, {
      knownHostsFile: file,
      acceptNewHostKeys: true,
      onHostKeyAccepted: (h, fp) => accepted.push([h, fp]),
    });
    expect((await t.exec(['true'])).exitCode).toBe(0);
    await t.close();
    expect(accepted).toEqual([[`[127.0.0.1]:${host.port}`, fingerprintOf(host)]]);
    const found = spawnSync('ssh-keygen', ['-F', `[127.0.0.1]:${host.port}`, '-f', file]);
    expect(found.status).toBe(0);
    const again = fleet.transport(host, { knownHostsFile: file });
    expect((await again.exec(['true'])).exitCode).toBe(0);
    await again.close();
  });

  it('refuses a CHANGED host key loudly, even with accept-new', async () => {
    const other = join(fleet.dir, 'other_key');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const otherPub = readFileSync(`${other}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    const file = join(fleet.dir, 'known_hosts.changed');
    const content = `[127.0.0.1]:${host.port} ${otherPub}\n`;
    writeFileSync(file, content);
    const t = fleet.transport(host, { knownHostsFile: file, acceptNewHostKeys: true });
    const error = await t.exec(['true']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostUnreachableError);
    expect((error as Error).message).toMatch(/HOST KEY CHANGED.*man-in-the-middle/s);
    expect((error as Error).message).toContain(fingerprintOf(host));
    expect(readFileSync(file, 'utf8')).toBe(content);
  });

  it('refuses a key marked @revoked', async () => {
    const file = join(fleet.dir, 'known_hosts.revoked');
    writeFileSync(file, `@revoked * ${host.hostKeyPub}\n[127.0.0.1]:${host.port} ${host.hostKeyPub}\n`);
    const t = fleet.transport(host, { knownHostsFile: file });
    await expect(t.exec(['true'])).rejects.toThrow(/@revoked/);
  });

  it('accepts hashed known_hosts entries', async () => {
    const file = join(fleet.dir, 'known_hosts.hashed');
    writeFileSync(file, `[127.0.0.1]:${host.port} ${host.hostKeyPub}\n`);
    expect(spawnSync('ssh-keygen', ['-H', '-f', file]).status).toBe(0);
    const t = fleet.transport(host, { knownHostsFile: file });
    expect((await t.exec(['true'])).exitCode).toBe(0);
    await t.close();
  });

  it('a host that is down is HostUnreachableError with a clear message', async () => {
    const down = fleet.transport(host, { port: 1 });
    const error = await down.exec(['true']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostUnreachableError);
    expect((error as Error).message).toMatch(/cannot connect to 127\.0\.0\.1:1 \(ECONNREFUSED\)/);
  });

  it('sshd killed mid-command is HostUnreachableError, and so is every later command', async () => {
    const victim = await fleet.addHost('ssh-victim');
    const t = fleet.transport(victim);
    try {
      expect((await t.exec(['true'])).exitCode).toBe(0);
      const running = t.exec(['sleep', '60']);
      await new Promise((res) => setTimeout(res, 300));
      victim.kill();
      await expect(running).rejects.toBeInstanceOf(HostUnreachableError);
      await expect(t.exec(['true'])).rejects.toBeInstanceOf(HostUnreachableError);
    } finally {
      await t.close();
    }
  });
});
