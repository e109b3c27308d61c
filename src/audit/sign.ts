import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { checkChain, readAuditLog } from './read.js';
import type { SummaryRecord } from './records.js';

/**
 * Ed25519 signing of an audit log's outcome: the run.summary record itself, in canonical form
 * (every field but `signature`, keys sorted at every depth, no whitespace), which includes the
 * chain head it closes (`head`, `prev`). So the status, exit code, hosts and counts are signed
 * along with every record before them, and an edited or added summary field breaks the
 * signature. The signed message is the ASCII text `runbook-audit-summary/1` and a newline,
 * then that JSON; it can be checked by hand:
 *   (printf 'runbook-audit-summary/1\n'; tail -n1 LOG | jq -cS 'del(.signature)' | tr -d '\n') > msg
 *   tail -n1 LOG | jq -r .signature.value | base64 -d > sig
 *   openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in msg -sigfile sig
 * `publicKey` is the base64 of the raw 32-byte Ed25519 public key.
 *
 * Logs written before the summary was signed carry a signature of the chain head alone (no
 * `covers` field): it is checked, but the log is refused because its outcome is not signed.
 *
 * Keys: PEM (PKCS#8 private, SPKI public: `openssl genpkey -algorithm ed25519`, encrypted or
 * not), OpenSSH private keys (`ssh-keygen -t ed25519`, with or without a passphrase) and
 * `ssh-ed25519 AAAA...` public lines.
 */

export type AuditSignature = NonNullable<SummaryRecord['signature']>;

/** A key file cannot be used; the message says what to do. */
export class SigningKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningKeyError';
  }
}

const require = createRequire(import.meta.url);

interface ParsedSshKey {
  type: string;
  getPrivatePEM(): string;
  getPublicPEM(): string;
}

const ASK_PASSPHRASE = "give its passphrase with --sign-key-passphrase-file FILE (mode 0600), or run on a terminal to be asked for it";

function parseOpenSsh(data: Buffer, path: string, passphrase?: string): ParsedSshKey {
  // ssh2 is CommonJS; its key parser reads OpenSSH formats node:crypto does not.
  const { utils } = require('ssh2') as { utils: { parseKey(data: Buffer, passphrase?: string): ParsedSshKey | Error | ParsedSshKey[] } };
  const parsed = utils.parseKey(data, passphrase);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key === undefined || key instanceof Error) {
    const why = key instanceof Error ? key.message : 'no key found';
    if (/encrypted|passphrase/i.test(why)) {
      throw new SigningKeyError(passphrase === undefined ? `${path}: the key is encrypted; ${ASK_PASSPHRASE}.` : `${path}: wrong passphrase for the key (${why}).`);
    }
    throw new SigningKeyError(`${path}: cannot read the OpenSSH key (${why}). Use an ed25519 key kept mode 0600, or a PEM key from 'openssl genpkey -algorithm ed25519'.`);
  }
  if (key.type !== 'ssh-ed25519') throw new SigningKeyError(`${path}: the key is ${key.type}; audit signing needs an ed25519 key ('ssh-keygen -t ed25519' or 'openssl genpkey -algorithm ed25519').`);
  return key;
}

function requireEd25519(key: KeyObject, path: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new SigningKeyError(`${path}: the key is ${key.asymmetricKeyType ?? 'not asymmetric'}; audit signing needs an ed25519 key ('openssl genpkey -algorithm ed25519').`);
  }
  return key;
}

function readKeyFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SigningKeyError(`cannot read the key file ${path}: ${reason}`);
  }
}

/** Whether the private key file is protected by a passphrase (OpenSSH or PKCS#8 PEM). */
export function privateKeyIsEncrypted(path: string): boolean {
  const data = readKeyFile(path);
  const text = data.toString('utf8');
  if (text.includes('BEGIN ENCRYPTED PRIVATE KEY')) return true;
  if (!text.includes('BEGIN OPENSSH PRIVATE KEY')) return false;
  try {
    parseOpenSsh(data, path);
    return false;
  } catch (error) {
    return error instanceof SigningKeyError && error.message.includes('the key is encrypted');
  }
}

/**
 * Loads an Ed25519 private key, decrypting it with `passphrase` when it has one. Refuses a key
 * file others can read, as ssh does.
 */
