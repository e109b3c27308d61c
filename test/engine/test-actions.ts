import { readFile } from 'node:fs/promises';
import { Type } from '@sinclair/typebox';
import { confirmAction } from '../../src/actions/control/confirm.js';
import { defineAction, type Action } from '../../src/actions/types.js';
import { Secret } from '../../src/core/secret.js';

/** Small real actions over a temp directory, to exercise the engine without cPanel. */
export const readAction = defineAction({
  name: 'test.read',
  description: 'read a file (read-only)',
  params: Type.Object({ path: Type.String() }, { additionalProperties: false }),
  mutates: false,
  outputs: { content: 'file content', lines: 'lines' },
  async run(ctx, params) {
    const result = await ctx.exec({ argv: ['cat', '--', params.path] });
    if (result.exitCode !== 0) throw new Error(`cannot read ${params.path}: ${result.stderr.trim()}`);
    return { changed: false, outputs: { content: result.stdout.trim(), lines: result.stdout.trim().split('\n') }, summary: `${params.path}: ${result.stdout.trim().length} chars` };
  },
});

export const writeAction = defineAction({
  name: 'test.write',
  description: 'write a file with content (mutating, idempotent)',
  params: Type.Object({ path: Type.String(), content: Type.String() }, { additionalProperties: false }),
  mutates: true,
  reversible: true,
  outputs: { written: 'bytes written' },
  async plan(ctx, params) {
    const current = await readFile(params.path, 'utf8').catch(() => undefined);
    const noop = current === params.content;
    return {
      summary: `write ${params.content.length} bytes to ${params.path}`,
      commands: [{ argv: ['tee', '--', params.path], stdin: params.content }],
      noop,
    };
  },
  async run(ctx, params, plan) {
    for (const command of plan.commands) {
      const result = await ctx.exec(command);
      if (result.exitCode !== 0) throw new Error(`tee failed: ${result.stderr}`);
    }
    return { changed: true, outputs: { written: params.content.length }, undo: [{ action: 'test.write', params: { path: params.path, content: '' }, description: 'empty it' }] };
  },
});

export const failAction = defineAction({
  name: 'test.fail',
  description: 'a mutating step that fails',
  params: Type.Object({}, { additionalProperties: false }),
  mutates: true,
  reversible: false,
  async plan() {
    return { summary: 'run false', commands: [{ argv: ['false'] }] };
  },
  async run(ctx, _params, plan) {
    const result = await ctx.exec(plan.commands[0]!);
    throw new Error(`false exited ${result.exitCode}`);
  },
});

export const sleepAction = defineAction({
  name: 'test.sleep',
  description: 'a mutating step that sleeps',
  params: Type.Object({ seconds: Type.Integer() }, { additionalProperties: false }),
  mutates: true,
  reversible: false,
  async plan(_ctx, params) {
    return { summary: `sleep ${params.seconds}`, commands: [{ argv: ['sleep', String(params.seconds)] }] };
  },
  async run(ctx, _params, plan) {
    const result = await ctx.exec(plan.commands[0]!);
    if (result.exitCode !== 0) throw new Error(`sleep ended early (${result.signal ?? result.exitCode})`);
    return { changed: true, outputs: {} };
  },
});

export const secretAction = defineAction({
  name: 'test.secret',
  description: 'generates a secret, sends it on stdin, delivers it',
  params: Type.Object({ path: Type.String() }, { additionalProperties: false }),
  mutates: true,
  reversible: false,
  async plan(_ctx, params) {
    return { summary: `store a new secret in ${params.path}`, commands: [{ argv: ['tee', '--', params.path] }] };
  },
  async run(ctx, _params, plan) {
    const secret = new Secret(`S3cr3t-${Math.random().toString(36).slice(2)}-value`);
    const result = await ctx.exec({ ...plan.commands[0]!, stdin: secret });
    await ctx.deliverSecret('new password', secret);
    return { changed: true, outputs: { echoed: result.stdout, secret } };
  },
});

/** Appends a line; its plan reads the file through the host (as real actions read CSF files). */
export const appendAction = defineAction({
  name: 'test.append',
  description: 'append a line to a file unless it is there (mutating, idempotent)',
  params: Type.Object({ path: Type.String(), line: Type.String() }, { additionalProperties: false }),
  mutates: true,
  reversible: false,
  async plan(ctx, params) {
    const current = await ctx.exec({ argv: ['cat', '--', params.path] });
    const noop = current.stdout.split('\n').includes(params.line);
    return { summary: `append ${params.line} to ${params.path}`, commands: [{ argv: ['tee', '-a', '--', params.path], stdin: `${params.line}\n` }], noop };
  },
  async run(ctx, _params, plan) {
    for (const command of plan.commands) {
      const result = await ctx.exec(command);
      if (result.exitCode !== 0) throw new Error(`tee failed: ${result.stderr}`);
    }
    return { changed: true, outputs: {} };
  },
});

export function testRegistry(): Map<string, Action> {
  const all = [confirmAction, readAction, writeAction, failAction, sleepAction, secretAction, appendAction, halfwayAction] as unknown as Action[];
  return new Map(all.map((a) => [a.name, a]));
}

/** Writes its file, then fails: a step that changes the host part-way. */
export const halfwayAction = defineAction({
  name: 'test.halfway',
  description: 'writes a file, then fails',
  params: Type.Object({ path: Type.String() }, { additionalProperties: false }),
  mutates: true,
  reversible: false,
  async plan(_ctx, params) {
    return { summary: `write ${params.path}, then fail`, commands: [{ argv: ['tee', '--', params.path], stdin: 'half\n' }, { argv: ['false'] }] };
  },
  async run(ctx, _params, plan) {
    for (const command of plan.commands) {
      const result = await ctx.exec(command);
      if (result.exitCode !== 0) throw new Error(`${command.argv[0]} exited ${result.exitCode}`);
    }
    return { changed: true, outputs: {} };
  },
});
