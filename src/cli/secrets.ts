import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, writeSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { checkDirectory, ensureDirectory } from '../core/ensure-dir.js';
import type { Secret } from '../core/secret.js';
import { safeLine } from '../core/text.js';

/**
 * Hands a generated secret (a new mailbox password) to the operator exactly once, never through
 * stdout, logs or the audit log: to an explicit 0600 file when asked, else straight to the
 * controlling terminal, else to a 0600 file under the operator's state directory (fallbackSecretsFile).
 *
 * The secret already works on the host when it gets here, so it is never dropped: if the chosen
 * way fails, it goes to the terminal if there is one, else to a fresh 0600 file (created, never
 * reused) in `emergencyDir`, whose path is printed; the returned text says where it went, which
 * the audit log records (never the secret).
 */
export function createSecretDelivery(options: { secretsFile?: string; fallbackFile: string; interactive: boolean; emergencyDir: string }) {
  return async (host: string, label: string, secret: Secret): Promise<string> => {
    const line = `${host}\t${label}\t${secret.reveal()}\n`;
    if (!options.secretsFile && options.interactive) {
      try {
        return showOnTerminal(host, label, secret);
      } catch {
        // no controlling terminal after all: fall through to a file
      }
    }
    const file = options.secretsFile ?? options.fallbackFile;
    let failure: string;
    try {
      appendSecretLine(file, line);
      return `written to ${file} (mode 0600)`;
    } catch (error) {
      failure = `${file}: ${(error as Error).message}`;
    }
    try {
      const where = showOnTerminal(host, label, secret);
      return `${where}, because it could not be written to ${failure}`;
    } catch {
      // no terminal: a file nobody else can have opened
    }
    try {
      const emergency = writeFreshSecretFile(options.emergencyDir, line);
      process.stderr.write(`runbook: ${safeLine(label)} could not be written to ${safeLine(failure)}; it is in ${safeLine(emergency)} (mode 0600), the only copy: take it from there, then delete the file.\n`);
      return `written to ${emergency} (mode 0600), because it could not be written to ${failure}`;
    } catch (error) {
      throw new Error(
        `the ${label} was already sent to ${host}, but it could not be handed over: ${failure}; no terminal; ${options.emergencyDir}: ${(error as Error).message}. ` +
          'It is lost: set a new one by hand on the host.',
      );
    }
  };
}

function showOnTerminal(host: string, label: string, secret: Secret): string {
  const fd = openSync('/dev/tty', 'w');
  try {
    writeSync(fd, `\n  ${host}: ${label} = ${secret.reveal()}\n  (shown once; it is not in any log)\n\n`);
  } finally {
    closeSync(fd);
  }
  return 'shown on the terminal';
}

/** Appends to a secrets file under the same rules the pre-check applies (secretsFileProblem). */
function appendSecretLine(file: string, line: string): void {
  const problem = secretsFileProblem(file);
  if (problem) throw new Error(problem);
  // Not a recursive mkdir: under /proc that never returns, with the password already reset.
  ensureDirectory(dirname(file), 0o700);
  // O_NOFOLLOW and fstat: a file swapped for a link or a loose file after the check is refused too.
  const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  try {
    const opened = statsProblem(fstatSync(fd));
    if (opened) throw new Error(opened);
    writeSync(fd, line);
  } finally {
    closeSync(fd);
  }
}

/** A new file (O_EXCL: never one that existed, never through a link), mode 0600. */
function writeFreshSecretFile(dir: string, line: string): string {
  ensureDirectory(dir, 0o700);
  const path = join(dir, `runbook-secret-${new Date().toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}.txt`);
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, line);
  } finally {
    closeSync(fd);
  }
  return path;
}

function statsProblem(info: Stats): string | undefined {
  if (info.isSymbolicLink()) return 'a symbolic link: secrets are never written through a link; name the file itself';
  if (!info.isFile()) return 'not a regular file';
  if ((info.mode & 0o077) !== 0) return `readable or writable by others (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')}); chmod 600 it or name a new file`;
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) return 'owned by another user';
  return undefined;
}

/**
 * Why a secret cannot go to `file`, or undefined: the one rule for the check before a run and
 * for the delivery itself, so nothing the check lets through is refused after a reset. Only
 * checks (a dry-run leaves no trace); a missing file is fine when its directory can be made.
 */
export function secretsFileProblem(file: string): string | undefined {
  try {
    checkDirectory(dirname(file));
  } catch (error) {
    return (error as Error).message;
  }
  let info: Stats | undefined;
  try {
    // lstat: a link is judged as the link, as O_NOFOLLOW will see it.
    info = lstatSync(file, { throwIfNoEntry: false });
  } catch (error) {
    return (error as Error).message;
  }
  return info === undefined ? undefined : statsProblem(info);
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
  const problem = secretsFileProblem(file);
  return problem ? `--secrets-file ${file}: ${problem}` : undefined;
}
