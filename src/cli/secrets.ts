import { closeSync, constants, fstatSync, openSync, statSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { checkDirectory, ensureDirectory } from '../core/ensure-dir.js';
import type { Secret } from '../core/secret.js';

/**
 * Hands a generated secret (a new mailbox password) to the operator exactly once, never through
 * stdout, logs or the audit log: to an explicit 0600 file when asked, else straight to the
 * controlling terminal, else to a 0600 file beside the audit log.
 */
export function createSecretDelivery(options: { secretsFile?: string; fallbackFile: string; interactive: boolean }) {
  return async (host: string, label: string, secret: Secret): Promise<string> => {
    const line = `${host}\t${label}\t${secret.reveal()}\n`;
    if (!options.secretsFile && options.interactive) {
      try {
        const fd = openSync('/dev/tty', 'w');
        try {
          writeSync(fd, `\n  ${host}: ${label} = ${secret.reveal()}\n  (shown once; it is not in any log)\n\n`);
        } finally {
          closeSync(fd);
        }
        return 'shown on the terminal';
      } catch {
        // no controlling terminal after all: fall through to a file
      }
    }
    const file = options.secretsFile ?? options.fallbackFile;
    // Not a recursive mkdir: under /proc that never returns, with the password already reset.
    ensureDirectory(dirname(file), 0o700);
    // Never follow a symlink, and never add a password to a file others can read.
    const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    try {
      const problem = secretsFileProblem(fstatSync(fd));
      if (problem) throw new Error(`${file}: ${problem}`);
      writeSync(fd, line);
    } finally {
      closeSync(fd);
    }
    return `written to ${file} (mode 0600)`;
  };
}

function secretsFileProblem(info: { mode: number; uid: number; isFile(): boolean }): string | undefined {
  if (!info.isFile()) return 'not a regular file';
  if ((info.mode & 0o077) !== 0) return `readable or writable by others (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')}); chmod 600 it or name a new file`;
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) return 'owned by another user';
  return undefined;
}

/**
 * Where generated secrets go when there is no terminal and no --secrets-file: a 0600 file in a
 * 0700 directory under $XDG_STATE_HOME (default ~/.local/state), named after the run. Not beside
 * the audit log: audit logs get copied and attached to tickets.
 */
export function fallbackSecretsFile(auditPath: string): string {
  const state = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(state, 'runbook', 'secrets', `${basename(auditPath, '.jsonl')}.secrets`);
}

/** Checked before a run starts, so a bad --secrets-file never costs a password already reset. */
export function checkSecretsFile(file: string): string | undefined {
  // Its directory too, before any change: one that cannot be created stops the run here rather
  // than after a password was reset. Only checked, not created: a dry-run leaves no trace.
  try {
    checkDirectory(dirname(file));
  } catch (error) {
    return `--secrets-file ${file}: ${(error as Error).message}`;
  }
  let info;
  try {
    info = statSync(file, { throwIfNoEntry: false });
  } catch (error) {
    return (error as Error).message;
  }
  if (info === undefined) return undefined;
  const problem = secretsFileProblem(info);
  return problem ? `--secrets-file ${file}: ${problem}` : undefined;
}
