import { Type, type Static } from '@sinclair/typebox';
import { parseCsfTempDenyOutput, parseCsfTempList, parseCsfTempRemoveOutput, type CsfTempEntry } from '../../parsers/csf-output.js';
import { CPANEL_LAYOUT } from '../../hosts/types.js';
import { parseDuration } from '../../core/duration.js';
import { readHostFile } from '../files/host-read.js';
import { describeCommandFailure } from '../service/command-failure.js';
import { ActionError, defineAction, type ActionContext, type ActionPlan } from '../types.js';
import { cleanComment, csfPath, DENY_TARGET_PARAMS, denyHoldTarget, refuseProtected, requireTarget } from './csf-deny.js';
import { findInCsfList } from './csf-files.js';

/*
 * A temporary CSF deny (csf -td): csf lifts it by itself after its time to live, and the
 * change records that deadline so `runbook expire` (and a reader of the log) knows it too.
 */

const TempDenyParams = Type.Object(
  {
    ...DENY_TARGET_PARAMS,
    ttl: Type.String({ pattern: '^(?:\\d+(?:s|m|h|d))+$', description: 'How long the block lasts: 30m, 4h, 1d (at least 2s; csf counts seconds)' }),
    direction: Type.Optional(Type.Union([Type.Literal('in'), Type.Literal('out'), Type.Literal('inout')], { default: 'in', description: 'Traffic blocked: from the address (in), to it (out) or both' })),
    comment: Type.Optional(Type.String({ maxLength: 400, description: "Kept in csf's temporary list next to the IP" })),
  },
  { additionalProperties: false },
);
type TempDenyParams = Static<typeof TempDenyParams>;

const RemoveParams = Type.Object({ ip: Type.String({ minLength: 2, maxLength: 64 }) }, { additionalProperties: false });

/** csf's temporary ban list (`/var/lib/csf/csf.tempban`), under the same root as the host's CSF directory. */
function tempBanPath(ctx: ActionContext): string {
  const dir = ctx.host.layout.csfDir.replace(/\/+$/, '');
  const root = dir.endsWith(CPANEL_LAYOUT.csfDir) ? dir.slice(0, -CPANEL_LAYOUT.csfDir.length) : '';
  return `${root}/var/lib/csf/csf.tempban`;
}

/** The live (not yet lapsed) temporary bans of `ip`, as csf lists them. */
async function liveTempBans(ctx: ActionContext, ip: string, nowSeconds: number): Promise<CsfTempEntry[]> {
  const text = await readHostFile(ctx, tempBanPath(ctx));
  return text === null ? [] : parseCsfTempList(text).filter((e) => e.ip === ip && e.epoch + e.ttl > nowSeconds);
}

/** A TTL in whole seconds as csf takes it; csf would turn anything under 2 s into an hour. */
export function ttlSeconds(text: string): number {
  const ms = parseDuration(text);
  const seconds = ms === undefined ? 0 : Math.floor(ms / 1000);
  if (seconds < 2) throw new ActionError(`ttl "${text}" is too short for a temporary deny (csf would make it an hour); give 2s or more, e.g. 4h.`);
  return seconds;
}

/** A comment cannot start with a dash: csf would read it as another -p/-d option. */
function tempComment(comment: string | undefined): string | undefined {
  const clean = cleanComment(comment)?.replace(/^-+\s*/, '');
  return clean === undefined || clean === '' ? undefined : clean;
}

interface TempDenyPlanData {
  ip: string;
  seconds: number;
  comment?: string;
}

