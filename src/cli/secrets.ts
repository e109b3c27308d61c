import { appendFileSync, closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
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
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    appendFileSync(file, line, { mode: 0o600 });
    return `written to ${file} (mode 0600)`;
  };
}
