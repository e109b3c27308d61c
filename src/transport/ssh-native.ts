/**
 * Whether ssh2's native crypto binding loads in this Node. ssh2 falls back to pure-JS ciphers
 * without saying so, which makes SSH slower; operators need to see it, and why.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeBinding {
  loaded: boolean;
  /** The addon file ssh2 loads. */
  path: string;
  /** Why it did not load, in words, and what to do; absent when loaded. */
  reason?: string;
}

const require = createRequire(import.meta.url);

/** The install step that builds native addons for the Node runbook runs on (package.json postinstall). */
const REBUILD_SCRIPT = fileURLToPath(new URL('../../scripts/native-addons.cjs', import.meta.url));

/** Where ssh2 keeps its compiled crypto binding (lib/protocol/crypto.js requires it there). */
export function sshBindingPath(): string {
  return join(dirname(require.resolve('ssh2/package.json')), 'lib', 'protocol', 'crypto', 'build', 'Release', 'sshcrypto.node');
}

export function probeSshBinding(path = sshBindingPath()): NativeBinding {
  const rebuild = `rebuild it for the Node that runs runbook: node ${REBUILD_SCRIPT}`;
  if (!existsSync(path)) return { loaded: false, path, reason: `not built (ssh2's install script did not run or failed); ${rebuild}` };
  try {
    require(path);
    return { loaded: true, path };
  } catch (error) {
    const message = (error as Error).message.split('\n')[0] ?? '';
    const wrongNode = /did not self-register|NODE_MODULE_VERSION|undefined symbol/.test(message);
    return {
      loaded: false,
      path,
      reason: `${wrongNode ? `built for another Node than this one (${process.version})` : 'cannot be loaded'}: ${message}; ${rebuild}`,
    };
  }
}