export const csfTempDeny = defineAction({
  name: 'csf.temp_deny',
  description: 'Block an IP for a time in ConfigServer Firewall (csf -td IP TTL), with the same refusals as a permanent deny; csf lifts it at the deadline',
  mutates: true,
  reversible: true,
  example: '--with ip=203.0.113.7 --with ttl=4h --with comment="spam source"',
  params: TempDenyParams,
  outputs: {
    ip: 'the address',
    blocked: 'the address is blocked now',
    ttl_seconds: 'how long the block lasts',
    until: 'when csf lifts it (ISO 8601)',
    already: 'permanent or temporary block already in place',
  },
  async plan(ctx, params: TempDenyParams): Promise<ActionPlan<TempDenyPlanData>> {
    const target = requireTarget(params.ip);
    const seconds = ttlSeconds(params.ttl);
    await refuseProtected(ctx, target, params);
    const permanent = await findInCsfList(ctx, csfPath(ctx, 'csf.deny'), target.ip);
    if (permanent !== undefined) {
      return { summary: `${target.text} is already blocked for good in csf.deny (${permanent.entry.address}, line ${permanent.entry.line})`, commands: [], noop: true, data: { ip: target.text, seconds }, facts: { already: 'permanent' } };
    }
    const live = await liveTempBans(ctx, target.text, Math.floor(Date.now() / 1000));
    if (live.length > 0) {
      const until = new Date((live[0]!.epoch + live[0]!.ttl) * 1000).toISOString();
      return { summary: `${target.text} is already blocked for a time (until ${until})`, commands: [], noop: true, data: { ip: target.text, seconds }, facts: { already: 'temporary', until } };
    }
    const comment = tempComment(params.comment);
    // Port, direction and comment travel in one argv element: the cPanel fork of csf reads only
    // three arguments after -td, the original re-splits them (reference 6.2).
    const rest = [`-d ${params.direction ?? 'in'}`, ...(comment !== undefined ? [comment] : [])].join(' ');
    const argv = [ctx.host.tools.csf, '-td', target.text, String(seconds), rest];
    return {
      summary: `csf -td ${target.text} for ${params.ttl} (${seconds} s)${comment !== undefined ? ` "${comment}"` : ''}`,
      commands: [{ argv, timeoutMs: 120_000 }],
      data: { ip: target.text, seconds, ...(comment !== undefined ? { comment } : {}) },
      facts: { ip: target.text, ttl_seconds: seconds },
    };
  },
  async run(ctx, _params, plan) {
    const data = plan.data!;
    if (plan.noop === true || plan.commands.length === 0) {
      return { changed: false, outputs: { ip: data.ip, blocked: true, ttl_seconds: data.seconds, until: null, already: true }, summary: plan.summary };
    }
    const result = await ctx.exec(plan.commands[0]!);
    const startedAt = Date.now();
    const report = parseCsfTempDenyOutput(result.stdout);
    switch (report.outcome.kind) {
      case 'denied': {
        const seconds = report.outcome.seconds;
        const until = new Date(startedAt + seconds * 1000).toISOString();
        return {
          changed: true,
          outputs: { ip: data.ip, blocked: true, ttl_seconds: seconds, until, already: false },
          summary: `blocked ${data.ip} in csf for ${seconds} s (until ${until})`,
          changes: [{ kind: 'ip-temp-deny', ip: data.ip, ttlSeconds: seconds, until, ...(data.comment !== undefined ? { comment: data.comment } : {}) }],
          undo: [{ action: 'csf.remove_temp_deny', params: { ip: data.ip }, description: `lift the temporary block of ${data.ip} (csf -trd)` }],
        };
      }
      case 'already-permanent':
      case 'already-temporary':
        return { changed: false, outputs: { ip: data.ip, blocked: true, ttl_seconds: data.seconds, until: null, already: true }, summary: report.text };
      case 'own-address':
        throw new ActionError(`csf refused to block ${data.ip}: it is one of this server's addresses. Nothing was changed.`);
      case 'invalid':
        throw new ActionError(`csf refused ${data.ip} as not a valid public IP. Nothing was changed.`);
      case 'disabled':
        throw new ActionError(`csf is disabled on ${ctx.host.name} ("${report.text}"); enable it with csf -e, or block the IP another way.`);
      default:
        throw new ActionError(`csf -td ${data.ip} gave an answer runbook does not recognise; check csf -t by hand. ${describeCommandFailure(result)}`);
    }
  },
  counters: { ips_blocked_temporarily: 'IPs blocked for a time' },
  counts: (result) => ({ ips_blocked_temporarily: result.changes !== undefined && result.changes.length > 0 ? 1 : 0 }),
  hold: (params) => {
    const target = denyHoldTarget(params.ip);
    return target === undefined ? undefined : { target, held: true, timed: true };
  },
});

export const csfRemoveTempDeny = defineAction({
  name: 'csf.remove_temp_deny',
  description: 'Lift a temporary CSF block before its time (csf -trd); the undo of csf.temp_deny',
  mutates: true,
  reversible: true,
  params: RemoveParams,
  outputs: { ip: 'the address', removed: 'true when csf lifted a temporary block' },
  async plan(ctx, params): Promise<ActionPlan<{ ip: string; secondsLeft: number }>> {
    const target = requireTarget(params.ip);
    const now = Math.floor(Date.now() / 1000);
    const live = await liveTempBans(ctx, target.text, now);
    if (live.length === 0) return { summary: `${target.text} has no temporary block (lapsed or lifted)`, commands: [], noop: true, data: { ip: target.text, secondsLeft: 0 }, facts: { listed: false } };
    const secondsLeft = Math.max(...live.map((e) => e.epoch + e.ttl - now));
    return {
      summary: `csf -trd ${target.text} (${secondsLeft} s before csf would lift it)`,
      commands: [{ argv: [ctx.host.tools.csf, '-trd', target.text], timeoutMs: 120_000 }],
      data: { ip: target.text, secondsLeft },
      facts: { listed: true, seconds_left: secondsLeft },
    };
  },
  async run(ctx, _params, plan) {
    const { ip, secondsLeft } = plan.data!;
    if (plan.noop === true || plan.commands.length === 0) return { changed: false, outputs: { ip, removed: false }, summary: plan.summary };
    const result = await ctx.exec(plan.commands[0]!);
    const report = parseCsfTempRemoveOutput(result.stdout);
    switch (report.outcome) {
      case 'removed':
        return {
          changed: true,
          outputs: { ip, removed: true },
          summary: `lifted the temporary block of ${ip}`,
          changes: [{ kind: 'ip-temp-deny-removed', ip }],
          // Putting it back blocks it for the time it had left, so undo does not lengthen it.
          ...(secondsLeft >= 2 ? { undo: [{ action: 'csf.temp_deny', params: { ip, ttl: `${secondsLeft}s`, allow_private: true }, description: `block ${ip} again for the ${secondsLeft} s it had left` }] } : {}),
        };
      case 'not-found':
        return { changed: false, outputs: { ip, removed: false }, summary: `${ip} had no temporary block` };
      case 'disabled':
        throw new ActionError(`csf is disabled on ${ctx.host.name}; enable it with csf -e first.`);
      default:
        throw new ActionError(`csf -trd ${ip} gave an answer runbook does not recognise. ${describeCommandFailure(result)}`);
    }
  },
  hold: (params) => {
    const target = denyHoldTarget(params.ip);
    return target === undefined ? undefined : { target, held: false, timed: false };
  },
});
