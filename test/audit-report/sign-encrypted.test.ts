import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPrivateKey, loadPublicKey, privateKeyIsEncrypted, signMessage, SigningKeyError, verifySignature } from '../../src/audit/sign.js';
import { EXIT } from '../../src/engine/run.js';
import { runCli, runOnTty } from '../cli/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'runbook-sign-enc-'));
const PASS = 'correct horse battery staple';
const sshKey = join(dir, 'id_ed25519');
const pemKey = join(dir, 'enc.pem');
const pemPub = join(dir, 'enc.pub.pem');
const plainKey = join(dir, 'plain.pem');

describe('encrypted audit signing keys', () => {
  beforeAll(() => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASS, '-f', sshKey]);
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-aes-256-cbc', '-pass', `pass:${PASS}`, '-out', pemKey]);
    execFileSync('openssl', ['pkey', '-in', pemKey, '-passin', `pass:${PASS}`, '-pubout', '-out', pemPub]);
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', plainKey]);
    for (const k of [sshKey, pemKey, plainKey]) chmodSync(k, 0o600);
  });

  it('are recognised, refused without their passphrase with what to do, and refused with a wrong one', () => {
    expect(privateKeyIsEncrypted(sshKey)).toBe(true);
    expect(privateKeyIsEncrypted(pemKey)).toBe(true);
    expect(privateKeyIsEncrypted(plainKey)).toBe(false);
    for (const key of [sshKey, pemKey]) {
      expect(() => loadPrivateKey(key)).toThrow(SigningKeyError);
      expect(() => loadPrivateKey(key)).toThrow(/encrypted.*--sign-key-passphrase-file/);
      expect(() => loadPrivateKey(key, 'not it')).toThrow(/wrong passphrase/);
    }
  });

  it('an old-style encrypted PEM (Proc-Type: 4,ENCRYPTED) is refused as the wrong kind of key, not as a passphrase problem', () => {
    const legacy = join(dir, 'legacy-rsa.pem');
    execFileSync('openssl', ['genrsa', '-traditional', '-aes128', '-passout', `pass:${PASS}`, '-out', legacy, '2048'], { stdio: 'ignore' });
    chmodSync(legacy, 0o600);
    expect(readFileSync(legacy, 'utf8')).toContain('Proc-Type: 4,ENCRYPTED');
    expect(privateKeyIsEncrypted(legacy)).toBe(false);
    for (const pass of [undefined, PASS]) {
      expect(() => loadPrivateKey(legacy, pass)).toThrow(/old PEM format.*not Ed25519.*openssl genpkey -algorithm ed25519/);
    }
  });

  it('sign with the right passphrase, verifiable with the public key', () => {
    const head = 'ab'.repeat(32);
    const fromSsh = signMessage(head, loadPrivateKey(sshKey, PASS));
    expect(verifySignature(head, fromSsh, loadPublicKey(`${sshKey}.pub`)).ok).toBe(true);
    const fromPem = signMessage(head, loadPrivateKey(pemKey, PASS));
    expect(verifySignature(head, fromPem, loadPublicKey(pemPub)).ok).toBe(true);
  });

  it('apply takes the passphrase from a 0600 file, signs the log, and the passphrase is nowhere', async () => {
    const state = mkdtempSync(join(tmpdir(), 'runbook-sign-enc-state-'));
    const audit = join(state, 'audit');
    const passFile = join(dir, 'pass');
    writeFileSync(passFile, `${PASS}\n`, { mode: 0o600 });
    const env = { XDG_STATE_HOME: state };
    const r = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '--audit-dir', audit, '--sign-key', sshKey, '--sign-key-passphrase-file', passFile], { env, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(EXIT.ok);
    const log = join(audit, readdirSync(audit).find((f) => f.endsWith('.jsonl'))!);
    const verify = await runCli(['audit', 'verify', log, '--pubkey', `${sshKey}.pub`], { env });
    expect(verify.code, verify.stderr + verify.stdout).toBe(0);
    for (const text of [r.stdout, r.stderr, readFileSync(log, 'utf8'), verify.stdout]) expect(text).not.toContain(PASS);
  });

  it('apply on a terminal asks for the passphrase without echoing it and signs the log', async () => {
    const state = mkdtempSync(join(tmpdir(), 'runbook-sign-enc-state-'));
    const audit = join(state, 'audit');
    const env = { XDG_STATE_HOME: state };
    const r = await runOnTty(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '--audit-dir', audit, '--sign-key', pemKey], `passphrase for ${pemKey}:`, PASS, env);
    expect(r.code, r.output).toBe(EXIT.ok);
    expect(r.output).not.toContain(PASS);
    const log = join(audit, readdirSync(audit).find((f) => f.endsWith('.jsonl'))!);
    expect((await runCli(['audit', 'verify', log, '--pubkey', pemPub], { env })).code).toBe(0);
  });

  it('apply without a terminal or a passphrase file stops before the run and says how to give it', async () => {
    const state = mkdtempSync(join(tmpdir(), 'runbook-sign-enc-state-'));
    const r = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '--audit-dir', join(state, 'audit'), '--sign-key', pemKey], { env: { XDG_STATE_HOME: state }, timeoutMs: 60_000 });
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toMatch(/the key is encrypted; give its passphrase with --sign-key-passphrase-file/);
    // Stopped before the audit log was created: no empty log left behind.
    expect(existsSync(join(state, 'audit'))).toBe(false);
    const loose = join(dir, 'loose-pass');
    writeFileSync(loose, PASS, { mode: 0o644 });
    chmodSync(loose, 0o644);
    const r2 = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '--audit-dir', join(state, 'audit'), '--sign-key', pemKey, '--sign-key-passphrase-file', loose], { env: { XDG_STATE_HOME: state }, timeoutMs: 60_000 });
    expect(r2.code).toBe(EXIT.usage);
    expect(r2.stderr).toContain('readable by others; chmod 600 it');
  });
});
