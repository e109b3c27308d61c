import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findExecutable } from '../../src/core/find-executable.js';
import { hostPatternsMatch, parseSshConfig, parseSshG, parseUserHostPort, resolveSshConfig, sshHostResolver } from '../../src/transport/ssh-config.js';

const CONFIG = `
# operator config
User fallback-before-host

Host web? !web9
  HostName %h.example.net
  Port 2222
  IdentityFile ~/.ssh/web_ed25519

Host db-*
  HostName=10.0.0.5
  ProxyJump admin@bastion:2200,inner
  IdentityFile "/keys/%r@%h"
  User dba

Host *
  User everyone
  Port 22
  IdentityFile ~/.ssh/id_ed25519
`;

describe('ssh config', () => {
  const blocks = parseSshConfig(CONFIG);
  const env = { home: '/home/op', localUser: 'op' };

  it('matches * ? and ! patterns like OpenSSH', () => {
    expect(hostPatternsMatch(['web?'], 'web1')).toBe(true);
    expect(hostPatternsMatch(['web?'], 'web10')).toBe(false);
    expect(hostPatternsMatch(['web?', '!web9'], 'web9')).toBe(false);
    expect(hostPatternsMatch(['!web9'], 'db')).toBe(false);
  });

  it('first value wins per option; identity files accumulate with ~ and % expanded', () => {
    const web = resolveSshConfig(blocks, 'web1', env);
    expect(web).toEqual({
      hostname: 'web1.example.net',
      user: 'fallback-before-host',
      port: 2222,
      identityFiles: ['/home/op/.ssh/web_ed25519', '/home/op/.ssh/id_ed25519'],
      proxyJump: [],
    });
    const db = resolveSshConfig(blocks, 'db-main', env);
    expect(db.hostname).toBe('10.0.0.5');
    expect(db.user).toBe('fallback-before-host');
    expect(db.proxyJump).toEqual(['admin@bastion:2200', 'inner']);
    expect(db.identityFiles[0]).toBe('/keys/fallback-before-host@10.0.0.5');
    const web9 = resolveSshConfig(blocks, 'web9', env);
    expect(web9.hostname).toBe('web9');
    expect(web9.port).toBe(22);
  });

  it('without a global User, the Host block decides', () => {
    const b = parseSshConfig('Host db-*\n  User dba\nHost *\n  User everyone\n');
    expect(resolveSshConfig(b, 'db-1', env).user).toBe('dba');
    expect(resolveSshConfig(b, 'other', env).user).toBe('everyone');
  });

  it('parses user@host:port forms', () => {
    expect(parseUserHostPort('admin@bastion:2200')).toEqual({ user: 'admin', host: 'bastion', port: 2200 });
    expect(parseUserHostPort('bastion')).toEqual({ host: 'bastion' });
    expect(parseUserHostPort('[::1]:22')).toEqual({ host: '::1', port: 22 });
    expect(() => parseUserHostPort('root@')).toThrow(/invalid host/);
  });
});

describe("runbook's own reader refuses what it cannot honour", () => {
  it.each([
    ['Host a\n  Port 2\nInclude ~/.ssh/conf.d/*\n', /^cfg:3: Include ~\/\.ssh\/conf\.d\/\*: runbook's own ssh_config reader cannot honour it; install OpenSSH's client/],
    ['Match host foo exec "true"\n  User x\n', /^cfg:1: Match host foo exec "true": .*'ssh -G'/],
  ])('%j', (text, message) => {
    expect(() => parseSshConfig(text, 'cfg')).toThrow(message);
  });
});

describe('ssh -G output', () => {
  it('gives hostname, user, port, configured identity files (tokens expanded) and jump hosts', () => {
    const out = 'host web\nuser ops\nhostname 10.1.1.1\nport 2222\nidentityfile ~/.ssh/web_%r\nidentityfile /keys/%h\nproxyjump bast,admin@b2:2200\nuserknownhostsfile ~/.ssh/known_hosts\n';
    expect(parseSshG(out, 'web', { home: '/home/op', localUser: 'op' })).toEqual({
      hostname: '10.1.1.1',
      user: 'ops',
      port: 2222,
      identityFiles: ['/home/op/.ssh/web_ops', '/keys/10.1.1.1'],
      proxyJump: ['bast', 'admin@b2:2200'],
    });
  });

  it('refuses ProxyCommand, which the transport cannot honour, from either reader', () => {
    expect(() => parseSshG('hostname h\nproxycommand nc %h %p\n', 'h')).toThrow(/ssh -G: ProxyCommand for h is not supported .* use ProxyJump/);
    expect(() => resolveSshConfig(parseSshConfig('Host h\n  ProxyCommand nc %h %p\n'), 'h')).toThrow(/ProxyCommand for h is not supported/);
    expect(resolveSshConfig(parseSshConfig('Host h\n  ProxyCommand none\n'), 'h').hostname).toBe('h');
  });

  it("counts OpenSSH's default identity list as none configured, and proxyjump none as no jump", () => {
    const defaults = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'].map((f) => `identityfile ~/.ssh/${f}`).join('\n');
    expect(parseSshG(`hostname h\nport 22\n${defaults}\nproxyjump none\n`, 'h', { home: '/h', localUser: 'u' })).toEqual({ hostname: 'h', port: 22, identityFiles: [], proxyJump: [] });
  });
});

const ssh = findExecutable('ssh');
describe.runIf(ssh !== undefined || process.env.CI)("hosts resolved by OpenSSH's client (ssh -G)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'runbook-sshg-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('honours Include and Match as ssh does; a name that looks like an option stays a name', async () => {
    if (!ssh) throw new Error('ssh (OpenSSH client) is missing: apt-get install openssh-client');
    writeFileSync(join(dir, 'fleet.conf'), 'Host mx-*\n  HostName 127.0.0.9\n  Port 2299\n  IdentityFile /keys/%n\n');
    writeFileSync(join(dir, 'config'), `Include ${join(dir, 'fleet.conf')}\nMatch originalhost mx-two\n  User postmaster\nHost *\n  User root\n`);
    const resolve = sshHostResolver({ file: join(dir, 'config'), ssh });
    expect(await resolve('mx-one')).toEqual({ hostname: '127.0.0.9', user: 'root', port: 2299, identityFiles: ['/keys/mx-one'], proxyJump: [] });
    expect((await resolve('mx-two')).user).toBe('postmaster');
    await expect(resolve('-oProxyCommand=touch /tmp/x')).rejects.toThrow(/ssh -G -F .* failed: .*invalid characters/);
    // Without ssh, the same file is refused rather than half read.
    await expect(sshHostResolver({ file: join(dir, 'config'), ssh: null })('mx-one')).rejects.toThrow(/config:1: Include .*install OpenSSH's client/);
  });

  it('reads the ~/.ssh/config of $HOME, as runbook always did, when HOME is not the account home', async () => {
    if (!ssh) throw new Error('ssh (OpenSSH client) is missing: apt-get install openssh-client');
    const home = join(dir, 'home');
    mkdirSync(join(home, '.ssh'), { recursive: true });
    writeFileSync(join(home, '.ssh', 'config'), 'Host sandboxed\n  Port 2345\n');
    const saved = process.env.HOME;
    process.env.HOME = home;
    try {
      expect((await sshHostResolver({ ssh })('sandboxed')).port).toBe(2345);
    } finally {
      process.env.HOME = saved;
    }
  });
});
