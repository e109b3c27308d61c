/** The Spamhaus DQS key: from a file only the owner can read, never from argv. */
import { open } from 'node:fs/promises';
import { Secret } from '../../core/secret.js';

export class DqsKeyError extends Error {}

export async function readDqsKeyFile(path: string): Promise<Secret> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new DqsKeyError(`cannot read the DQS key file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}; give a file holding only the key, mode 0600`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new DqsKeyError(`the DQS key file ${path} is not a regular file`);
    if ((info.mode & 0o077) !== 0) {
      throw new DqsKeyError(`the DQS key file ${path} is readable by group or others (mode ${(info.mode & 0o777).toString(8)}); run: chmod 600 ${path}`);
    }
    const key = (await handle.readFile('utf8')).trim();
    // The key becomes a DNS label: letters and digits only, at most 63 characters.
    if (!/^[A-Za-z0-9]{1,63}$/.test(key)) throw new DqsKeyError(`the DQS key file ${path} does not hold a key (letters and digits, one line)`);
    return new Secret(key);
  } finally {
    await handle.close();
  }
}
