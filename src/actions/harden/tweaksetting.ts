/**
 * cpanel.tweaksetting.set: one WHM Tweak Setting (module Main) through `whmapi1
 * set_tweaksetting`, the old value recorded so `runbook undo` puts it back.
 */
import { Type, type Static } from '@sinclair/typebox';
import { parseWhmEnvelope } from '../../parsers/cpanel-envelope.js';
import { apiErrorText } from '../cpanel/api-error.js';
import { describeCommandFailure } from '../service/command-failure.js';
import { ActionError, type ActionContext, type ActionPlan, type MutatingAction } from '../types.js';

const Params = Type.Object(
  {
    key: Type.String({ pattern: '^[a-z][a-z0-9_]{0,80}$', description: 'Tweak Setting key (module Main), e.g. maxemailsperhour' }),
    value: Type.String({ pattern: '^[A-Za-z0-9_.-]{0,100}$', description: "New value; '' sets it back to unset (undef: unlimited/off)" }),
  },
  { additionalProperties: false },
);

/** The current value; undefined when cPanel reports it unset (the answer has no `value`). */
export async function getTweakSetting(ctx: ActionContext, key: string): Promise<string | undefined> {
  const result = await ctx.exec({ argv: [ctx.host.tools.whmapi1, '--output=json', 'get_tweaksetting', `key=${key}`, 'module=Main'], timeoutMs: 120_000, okExitCodes: [0, 1, 2, 255] });
  const outcome = parseWhmEnvelope(result.stdout);
  if (!outcome.ok) {
    throw new ActionError(`cannot read Tweak Setting ${key}: ${outcome.envelope ? apiErrorText(outcome) : describeCommandFailure(result)}`);
  }
  const setting = (outcome.data as { tweaksetting?: { value?: unknown } } | undefined)?.tweaksetting;
  const value = setting?.value;
  return value === undefined || value === null ? undefined : String(value);
}

const shown = (value: string | undefined): string => (value === undefined || value === '' ? 'unset' : value);

interface PlanData {
  key: string;
  old: string | undefined;
  value: string;
}

export const tweakSettingSet: MutatingAction<typeof Params, PlanData> = {
  name: 'cpanel.tweaksetting.set',
  description: 'Set a WHM Tweak Setting (whmapi1 set_tweaksetting), remembering the old value for undo',
  mutates: true,
  reversible: true,
  params: Params,
  outputs: { key: 'the setting', old_value: "its value before ('' when unset)", value: 'its value now' },
  async plan(ctx, params: Static<typeof Params>): Promise<ActionPlan<PlanData>> {
    const old = await getTweakSetting(ctx, params.key);
    const data: PlanData = { key: params.key, old, value: params.value };
    const facts = { key: params.key, current: shown(old) };
    if ((old ?? '') === params.value) return { summary: `${params.key} is already ${shown(old)}`, commands: [], noop: true, data, facts };
    const argv = [ctx.host.tools.whmapi1, '--output=json', 'set_tweaksetting', `key=${params.key}`, `value=${params.value}`];
    return { summary: `set Tweak Setting ${params.key} to ${shown(params.value)} (now ${shown(old)})`, commands: [{ argv, timeoutMs: 120_000, okExitCodes: [0, 1, 2, 255] }], data, facts };
  },
  async run(ctx, _params, plan) {
    const data = plan.data!;
    const outputs = { key: data.key, old_value: data.old ?? '', value: data.value };
    if (plan.noop === true || plan.commands.length === 0) return { changed: false, outputs, summary: plan.summary };
    const result = await ctx.exec(plan.commands[0]!);
    const outcome = parseWhmEnvelope(result.stdout);
    if (!outcome.ok) {
      throw new ActionError(`cPanel did not set ${data.key}: ${outcome.envelope ? apiErrorText(outcome) : describeCommandFailure(result)}`);
    }
    const after = await getTweakSetting(ctx, data.key);
    if ((after ?? '') !== data.value) {
      // How the CLI sets a setting back to undef is not documented: say so rather than guess.
      const hint = data.value === '' ? ' Setting it back to unset from the command line is not supported here; set it to unlimited in WHM » Tweak Settings.' : '';
      throw new ActionError(`cPanel accepted ${data.key}=${shown(data.value)} but reports ${shown(after)}.${hint}`);
    }
    return {
      changed: true,
      outputs,
      summary: `${data.key} set to ${shown(data.value)} (was ${shown(data.old)})`,
      changes: [{ kind: 'setting', where: 'WHM Tweak Settings', key: data.key, from: data.old ?? '', to: data.value }],
      undo: [{ action: 'cpanel.tweaksetting.set', params: { key: data.key, value: data.old ?? '' }, description: `set Tweak Setting ${data.key} back to ${shown(data.old)}` }],
    };
  },
};
