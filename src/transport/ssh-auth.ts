/**
 * Client authentication for one hop: ssh-agent first (when a socket is available), then each
 * identity file in order. Keys are read only when their turn comes, so an operator with a
 * working agent is never asked for a passphrase.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthHandlerMiddleware, ParsedKey } from 'ssh2';

/** Asked for a key's passphrase (on a TTY); undefined means "skip this key". */
export type AskPassphrase = (keyFile: string) => Promise<string | undefined>;

export interface AuthOptions {
  username: string;
  /** ssh-agent socket; null disables the agent. Default: $SSH_AUTH_SOCK. */
  agentSocket?: string | null;
  identityFiles: string[];
  askPassphrase?: AskPassphrase;
}

export function defaultIdentityFiles(home = homedir()): string[] {
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(home, '.ssh', f));
}

function isEncryptedKeyError(error: Error): boolean {
  return /encrypted|passphrase/i.test(error.message);
}

/** Load a private key, asking for its passphrase when it has one. */
export async function loadPrivateKey(
  file: string,
  askPassphrase: AskPassphrase | undefined,
): Promise<ParsedKey | undefined> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = ssh2.utils.parseKey(data);
  if (!(parsed instanceof Error)) return Array.isArray(parsed) ? parsed[0] : parsed;
  if (!isEncryptedKeyError(parsed)) throw new Error(`${file}: ${parsed.message}`);
  if (askPassphrase === undefined) return undefined;
  const passphrase = await askPassphrase(file);
  if (passphrase === undefined) return undefined;
  const decrypted = ssh2.utils.parseKey(data, passphrase);
  if (decrypted instanceof Error) throw new Error(`${file}: wrong passphrase (${decrypted.message})`);
  return Array.isArray(decrypted) ? decrypted[0] : decrypted;
}

/** An ssh2 authHandler trying the agent, then each key. Records what was tried. */
export function createAuthHandler(options: AuthOptions, tried: string[]): AuthHandlerMiddleware {
  const agent = options.agentSocket === undefined ? process.env.SSH_AUTH_SOCK : options.agentSocket;
  const queue: Array<() => Promise<AnyAuthMethod | undefined>> = [];
  if (agent) {
    queue.push(async () => {
      tried.push('agent');
      return { type: 'agent', username: options.username, agent };
    });
  }
  for (const file of options.identityFiles) {
    queue.push(async () => {
      const key = await loadPrivateKey(file, options.askPassphrase);
      if (key === undefined) return undefined;
      tried.push(`key ${file}`);
      return { type: 'publickey', username: options.username, key };
    });
  }
  return (_left, _partial, next) => {
    const step = async (): Promise<void> => {
      for (;;) {
        const make = queue.shift();
        if (make === undefined) {
          next(false as unknown as AnyAuthMethod);
          return;
        }
        let method: AnyAuthMethod | undefined;
        try {
          method = await make();
        } catch (error) {
          tried.push(`skipped: ${(error as Error).message}`);
        }
        if (method !== undefined) {
          next(method);
          return;
        }
      }
    };
    step().catch((error: unknown) => {
      tried.push(`error: ${(error as Error).message}`);
      next(false as unknown as AnyAuthMethod);
    });
  };
}
