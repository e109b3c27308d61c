import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkHostKey,
  formatKnownHostsLine,
  knownHostsName,
  knownKeyTypes,
  parseKnownHosts,
  sha256Fingerprint,
} from '../../src/transport/known-hosts.js';

const dir = mkdtempSync(join(tmpdir(), 'runbook-kh-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keygen(name: string): { blob: Buffer; line: string; file: string } {
  const file = join(dir, name);
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  if (r.status !== 0) throw new Error(r.stderr.toString());
  const line = readFileSync(`${file}.pub`, 'utf8').trim();
  return { blob: Buffer.from(line.split(' ')[1]!, 'base64'), line: line.split(' ').slice(0, 2).join(' '), file };
}

const a = keygen('a');
const b = keygen('b');

describe('known_hosts', () => {
  it('names non-default ports in brackets', () => {
    expect(knownHostsName('h', 22)).toBe('h');
    expect(knownHostsName('10.0.0.1', 2222)).toBe('[10.0.0.1]:2222');
  });

  it('fingerprints the way ssh-keygen -l does', () => {
    const r = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${a.file}.pub`], { encoding: 'utf8' });
    expect(r.stdout.split(' ')[1]).toBe(sha256Fingerprint(a.blob));
    expect(sha256Fingerprint(a.blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('matches plain entries, comma lists, bracketed ports and wildcards', () => {
    const entries = parseKnownHosts(
      [
        '# comment',
        `web1,192.0.2.1 ${a.line}`,
        `[192.0.2.2]:2222 ${a.line} a comment`,
        `*.example.net,!bad.example.net ${b.line}`,
        'garbage',
      ].join('\n'),
    );
    expect(entries).toHaveLength(3);
    expect(checkHostKey(entries, 'web1', a.blob)).toEqual({ status: 'known', line: 2 });
    expect(checkHostKey(entries, '192.0.2.1', a.blob).status).toBe('known');
    expect(checkHostKey(entries, '[192.0.2.2]:2222', a.blob).status).toBe('known');
    expect(checkHostKey(entries, '192.0.2.2', a.blob).status).toBe('unknown');
    expect(checkHostKey(entries, 'x.example.net', b.blob).status).toBe('known');
    expect(checkHostKey(entries, 'bad.example.net', b.blob).status).toBe('unknown');
    expect(checkHostKey(entries, 'web1', b.blob)).toMatchObject({ status: 'changed', lines: [2] });
    expect(knownKeyTypes(entries, 'web1')).toEqual(['ssh-ed25519']);
  });

  it('matches entries hashed by ssh-keygen -H', () => {
    const file = join(dir, 'kh');
    writeFileSync(file, `[127.0.0.1]:2200 ${a.line}\nweb1 ${b.line}\n`);
    const r = spawnSync('ssh-keygen', ['-H', '-f', file]);
    expect(r.status).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('web1');
    const entries = parseKnownHosts(text);
    expect(entries.every((e) => e.hosts.kind === 'hashed')).toBe(true);
    expect(checkHostKey(entries, '[127.0.0.1]:2200', a.blob).status).toBe('known');
    expect(checkHostKey(entries, 'web1', b.blob).status).toBe('known');
    expect(checkHostKey(entries, 'web1', a.blob).status).toBe('changed');
    expect(checkHostKey(entries, 'web2', a.blob).status).toBe('unknown');
  });

  it('refuses revoked keys and ignores cert-authority lines', () => {
    const entries = parseKnownHosts(`@revoked * ${a.line}\nweb1 ${a.line}\n@cert-authority *.x ${b.line}\n`);
    expect(checkHostKey(entries, 'web1', a.blob)).toEqual({ status: 'revoked', line: 1 });
    expect(checkHostKey(entries, 'y.x', b.blob).status).toBe('unknown');
  });

  it('writes hashed lines that ssh-keygen -F finds', () => {
    const file = join(dir, 'kh2');
    writeFileSync(file, `${formatKnownHostsLine('[127.0.0.1]:2201', a.blob)}\n`);
    const r = spawnSync('ssh-keygen', ['-F', '[127.0.0.1]:2201', '-f', file], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('ssh-ed25519');
  });
});
