import type { ActionContext, CommandSpec } from '../actions/types.js';
import type { Secret } from '../core/secret.js';
import type { HostTarget } from '../hosts/types.js';
import { CommandCutOffError, CommandNotFoundError, type ExecResult } from '../transport/types.js';
import { ReadCache } from './read-cache.js';
import { describeStdin, RESULT_UNKNOWN, type Recorder } from './recorder.js';
import type { EngineObserver } from './types.js';

export interface ContextOptions {
  target: HostTarget;
  step: string;
  recorder: Recorder;
  observer: EngineObserver;
  signal: AbortSignal;
  dryRun: boolean;
  /** True while a mutating action runs its plan: every command is write-ahead logged. */
  mutating: boolean;
  deliverSecret: (host: string, label: string, secret: Secret) => Promise<string>;
  /** Set while planning: identical reads on this host run once (see read-cache.ts). */
  readCache?: ReadCache;
}

/**
 * The ActionContext the engine hands to an action. All command execution goes through here,
 * which is what lets the engine, not the action, guarantee the audit trail: a mutating
 * command's intent is fsynced before it starts, and an audit failure stops it from starting.
 */
export function createActionContext(options: ContextOptions): ActionContext {
  const { target, step, recorder } = options;
  return {
    // Without its transport: an action reaches the host only through the recorded exec below.
    host: { name: target.name, tools: target.tools, layout: target.layout, vars: target.vars, transport: { kind: target.transport.kind, host: target.transport.host } },
    signal: options.signal,
    dryRun: options.dryRun,
    progress(message) {
      options.observer({ type: 'step.progress', host: target.name, step, message });
    },
    async note(message, data) {
      recorder.record({ type: 'note', host: target.name, step, message, ...(data !== undefined ? { data } : {}) });
    },
    async deliverSecret(label, secret) {
      const where = await options.deliverSecret(target.name, label, secret);
      recorder.record({ type: 'note', host: target.name, step, message: `secret '${label}' handed to the operator (${where})` });
      return where;
    },
    async exec(command: CommandSpec): Promise<ExecResult> {
      if (options.signal.aborted) throw options.signal.reason instanceof Error ? options.signal.reason : new Error('interrupted');
      if (options.mutating) {
        // Write-ahead: throws (and nothing runs) if the intent cannot be made durable.
        recorder.durable({
          type: 'command.intent',
          host: target.name,
          step,
          argv: command.argv,
          stdin: describeStdin(command.stdin),
          mutates: true,
        });
      }
      const cacheKey = !options.mutating && options.readCache !== undefined ? ReadCache.keyOf(command) : null;
      if (cacheKey !== null) {
        const hit = options.readCache!.get(cacheKey);
        if (hit !== undefined) {
          recorder.commandResult(target.name, step, { ...hit.result, durationMs: 0 }, { reusedFrom: hit.step, stdin: command.stdin });
          return { ...hit.result };
        }
      }
      let result: ExecResult;
      try {
        result = await target.transport.exec(command.argv, {
          ...(command.stdin !== undefined ? { stdin: command.stdin } : {}),
          ...(command.timeoutMs !== undefined ? { timeoutMs: command.timeoutMs } : {}),
          ...(command.onStdout !== undefined ? { onStdout: command.onStdout } : {}),
          ...(command.maxOutputBytes !== undefined ? { maxOutputBytes: command.maxOutputBytes } : {}),
          signal: options.signal,
        });
      } catch (error) {
        // Cut off after the host started it: the log must not say it did not run.
        const message =
          error instanceof CommandNotFoundError ? error.message : error instanceof CommandCutOffError ? `${RESULT_UNKNOWN}: ${error.message}` : `command failed to start: ${(error as Error).message}`;
        recorder.record({
          type: 'command.result',
          host: target.name,
          step,
          argv: command.argv,
          exitCode: null,
          signal: null,
          durationMs: 0,
          timedOut: false,
          stdout: { bytes: 0, sha256: '', excerpt: '', truncated: false },
          stderr: { bytes: 0, sha256: '', excerpt: '', truncated: false },
          error: message,
        });
        throw error;
      }
      recorder.commandResult(target.name, step, result, { stdin: command.stdin });
      if (cacheKey !== null) options.readCache!.set(cacheKey, step, result);
      return result;
    },
  };
}
