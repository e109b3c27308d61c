import type { Transport } from '../transport/types.js';
import type { ActionContext } from './types.js';

/**
 * A Transport for code that takes one (the remote scanners, the host lock) which sends every
 * command through the engine's ctx.exec, so it is recorded in the audit log like any other.
 */
export function recordedTransport(ctx: ActionContext): Transport {
  return {
    kind: ctx.host.transport.kind,
    host: ctx.host.transport.host,
    exec: (argv, options = {}) =>
      ctx.exec({
        argv: [...argv],
        ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.onStdout !== undefined ? { onStdout: options.onStdout } : {}),
        ...(options.maxOutputBytes !== undefined ? { maxOutputBytes: options.maxOutputBytes } : {}),
      }),
    // The host's connection belongs to the engine.
    close: async () => {},
  };
}