export function loadPrivateKey(path: string, passphrase?: string): KeyObject {
  const mode = statSync(path, { throwIfNoEntry: false })?.mode;
  if (mode !== undefined && (mode & 0o077) !== 0) {
    throw new SigningKeyError(`${path}: the private key is readable by group or others (mode ${(mode & 0o777).toString(8)}); run 'chmod 600 ${path}' and try again.`);
  }
  const data = readKeyFile(path);
  const text = data.toString('utf8');
  if (text.includes('BEGIN OPENSSH PRIVATE KEY')) return requireEd25519(createPrivateKey(parseOpenSsh(data, path, passphrase).getPrivatePEM()), path);
  if (text.includes('BEGIN ENCRYPTED PRIVATE KEY') && passphrase === undefined) throw new SigningKeyError(`${path}: the key is encrypted; ${ASK_PASSPHRASE}.`);
  if (/^Proc-Type: *4,ENCRYPTED/m.test(text)) {
    // OpenSSL's old encrypted PEM (BEGIN RSA/EC PRIVATE KEY with a DEK-Info header) cannot hold
    // an Ed25519 key, so asking for its passphrase would only lead to a second refusal.
    throw new SigningKeyError(`${path}: an encrypted key in OpenSSL's old PEM format (Proc-Type: 4,ENCRYPTED), which holds RSA or EC keys, not Ed25519. Audit logs are signed with Ed25519: generate a key with 'openssl genpkey -algorithm ed25519 -aes-256-cbc -out key.pem' or 'ssh-keygen -t ed25519 -f key'.`);
  }
  try {
    return requireEd25519(createPrivateKey(passphrase === undefined ? data : { key: data, passphrase }), path);
  } catch (error) {
    if (error instanceof SigningKeyError) throw error;
    if (passphrase !== undefined && text.includes('BEGIN ENCRYPTED PRIVATE KEY')) throw new SigningKeyError(`${path}: wrong passphrase for the key.`);
    throw new SigningKeyError(`${path}: not a usable private key (${error instanceof Error ? error.message : String(error)}). Generate one with 'openssl genpkey -algorithm ed25519 -out key.pem'.`);
  }
}

/** Loads an Ed25519 public key from a public key file, or derives it from a private key file. */
export function loadPublicKey(path: string): KeyObject {
  const data = readKeyFile(path);
  const text = data.toString('utf8').trim();
  try {
    if (text.startsWith('ssh-')) return requireEd25519(createPublicKey(parseOpenSsh(Buffer.from(text), path).getPublicPEM()), path);
    if (text.includes('BEGIN OPENSSH PRIVATE KEY')) return requireEd25519(createPublicKey(parseOpenSsh(data, path).getPublicPEM()), path);
    if (text.includes('PRIVATE KEY')) return requireEd25519(createPublicKey(createPrivateKey(data)), path);
    return requireEd25519(createPublicKey(data), path);
  } catch (error) {
    if (error instanceof SigningKeyError) throw error;
    throw new SigningKeyError(`${path}: not a usable public key (${error instanceof Error ? error.message : String(error)}). Export one with 'openssl pkey -in key.pem -pubout -out pub.pem'.`);
  }
}

/** base64 of the raw 32-byte public key (the last 32 bytes of its SPKI DER encoding). */
export function rawPublicKeyBase64(key: KeyObject): string {
  const spki = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'der', type: 'spki' });
  return spki.subarray(spki.length - 32).toString('base64');
}

/** What a current signature covers; a signature without `covers` signed only the chain head. */
export const SIGNATURE_COVERS = 'summary';
const SIGNATURE_FIELDS = ['alg', 'publicKey', 'value', 'covers'];
const SUMMARY_MESSAGE_PREFIX = 'runbook-audit-summary/1\n';

/** JSON with keys sorted at every depth and no whitespace: one text for one value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The bytes a summary's signature signs: the record as written, without its signature. */
export function summarySigningMessage(summary: object): Buffer {
  const { signature: _signature, ...signed } = summary as { signature?: unknown };
  return Buffer.from(SUMMARY_MESSAGE_PREFIX + canonicalJson(signed), 'utf8');
}

/** Signs a message with an Ed25519 private key (loaded, or the path of an unencrypted one). */
export function signMessage(message: string | Buffer, keyOrPath: KeyObject | string): AuditSignature {
  const key = typeof keyOrPath === 'string' ? loadPrivateKey(keyOrPath) : keyOrPath;
  return {
    alg: 'ed25519',
    publicKey: rawPublicKeyBase64(key),
    value: sign(null, typeof message === 'string' ? Buffer.from(message, 'utf8') : message, key).toString('base64'),
  };
}

