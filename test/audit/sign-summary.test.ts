// The signature covers the outcome: every field of the run.summary is signed, duplicate keys are
// refused, and a plain verify never calls an unchecked signature valid.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureStdio } from '../support/capture-stdio.js';
import { signMessage, signSummary, verifySignedLog } from '../../src/audit/sign.js';
import { findDuplicateKey } from '../../src/audit/strict-json.js';
import { verifyAuditText } from '../../src/audit/verify.js';
import { auditVerifyCommand } from '../../src/cli/commands/audit.js';
import { writeSpamIncidentLog } from '../audit-report/sample-log.js';

const dir = mkdtempSync(join(tmpdir(), 'runbook-sign-summary-'));
function keyPair(name: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const key = join(dir, `${name}.pem`);
  const pub = join(dir, `${name}.pub.pem`);
  writeFileSync(key, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  writeFileSync(pub, publicKey.export({ format: 'pem', type: 'spki' }));
  return { key, pub };
}
const trusted = keyPair('trusted');
const other = keyPair('other');

const stdio = captureStdio();

const signedLog = () => writeSpamIncidentLog({ sign: (summary) => signSummary(summary, trusted.key) });

/** Rewrites the last line (the summary) of a log. */
function editSummary(path: string, edit: (line: string) => string): void {
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  lines[lines.length - 1] = edit(lines.at(-1)!);
  writeFileSync(path, `${lines.join('\n')}\n`);
}

function editField(path: string, change: (summary: Record<string, unknown>) => void): void {
  editSummary(path, (line) => {
    const summary = JSON.parse(line) as Record<string, unknown>;
    change(summary);
    return JSON.stringify(summary);
  });
}

/** What `runbook audit verify` says with and without --pubkey. */
async function verifyBoth(path: string) {
  const withKey = await auditVerifyCommand(path, { pubkey: trusted.pub });
  const withKeyText = stdio.out + stdio.err;
  stdio.out = '';
  stdio.err = '';
  const plain = await auditVerifyCommand(path, {});
  const plainText = stdio.out + stdio.err;
  stdio.out = '';
  stdio.err = '';
  return { withKey, withKeyText, plain, plainText };
}

const CHANGED: Record<string, unknown> = {
  level: 'info',
  seq: 99,
  ts: '2031-01-01T00:00:00.000Z',
  prev: 'e'.repeat(64),
  type: 'note',
  status: 'ok',
  exitCode: 0,
  reason: 'all hosts fine',
  dryRun: true,
  planHash: 'd'.repeat(64),
  hosts: { web1: 'changed', web2: 'ok' },
  counts: { ok: 5, changed: 6 },
  head: '1'.repeat(64),
};

describe('signed audit summaries', () => {
  it('an untouched signed log verifies with --pubkey, and without it says the signature was not checked', async () => {
    const path = signedLog();
    const summary = JSON.parse(readFileSync(path, 'utf8').trimEnd().split('\n').at(-1)!) as Record<string, unknown>;
    expect(Object.keys(summary).sort()).toEqual([...Object.keys(CHANGED), 'signature'].sort());
    expect(verifySignedLog(path, trusted.pub)).toMatchObject({ ok: true, problems: [] });
    const { withKey, withKeyText, plain, plainText } = await verifyBoth(path);
    expect(withKey).toBe(0);
    expect(withKeyText).toMatch(/signature valid/);
    expect(plain).toBe(0);
    expect(plainText).toMatch(/signature present, not checked: pass --pubkey/);
    expect(plainText).not.toMatch(/valid/);
  });

  it('the documented manual check with jq and openssl verifies the summary signature', () => {
    const path = signedLog();
    const script = [
      `(printf 'runbook-audit-summary/1\\n'; tail -n1 "$1" | jq -cS 'del(.signature)' | tr -d '\\n') > "$2/msg"`,
      `tail -n1 "$1" | jq -r .signature.value | base64 -d > "$2/sig"`,
      `openssl pkeyutl -verify -pubin -inkey "$3" -rawin -in "$2/msg" -sigfile "$2/sig"`,
    ].join('\n');
    expect(execFileSync('sh', ['-ec', script, 'sh', path, dir, trusted.pub]).toString()).toContain('Signature Verified Successfully');
  });

  for (const [field, value] of Object.entries(CHANGED)) {
    it(`refuses a summary whose ${field} was changed or removed`, async () => {
      for (const change of [(s: Record<string, unknown>) => (s[field] = value), (s: Record<string, unknown>) => delete s[field]]) {
        const path = signedLog();
        editField(path, change);
        expect(verifySignedLog(path, trusted.pub).ok, field).toBe(false);
        const { withKey, plainText } = await verifyBoth(path);
        expect(withKey).toBe(5);
        // Without a key the chain alone cannot vouch for the outcome: never "valid".
        expect(plainText).not.toMatch(/signature valid/);
        if (!/FAILED|INCOMPLETE/.test(plainText)) expect(plainText).toMatch(/signature present, not checked: pass --pubkey/);
      }
    });
  }

  it('refuses every change to the signature itself', async () => {
    const otherPublicKey = (() => {
      const log = writeSpamIncidentLog({ sign: (summary) => signSummary(summary, other.key) });
      return (JSON.parse(readFileSync(log, 'utf8').trimEnd().split('\n').at(-1)!) as { signature: { publicKey: string } }).signature.publicKey;
    })();
    const edits: [string, (sig: Record<string, unknown>) => void, RegExp][] = [
      ['alg', (sig) => (sig.alg = 'rsa'), /unsupported signature algorithm/],
      ['publicKey', (sig) => (sig.publicKey = otherPublicKey), /different key/],
      ['value', (sig) => (sig.value = Buffer.alloc(64, 1).toString('base64')), /does not match the run summary/],
      ['covers', (sig) => delete sig.covers, /old signature format/],
      ['covers', (sig) => (sig.covers = 'everything'), /does not know/],
      ['extra', (sig) => (sig.note = 'x'), /fields no version writes \(note\)/],
    ];
    for (const [name, edit, expected] of edits) {
      const path = signedLog();
      editField(path, (s) => edit(s.signature as Record<string, unknown>));
      const check = verifySignedLog(path, trusted.pub);
      expect(check.ok, name).toBe(false);
      expect(check.problems.join('\n'), name).toMatch(expected);
    }
  });

  it('refuses an added field and a duplicate key, which JSON.parse would silently resolve', async () => {
    const added = signedLog();
    editField(added, (s) => (s.approvedBy = 'alice'));
    expect(verifySignedLog(added, trusted.pub).problems.join('\n')).toMatch(/does not match the run summary/);

    const duplicated = signedLog();
    editSummary(duplicated, (line) => `${line.slice(0, -1)},"status":"ok"}`);
    expect((JSON.parse(readFileSync(duplicated, 'utf8').trimEnd().split('\n').at(-1)!) as { status: string }).status).toBe('ok');
    expect(verifyAuditText(readFileSync(duplicated, 'utf8')).problem?.message).toMatch(/duplicate key "status"/);
    const { withKey, withKeyText, plain, plainText } = await verifyBoth(duplicated);
    expect(withKey).toBe(5);
    expect(withKeyText).toMatch(/duplicate key "status"/);
    expect(plain).toBe(5);
    expect(plainText).toMatch(/duplicate key "status"/);
  });

  it('finds duplicate keys at any depth and through escapes, and only in the same object', () => {
    expect(findDuplicateKey('{"a":1,"b":{"c":1,"c":2}}')).toBe('c');
    expect(findDuplicateKey('{"status":"failed","st\\u0061tus":"ok"}')).toBe('status');
    expect(findDuplicateKey('{"a":{"x":1},"b":{"x":1},"c":[{"x":1},{"x":2}],"d":"\\"a\\":"}')).toBeUndefined();
  });

  it('checks an old-format signature of the chain head but refuses the log: its outcome was never signed', () => {
    const path = writeSpamIncidentLog({ sign: (summary) => signMessage((summary as { head: string }).head, trusted.key) });
    const check = verifySignedLog(path, trusted.pub);
    expect(check.ok).toBe(false);
    expect(check.problems.join('\n')).toMatch(/old signature format: it signs the chain head only \(and that signature is valid\), not the summary's status, exit code, hosts or counts/);
  });
});
