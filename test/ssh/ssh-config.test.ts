import { describe, expect, it } from 'vitest';
import { hostPatternsMatch, parseSshConfig, parseUserHostPort, resolveSshConfig } from '../../src/transport/ssh-config.js';

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

Match host foo
  User ignored

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
