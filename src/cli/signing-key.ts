/**
 * The audit signing key of a run: loaded once before anything runs, with its passphrase read
 * from a 0600 file or asked on the terminal when the key is encrypted (never from argv).
 */
import type { KeyObject } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { loadPrivateKey, privateKeyIsEncrypted, signSummary, type AuditSignature } from '../audit/sign.js';
import { UsageError } from './errors.js';
import { askHidden } from './prompt-secret.js';

export async function loadSigningKey(path: string, passphraseFile: string | undefined, ask: (question: string) => Promise<string> = askHidden): Promise<KeyObject> {
  if (!privateKeyIsEncrypted(path)) return loadPrivateKey(path);
  let passphrase: string;
  if (passphraseFile !== undefined) {
    const info = await stat(passphraseFile).catch(() => undefined);
    if (!info) throw new UsageError(`--sign-key-passphrase-file ${passphraseFile}: no such file`);
    if ((info.mode & 0o077) !== 0) throw new UsageError(`--sign-key-passphrase-file ${passphraseFile} is readable by others; chmod 600 it`);
    passphrase = (await readFile(passphraseFile, 'utf8')).replace(/\r?\n$/, '');
  } else if (process.stdin.isTTY) {
    passphrase = await ask(`passphrase for ${path}: `);
  } else {
    return loadPrivateKey(path); // throws: says the key is encrypted and how to give the passphrase
  }
  return loadPrivateKey(path, passphrase);
}

/** The flags of every command that writes an audit log (apply, undo). */
export interface SigningFlags {
  signKey?: string;
  signKeyPassphraseFile?: string;
}

/**
 * What signs the run's summary (its outcome and chain head), or undefined without --sign-key.
 * Call it before the audit log is created or anything runs: a bad key or passphrase then
 * leaves nothing behind.
 */
export async function summarySigner(flags: SigningFlags): Promise<((summary: object) => AuditSignature) | undefined> {
  if (!flags.signKey) return undefined;
  const key = await loadSigningKey(flags.signKey, flags.signKeyPassphraseFile);
  return (summary) => signSummary(summary, key);
}
