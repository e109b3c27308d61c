/**
 * csf.conf.set: one `KEY = "value"` line of csf.conf, edited in place by `sed -i` (a temporary
 * file renamed over the old one, mode kept), the old value recorded for `runbook undo`.
 * csf and lfd read csf.conf when they start: the change takes effect after `csf -ra`.
 */
import { Type, type Static } from '@sinclair/typebox';
import { CSF_KEY, CSF_SAFE_VALUE, parseCsfConf } from '../../parsers/csf-conf.js';
import { readHostFile } from '../files/host-read.js';
import { describeCommandFailure } from '../service/command-failure.js';
import { ActionError, type ActionContext, type ActionPlan, type MutatingAction } from '../types.js';

const Params = Type.Object(
  {
    key: Type.String({ pattern: CSF_KEY.source, description: 'csf.conf setting, e.g. LF_SCRIPT_ALERT' }),
    value: Type.String({ pattern: CSF_SAFE_VALUE.source, description: 'New value (written between the quotes)' }),
  },
  { additionalProperties: false },
);

export function csfConfPath(ctx: ActionContext): string {
  return `${ctx.host.layout.csfDir.replace(/\/+$/, '')}/csf.conf`;
}

/** All of csf.conf's settings, or undefined when CSF is not installed. */
export async function readCsfConf(ctx: ActionContext): Promise<Map<string, string> | undefined> {
  const text = await readHostFile(ctx, csfConfPath(ctx));
  return text === null ? undefined : parseCsfConf(text);
}

async function currentValue(ctx: ActionContext, key: string): Promise<string> {
  const conf = await readCsfConf(ctx);
  if (conf === undefined) throw new ActionError(`${csfConfPath(ctx)} does not exist on ${ctx.host.name}: CSF is not installed (or set the layout's csfDir).`);
  const value = conf.get(key);
  if (value === undefined) throw new ActionError(`${csfConfPath(ctx)} has no ${key} line; this CSF version may not know it. Add it by hand if it does.`);
  return value;
}

interface PlanData {
  key: string;
  old: string;
  value: string;
}

export const csfConfSet: MutatingAction<typeof Params, PlanData> = {
  name: 'csf.conf.set',
  description: 'Set one csf.conf setting (KEY = "value"), remembering the old value for undo; applies at the next csf -ra',
  mutates: true,
  reversible: true,
  params: Params,
  outputs: { key: 'the setting', old_value: 'its value before', value: 'its value now' },
  async plan(ctx, params: Static<typeof Params>): Promise<ActionPlan<PlanData>> {
    const old = await currentValue(ctx, params.key);
    const data: PlanData = { key: params.key, old, value: params.value };
    const facts = { key: params.key, current: old };
    if (old === params.value) return { summary: `${params.key} is already "${old}"`, commands: [], noop: true, data, facts };
    // Key and value are restricted to characters sed and csf read literally (no / & \ " #).
    const argv = ['sed', '-i', '-E', `s/^${params.key}[[:space:]]*=.*$/${params.key} = "${params.value}"/`, csfConfPath(ctx)];
    return { summary: `csf.conf: ${params.key} = "${params.value}" (now "${old}"); takes effect at csf -ra`, commands: [{ argv, timeoutMs: 30_000 }], data, facts };
  },
  async run(ctx, _params, plan) {
    const data = plan.data!;
    const outputs = { key: data.key, old_value: data.old, value: data.value };
    if (plan.noop === true || plan.commands.length === 0) return { changed: false, outputs, summary: plan.summary };
    const now = await currentValue(ctx, data.key);
    if (now !== data.old) throw new ActionError(`${data.key} is "${now}" now, not "${data.old}" as planned; nothing was changed. Run again to plan from the new value.`);
    const result = await ctx.exec(plan.commands[0]!);
    if (result.exitCode !== 0) throw new ActionError(`editing ${csfConfPath(ctx)} failed: ${describeCommandFailure(result)}`);
    const after = await currentValue(ctx, data.key);
    if (after !== data.value) throw new ActionError(`${csfConfPath(ctx)} has ${data.key} = "${after}" after the edit, not "${data.value}"; check the file.`);
    return {
      changed: true,
      outputs,
      summary: `csf.conf: ${data.key} = "${data.value}" (was "${data.old}"); run csf -ra to apply`,
      changes: [{ kind: 'setting', where: 'csf.conf', key: data.key, from: data.old ?? '', to: data.value }],
      undo: [{ action: 'csf.conf.set', params: { key: data.key, value: data.old }, description: `set ${data.key} back to "${data.old}" in csf.conf` }],
    };
  },
};
