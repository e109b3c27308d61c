import type { Secret } from '../../../src/core/secret.js';
import { CPANEL_LAYOUT, CPANEL_TOOL_PATHS, type HostLayout, type ToolPaths } from '../../../src/hosts/types.js';
import type { ActionContext, ActionPlan, ActionResult, CommandSpec, MutatingAction } from '../../../src/actions/types.js';
import type { ExecResult } from '../../../src/transport/types.js';
import { LocalTransport } from '../../../src/transport/local.js';
import type { Action } from '../../../src/actions/types.js';

export interface Recorded {
  argv: string[];
  stdin: 'none' | 'secret' | 'text';
  result: ExecResult;
}

export interface TestContext extends ActionContext {
  calls: Recorded[];
  notes: Array<{ message: string; data?: Record<string, unknown> }>;
  secrets: Array<{ label: string; secret: Secret }>;
  progressLines: string[];
}

/** An ActionContext over LocalTransport that records every argv, note and handed-over secret. */
export function makeContext(options: { tools?: Partial<ToolPaths>; layout?: Partial<HostLayout>; env?: Record<string, string>; dryRun?: boolean; signal?: AbortSignal } = {}): TestContext {
  const transport = new LocalTransport({ host: 'test-host', ...(options.env !== undefined ? { env: options.env } : {}) });
  const calls: Recorded[] = [];
  const notes: TestContext['notes'] = [];
  const secrets: TestContext['secrets'] = [];
  const progressLines: string[] = [];
  return {
    host: {
      name: 'test-host',
      transport,
      tools: { ...CPANEL_TOOL_PATHS, ...options.tools },
      layout: { ...CPANEL_LAYOUT, ...options.layout },
      vars: {},
    },
    async exec(command: CommandSpec): Promise<ExecResult> {
      const result = await transport.exec(command.argv, {
        ...(command.stdin !== undefined ? { stdin: command.stdin } : {}),
        ...(command.timeoutMs !== undefined ? { timeoutMs: command.timeoutMs } : {}),
        ...(command.maxOutputBytes !== undefined ? { maxOutputBytes: command.maxOutputBytes } : {}),
        ...(command.onStdout !== undefined ? { onStdout: command.onStdout } : {}),
      });
      calls.push({
        argv: [...command.argv],
        stdin: command.stdin === undefined ? 'none' : typeof command.stdin === 'object' && !(command.stdin instanceof Uint8Array) ? 'secret' : 'text',
        result,
      });
      return result;
    },
    signal: options.signal ?? new AbortController().signal,
    progress(message) {
      progressLines.push(message);
    },
    async note(message, data) {
      notes.push({ message, ...(data !== undefined ? { data } : {}) });
    },
    async deliverSecret(label, secret) {
      secrets.push({ label, secret });
      return 'test-vault';
    },
    dryRun: options.dryRun ?? false,
    calls,
    notes,
    secrets,
    progressLines,
  };
}

export function mutating(action: Action): MutatingAction {
  if (!action.mutates) throw new Error(`${action.name} is read-only`);
  return action as MutatingAction;
}

/** Plan then run, as the engine does after a gate says yes. */
export async function planAndRun(action: Action, ctx: ActionContext, params: Record<string, unknown>): Promise<{ plan: ActionPlan; result: ActionResult }> {
  const m = mutating(action);
  const plan = await m.plan(ctx, params as never);
  const result = await m.run(ctx, params as never, plan);
  return { plan, result };
}

/** Every argv word the context ran, for "this never appeared anywhere" checks. */
export function allArgv(ctx: TestContext): string {
  return ctx.calls.map((c) => c.argv.join('\u0000')).join('\n');
}
