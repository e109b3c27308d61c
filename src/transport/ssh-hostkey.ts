/**
 * Host key policy for one SSH hop: verify against known_hosts, refuse unknown keys unless the
 * operator allowed trust-on-first-use, refuse changed or revoked keys always.
 */
import {
  appendKnownHost,
  checkHostKey,
  keyTypeOfBlob,
  knownHostsName,
  knownKeyTypes,
  readKnownHostsFile,
  sha256Fingerprint,
  type KnownHostEntry,
} from './known-hosts.js';

export class HostKeyRejectedError extends Error {
  readonly reason: 'unknown' | 'changed' | 'revoked';
  readonly fingerprint: string;
  constructor(reason: 'unknown' | 'changed' | 'revoked', fingerprint: string, message: string) {
    super(message);
    this.name = 'HostKeyRejectedError';
    this.reason = reason;
    this.fingerprint = fingerprint;
  }
}

export interface HostKeyPolicy {
  knownHostsFile: string;
  /** Read-only extra files such as /etc/ssh/ssh_known_hosts. */
  globalKnownHostsFiles?: string[];
  acceptNewHostKeys?: boolean;
  onHostKeyAccepted?: (host: string, fingerprint: string) => void;
}

/** Signature algorithms that can prove a key of this type. */
function algorithmsForKeyType(type: string): string[] {
  if (type === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return [type];
}

const DEFAULT_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

export interface HostKeyCheck {
  /** Ask the server for a key type we already trust, so a second key type is not "changed". */
  algorithms: string[];
  /** For ssh2's hostVerifier: compares the raw key blob. */
  verify: (key: Buffer, done: (ok: boolean) => void) => void;
  /** Why verification failed, once it has. */
  failure: () => HostKeyRejectedError | undefined;
}

export async function prepareHostKeyCheck(
  policy: HostKeyPolicy,
  hostname: string,
  port: number,
): Promise<HostKeyCheck> {
  const entries: KnownHostEntry[] = [...(await readKnownHostsFile(policy.knownHostsFile))];
  for (const f of policy.globalKnownHostsFiles ?? []) entries.push(...(await readKnownHostsFile(f)));
  const name = knownHostsName(hostname, port);
  const preferred = knownKeyTypes(entries, name).flatMap(algorithmsForKeyType);
  const algorithms = [...new Set([...preferred, ...DEFAULT_HOST_KEY_ALGORITHMS])];
  let failure: HostKeyRejectedError | undefined;
  const verify = (key: Buffer, done: (ok: boolean) => void): void => {
    const fingerprint = sha256Fingerprint(key);
    const type = keyTypeOfBlob(key);
    const verdict = checkHostKey(entries, name, key);
    switch (verdict.status) {
      case 'known':
        done(true);
        return;
      case 'revoked':
        failure = new HostKeyRejectedError(
          'revoked',
          fingerprint,
          `host key ${type} ${fingerprint} for ${name} is marked @revoked in ${policy.knownHostsFile} ` +
            `(line ${verdict.line}). Refusing to connect.`,
        );
        done(false);
        return;
      case 'changed':
        failure = new HostKeyRejectedError(
          'changed',
          fingerprint,
          `HOST KEY CHANGED for ${name}: it now presents ${type} ${fingerprint}, which does not ` +
            `match the key recorded in ${policy.knownHostsFile} (line ${verdict.lines.join(', ')}). ` +
            'Someone may be intercepting the connection (man-in-the-middle), or the host was ' +
            'reinstalled. Refusing to connect, even with --accept-new-host-keys. Verify the new ' +
            'fingerprint out of band, then remove the old entry (ssh-keygen -R) and try again.',
        );
        done(false);
        return;
      case 'unknown':
        if (policy.acceptNewHostKeys === true) {
          appendKnownHost(policy.knownHostsFile, name, key).then(
            () => {
              policy.onHostKeyAccepted?.(name, fingerprint);
              done(true);
            },
            (error: unknown) => {
              failure = new HostKeyRejectedError(
                'unknown',
                fingerprint,
                `could not record the new host key for ${name} in ${policy.knownHostsFile}: ` +
                  `${(error as Error).message}`,
              );
              done(false);
            },
          );
          return;
        }
        failure = new HostKeyRejectedError(
          'unknown',
          fingerprint,
          `unknown host key for ${name}: ${type} ${fingerprint}. Not in ${policy.knownHostsFile}. ` +
            `Check the fingerprint with the host's administrator, then add it with ` +
            `'ssh-keyscan -p ${port} ${hostname} >> ${policy.knownHostsFile}', or run again with ` +
            '--accept-new-host-keys to trust it on first use (it is recorded in the audit log).',
        );
        done(false);
        return;
    }
  };
  return { algorithms, verify, failure: () => failure };
}
