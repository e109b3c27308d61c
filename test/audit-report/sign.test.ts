import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPublicKey, signMessage, signSummary, SigningKeyError, verifySignature, verifySignedLog } from '../../src/audit/sign.js';
import { writeSpamIncidentLog } from './sample-log.js';

const dir = mkdtempSync(join(tmpdir(), 'runbook-sign-'));
const key = join(dir, 'key.pem');
const pub = join(dir, 'pub.pem');
const otherKey = join(dir, 'other.pem');
const otherPub = join(dir, 'other.pub.pem');
const sshKey = join(dir, 'id_ed25519');

function haveTool(name: string): boolean {
  try {
    execFileSync('which', [name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const tools = haveTool('openssl') && haveTool('ssh-keygen');

function signedLog(keyPath = key): string {
  return writeSpamIncidentLog({ sign: (summary) => signSummary(summary, keyPath) });
}

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
}

describe.runIf(tools || process.env.CI)('audit log signing', () => {
  beforeAll(() => {
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', key]);
    execFileSync('openssl', ['pkey', '-in', key, '-pubout', '-out', pub]);
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', otherKey]);
    execFileSync('openssl', ['pkey', '-in', otherKey, '-pubout', '-out', otherPub]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', sshKey]);
    for (const k of [key, otherKey, sshKey]) chmodSync(k, 0o600);
  });

  it('signs a message so that the public key verifies it and openssl agrees', () => {
    const head = 'ab'.repeat(32);
    const sig = signMessage(head, key);
    expect(sig.alg).toBe('ed25519');
    expect(Buffer.from(sig.publicKey, 'base64')).toHaveLength(32);
    expect(verifySignature(head, sig, loadPublicKey(pub))).toEqual({ ok: true, problems: [] });
    expect(verifySignature('cd'.repeat(32), sig).ok).toBe(false);
    // The documented manual check with openssl works.
    writeFileSync(join(dir, 'msg'), head);
    writeFileSync(join(dir, 'sig'), Buffer.from(sig.value, 'base64'));
    const out = execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-rawin', '-in', join(dir, 'msg'), '-sigfile', join(dir, 'sig')]).toString();
    expect(out).toContain('Signature Verified Successfully');
  });

  it('accepts OpenSSH ed25519 keys, private and public', () => {
    const head = 'ef'.repeat(32);
    const sig = signMessage(head, sshKey);
    expect(verifySignature(head, sig, loadPublicKey(`${sshKey}.pub`)).ok).toBe(true);
  });

  it('refuses a private key others can read, saying how to fix it', () => {
    const loose = join(dir, 'loose.pem');
    writeFileSync(loose, readFileSync(key));
    chmodSync(loose, 0o644);
    expect(() => signMessage('ab'.repeat(32), loose)).toThrow(SigningKeyError);
    expect(() => signMessage('ab'.repeat(32), loose)).toThrow(/chmod 600/);
  });

  it('verifies an untouched signed log', () => {
    expect(verifySignedLog(signedLog(), pub)).toMatchObject({ ok: true, signed: true, problems: [] });
  });

  it('detects an edited record', () => {
    const path = signedLog();
    const l = lines(path);
    expect(l[2]).toContain('"answer":"accepted"');
    l[2] = l[2]!.replace('accepted', 'declined');
    writeFileSync(path, `${l.join('\n')}\n`);
    const check = verifySignedLog(path, pub);
    expect(check.ok).toBe(false);
    expect(check.problems.join('\n')).toMatch(/chain broken/);
  });

  it('detects a deleted record and a reordering', () => {
    const deleted = signedLog();
    const a = lines(deleted);
    a.splice(5, 1);
    writeFileSync(deleted, `${a.join('\n')}\n`);
    expect(verifySignedLog(deleted, pub).ok).toBe(false);

    const reordered = signedLog();
    const b = lines(reordered);
    [b[4], b[5]] = [b[5]!, b[4]!];
    writeFileSync(reordered, `${b.join('\n')}\n`);
    expect(verifySignedLog(reordered, pub).problems.join("\n")).toMatch(/sequence number|chain broken/);
  });

  it('reports a cut tail as unsigned/incomplete', () => {
    const path = signedLog();
    const l = lines(path);
    writeFileSync(path, `${l.slice(0, -3).join('\n')}\n`);
    const check = verifySignedLog(path, pub);
    expect(check.ok).toBe(false);
    expect(check.signed).toBe(false);
    expect(check.problems.join('\n')).toMatch(/unsigned\/incomplete/);
  });

  it('detects a log re-signed with another key', () => {
    const check = verifySignedLog(signedLog(otherKey), pub);
    expect(check.ok).toBe(false);
    expect(check.problems.join('\n')).toMatch(/different key/);
    // With the other key as the trusted one it verifies: the signature itself is sound.
    expect(verifySignedLog(signedLog(otherKey), otherPub).ok).toBe(true);
  });

  it('detects a forged summary that was re-hashed but not re-signable', () => {
    const path = signedLog();
    const l = lines(path);
    const summary = JSON.parse(l[l.length - 1]!) as { signature: { value: string } };
    summary.signature.value = Buffer.alloc(64, 1).toString('base64');
    l[l.length - 1] = JSON.stringify(summary);
    writeFileSync(path, `${l.join('\n')}\n`);
    expect(verifySignedLog(path, pub).problems.join('\n')).toMatch(/signature does not match/);
  });

  it('reports an unsigned complete log as unsigned', () => {
    const check = verifySignedLog(writeSpamIncidentLog(), pub);
    expect(check.ok).toBe(false);
    expect(check.problems.join('\n')).toMatch(/^unsigned: /m);
  });
});
