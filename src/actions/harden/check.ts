/**
 * harden.check: reads the outgoing-mail limits (WHM Tweak Settings) and CSF's relay tracking
 * and script alerts, and lists what should change, with the exact change for each.
 */
import { Type } from '@sinclair/typebox';
import { judge, RECOMMENDATIONS, type Finding } from '../../harden/recommendations.js';
import type { ReadOnlyAction } from '../types.js';
import { csfConfPath, readCsfConf } from './csf-conf.js';
import { getTweakSetting } from './tweaksetting.js';

const Params = Type.Object({}, { additionalProperties: false });

const shown = (value: string | undefined): string => (value === undefined ? 'unset' : `"${value}"`);

export function describeFinding(f: Finding): string {
  return `${f.key} ${shown(f.current)} → "${f.recommended}": ${f.why}. Change: ${f.change}`;
}

export const hardenCheck: ReadOnlyAction<typeof Params> = {
  name: 'harden.check',
  description: 'List outgoing-mail limits (WHM Tweak Settings) and CSF alerts that should be tightened, with the exact change for each',
  mutates: false,
  params: Params,
  outputs: {
    findings: 'list of {source, key, current, recommended, why, change}',
    tweak_changes: 'list of {key, value} for cpanel.tweaksetting.set',
    csf_changes: 'list of {key, value} for csf.conf.set',
    csf_installed: 'whether csf.conf exists',
  },
  async run(ctx) {
    const tweak = new Map<string, string | undefined>();
    for (const rec of RECOMMENDATIONS.filter((r) => r.source === 'tweak')) tweak.set(rec.key, await getTweakSetting(ctx, rec.key));
    const csf = await readCsfConf(ctx);
    const findings = judge(csf === undefined ? { tweak } : { tweak, csf }, csfConfPath(ctx));
    const pick = (source: Finding['source']) => findings.filter((f) => f.source === source).map((f) => ({ key: f.key, value: f.recommended }));
    const head = findings.length === 0 ? 'nothing to tighten' : `${findings.length} setting(s) to tighten`;
    const summary = [`${head}${csf === undefined ? ' (CSF not installed: its settings not checked)' : ''}`, ...findings.map((f, i) => `(${i + 1}) ${describeFinding(f)}`)].join('; ');
    await ctx.note(`harden.check: ${head}`, { findings: findings.map((f) => ({ key: f.key, current: f.current ?? null, recommended: f.recommended })) });
    return {
      changed: false,
      outputs: { findings: findings.map((f) => ({ ...f, current: f.current ?? null })), tweak_changes: pick('tweak'), csf_changes: pick('csf'), csf_installed: csf !== undefined },
      summary,
    };
  },
};