/** Signs a run.summary record as it will be written (with `level`, `seq`, `ts`, `prev`, `head`). */
export function signSummary(summary: object, keyOrPath: KeyObject | string): AuditSignature {
  return { ...signMessage(summarySigningMessage(summary), keyOrPath), covers: SIGNATURE_COVERS };
}

export interface SignatureCheck {
  ok: boolean;
  problems: string[];
}

/**
 * Checks a signature over a message. With `expected` (the trusted public key) the signature must
 * also come from that key: a log re-signed with another key fails even though its signature
 * is valid for the key it names.
 */
export function verifySignature(message: string | Buffer, signature: AuditSignature, expected?: KeyObject): SignatureCheck {
  const problems: string[] = [];
  if (signature.alg !== 'ed25519') return { ok: false, problems: [`unsupported signature algorithm ${JSON.stringify(signature.alg)}`] };
  let key: KeyObject;
  try {
    const raw = Buffer.from(signature.publicKey, 'base64');
    if (raw.length !== 32) throw new Error('not 32 bytes');
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
  } catch {
    return { ok: false, problems: ['the signature names a malformed public key'] };
  }
  if (expected !== undefined && rawPublicKeyBase64(expected) !== signature.publicKey) {
    problems.push(`the log was signed with a different key (${signature.publicKey}) than the trusted one (${rawPublicKeyBase64(expected)}): re-signed or the wrong --pubkey`);
  }
  const valid = verify(null, typeof message === 'string' ? Buffer.from(message, 'utf8') : message, expected ?? key, Buffer.from(signature.value, 'base64'));
  if (!valid) problems.push('the signature does not match the run summary: the summary or the signature was altered');
  return { ok: problems.length === 0, problems };
}

export interface SignedLogCheck {
  ok: boolean;
  /** sha256 of the file's last line. */
  head: string;
  signed: boolean;
  problems: string[];
}

/**
 * What `runbook audit verify --pubkey FILE` checks: the hash chain is intact, the file ends
 * with a run.summary that closes it (a cut tail removes the summary), and the summary carries
 * an Ed25519 signature of itself (its outcome and the chain head) made by the trusted key.
 */
export function verifySignedLog(path: string, pubkeyPath: string): SignedLogCheck {
  const trusted = loadPublicKey(pubkeyPath);
  const log = readAuditLog(path);
  const chain = checkChain(log);
  const problems = [...chain.problems];
  // The signature is checked even when the chain broke earlier: both findings are reported.
  const last = log.lines[log.lines.length - 1]?.record;
  const summary = last?.type === 'run.summary' ? last : undefined;
  if (summary === undefined) {
    problems.push('unsigned/incomplete: the log does not end with a run.summary record (the run crashed or the tail was cut off)');
    return { ok: false, head: chain.head, signed: false, problems };
  }
  if (summary.signature === undefined) {
    problems.push('unsigned: the run.summary carries no signature (the run was not applied with --sign-key)');
    return { ok: false, head: chain.head, signed: false, problems };
  }
  if (summary.signature.covers === undefined) {
    // Written before summaries were signed: only the chain head is vouched for.
    const headCheck = verifySignature(summary.head, summary.signature, trusted);
    problems.push(
      ...headCheck.problems,
      `old signature format: it signs the chain head only${headCheck.ok ? ' (and that signature is valid)' : ''}, not the summary's status, exit code, hosts or counts, so the outcome this log reports is not vouched for; runs made with this version sign the summary`,
    );
    return { ok: false, head: chain.head, signed: true, problems };
  }
  const unknown = Object.keys(summary.signature).filter((k) => !SIGNATURE_FIELDS.includes(k));
  if (unknown.length > 0) {
    problems.push(`the signature has fields no version writes (${unknown.join(', ')}): it was edited`);
    return { ok: false, head: chain.head, signed: true, problems };
  }
  if (summary.signature.covers !== SIGNATURE_COVERS) {
    problems.push(`the signature covers ${JSON.stringify(summary.signature.covers)}, which this version does not know: upgrade runbook to check it`);
    return { ok: false, head: chain.head, signed: true, problems };
  }
  problems.push(...verifySignature(summarySigningMessage(summary), summary.signature, trusted).problems);
  return { ok: problems.length === 0, head: chain.head, signed: true, problems };
}
