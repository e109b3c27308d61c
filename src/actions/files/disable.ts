import { Type, type Static } from '@sinclair/typebox';
import { describeCommandFailure } from '../service/command-failure.js';
import { ActionError, type ActionContext, type ActionPlan, type ActionResult, type MutatingAction } from '../types.js';
import { resolveHomeFile, sameMode, type HomeTarget } from './inspect.js';

const DisableParams = Type.Object(
  { path: Type.String({ minLength: 2, maxLength: 4096, description: 'A file inside an account home (the spam script)' }) },
  { additionalProperties: false },
);

const RestoreParams = Type.Object(
  {
    path: Type.String({ minLength: 2, maxLength: 4096 }),
    mode: Type.String({ pattern: '^[0-7]{1,4}$', description: 'Octal mode to set back, as file.disable recorded it' }),
  },
  { additionalProperties: false },
);

interface ModePlanData {
  path: string;
  oldMode: string;
  newMode: string;
}

function modeText(mode: string): string {
  return Number.parseInt(mode, 8).toString(8).padStart(4, '0');
}

/**
 * Re-checks the file right before chmod: the account's owner (or the attacker inside it) may
 * have swapped it for a symlink since the plan, and chmod follows symlinks.
 */
async function recheck(ctx: ActionContext, data: ModePlanData, given: string): Promise<HomeTarget> {
  const now = await resolveHomeFile(ctx, given);
  if (now.resolved !== data.path) {
    throw new ActionError(`${given} now resolves to ${now.resolved}, not ${data.path} as planned; nothing was changed. Look at the file and run again.`);
  }
  return now;
}

async function chmodAndVerify(ctx: ActionContext, plan: ActionPlan<ModePlanData>, data: ModePlanData): Promise<void> {
  const result = await ctx.exec(plan.commands[0]!);
  if (result.exitCode !== 0) throw new ActionError(`chmod failed on ${data.path}: ${describeCommandFailure(result)}`);
  const after = await ctx.exec({ argv: ['stat', '-c', '%a', '--', data.path], timeoutMs: 15_000, okExitCodes: [0, 1] });
  if (after.exitCode !== 0 || !sameMode(after.stdout.trim(), data.newMode)) {
    throw new ActionError(`chmod ran but ${data.path} has mode ${after.stdout.trim() || '?'} instead of ${modeText(data.newMode)}; check the file (immutable attribute? NFS?).`);
  }
}

/**
 * Plans setting a file inside an account home to `mode`: a no-op when it already has it.
 * `chmodMode` is the mode as written on the chmod command line.
 */
async function planMode(
  ctx: ActionContext,
  path: string,
  mode: string,
  chmodMode: string,
  texts: { already: (file: string) => string; withOwner: boolean },
): Promise<ActionPlan<ModePlanData>> {
  const target = await resolveHomeFile(ctx, path);
  const data: ModePlanData = { path: target.resolved, oldMode: target.stat.mode, newMode: mode };
  const facts = { path: target.resolved, mode: modeText(target.stat.mode), ...(texts.withOwner ? { owner: target.stat.owner } : {}) };
  if (sameMode(target.stat.mode, mode)) {
    return { summary: texts.already(target.resolved), commands: [], noop: true, data, facts };
  }
  return {
    summary: `chmod ${chmodMode} ${target.resolved} (now ${modeText(target.stat.mode)})`,
    commands: [{ argv: ['chmod', chmodMode, '--', target.resolved], timeoutMs: 15_000 }],
    data,
    facts,
  };
}

/** Runs a planMode plan: re-checks the file, chmods, verifies, and records how to go back. */
async function applyMode(ctx: ActionContext, requestedPath: string, plan: ActionPlan<ModePlanData>, summary: (data: ModePlanData) => string): Promise<ActionResult> {
  const data = plan.data!;
  const outputs = { path: data.path, old_mode: modeText(data.oldMode), mode: modeText(data.newMode) };
  if (plan.noop === true || plan.commands.length === 0) return { changed: false, outputs, summary: plan.summary };
  await recheck(ctx, data, requestedPath);
  await chmodAndVerify(ctx, plan, data);
  return {
    changed: true,
    outputs,
    summary: summary(data),
    changes: [{ kind: 'file-mode', path: data.path, from: modeText(data.oldMode), to: modeText(data.newMode) }],
    undo: [{ action: 'file.restore_mode', params: { path: data.path, mode: modeText(data.oldMode) }, description: `chmod ${modeText(data.oldMode)} ${data.path}` }],
  };
}

export const fileDisable: MutatingAction<typeof DisableParams, ModePlanData> = {
  name: 'file.disable',
  description: 'chmod 000 a file inside an account home (a spam script), remembering its mode for undo',
  mutates: true,
  reversible: true,
  params: DisableParams,
  outputs: { path: 'the file (symlinks resolved)', old_mode: 'its mode before', mode: 'its mode now (0000)' },
  plan: (ctx, params: Static<typeof DisableParams>) =>
    planMode(ctx, params.path, '0', '000', { already: (file) => `${file} is already mode 0000`, withOwner: true }),
  run: (ctx, params, plan) => applyMode(ctx, params.path, plan, (data) => `disabled ${data.path} (was ${modeText(data.oldMode)})`),
  counters: { files_disabled: 'scripts disabled' },
  counts: () => ({ files_disabled: 1 }),
};

export const fileRestoreMode: MutatingAction<typeof RestoreParams, ModePlanData> = {
  name: 'file.restore_mode',
  description: 'Set a file inside an account home back to a recorded mode (the undo of file.disable)',
  mutates: true,
  reversible: true,
  params: RestoreParams,
  outputs: { path: 'the file', old_mode: 'its mode before', mode: 'its mode now' },
  plan: (ctx, params: Static<typeof RestoreParams>) =>
    planMode(ctx, params.path, params.mode, modeText(params.mode), { already: (file) => `${file} already has mode ${modeText(params.mode)}`, withOwner: false }),
  run: (ctx, params, plan) => applyMode(ctx, params.path, plan, (data) => `${data.path} set to ${modeText(data.newMode)} (was ${modeText(data.oldMode)})`),
};
