import { Type, type Static } from '@sinclair/typebox';
import { parseCsfDenyOutput, parseCsfRemoveOutput } from '../../parsers/csf-output.js';
import { describeCommandFailure } from '../service/command-failure.js';
import { ActionError, defineAction, type ActionContext, type ActionPlan } from '../types.js';
import { findInCsfList, readCsfListTree } from './csf-files.js';
import { coversIp, parseIp, sameAddress, specialRange, type ParsedIp } from './ip.js';
import { ownAddresses } from './own-addresses.js';
import { proxyRanges, proxyReason } from '../../investigate/proxies.js';

/** The parameters every deny shares: what to block and which refusals to lift. */
export const DENY_TARGET_PARAMS = {
  ip: Type.String({ minLength: 2, maxLength: 64, description: 'One IPv4 or IPv6 address, or a CIDR (IPv4 /16 or longer, IPv6 /32 or longer)' }),
  allow_private: Type.Optional(Type.Boolean({ default: false, description: 'Allow private, loopback, link-local and reserved addresses' })),
  force: Type.Optional(Type.Boolean({ default: false, description: "Block even a proxy/CDN edge (Cloudflare's published ranges or trusted_proxies): that cuts off every site behind it" })),
  trusted_proxies: Type.Optional(Type.Array(Type.String(), { description: 'your own proxies (addresses/CIDRs), refused like CDN edges' })),
};

const DenyParams = Type.Object(
  { ...DENY_TARGET_PARAMS, comment: Type.Optional(Type.String({ maxLength: 400, description: 'Written into csf.deny next to the IP' })) },
  { additionalProperties: false },
);
type DenyParams = Static<typeof DenyParams>;

const RemoveParams = Type.Object(
  { ip: Type.String({ minLength: 2, maxLength: 64 }) },
  { additionalProperties: false },
);

export function csfPath(ctx: ActionContext, name: string): string {
  return `${ctx.host.layout.csfDir.replace(/\/+$/, '')}/${name}`;
}

export interface DenyTarget {
  /** What csf is given: the address, or `base/prefix`. */
  text: string;
  /** The address, or the range's base address. */
  ip: ParsedIp;
  prefix: number | undefined;
}

const MIN_PREFIX = { ipv4: 16, ipv6: 32 } as const;

/** An address, or a CIDR no wider than MIN_PREFIX (a typo must not block a continent). */
export function requireTarget(text: string): DenyTarget {
  const [base, bits, extra] = text.trim().split('/');
  if (bits === undefined) {
    const ip = requireIp(text);
    return { text: ip.address, ip, prefix: undefined };
  }
  const ip = parseIp(base ?? '');
  const prefix = /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (ip === undefined || extra !== undefined || !(prefix >= MIN_PREFIX[ip.family] && prefix <= (ip.family === 'ipv4' ? 32 : 128))) {
    throw new ActionError(`"${text}" is not an address or a CIDR csf.deny takes here (IPv4 /${MIN_PREFIX.ipv4}-/32, IPv6 /${MIN_PREFIX.ipv6}-/128).`);
  }
  return { text: `${ip.address}/${prefix}`, ip, prefix };
}

/** The hold a deny names (`ip:45.33.12.7`), shared by permanent and temporary denies; undefined when invalid. */
export function denyHoldTarget(text: string): string | undefined {
  try {
    return `ip:${requireTarget(text).text}`;
  } catch {
    return undefined;
  }
}

/** Does the target (address or range) cover `other`, or `other` (an entry, maybe a range) cover it? */
function overlaps(target: DenyTarget, entry: string): boolean {
  if (coversIp(entry, target.ip)) return true;
  const entryIp = parseIp(entry.split('/')[0] ?? '');
  return target.prefix !== undefined && entryIp !== undefined && coversIp(target.text, entryIp);
}

function requireIp(text: string): ParsedIp {
  const ip = parseIp(text);
  if (ip === undefined) {
    throw new ActionError(`"${text}" is not a single IPv4 or IPv6 address; csf.deny takes one address per step (use foreach for several).`);
  }
  return ip;
}

/** Comments come from playbooks that quote spam data: one line, printable, bounded. */
export function cleanComment(comment: string | undefined): string | undefined {
  if (comment === undefined) return undefined;
  // eslint-disable-next-line no-control-regex
  const clean = comment.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
  return clean === '' ? undefined : clean;
}

/** What every deny (permanent or temporary) refuses to block. */
export interface ProtectionParams {
  allow_private?: boolean | undefined;
  force?: boolean | undefined;
  trusted_proxies?: string[] | undefined;
}

/**
 * Refuses a target that is not an attacker's public address: private and reserved ranges, a
 * proxy/CDN edge, the host's own addresses, and anything csf.allow or csf.ignore lists (csf's
 * own temporary deny checks none of the lists, so runbook checks them for both kinds).
 */
export async function refuseProtected(ctx: ActionContext, target: DenyTarget, params: ProtectionParams): Promise<void> {
  const ip = target.ip;
  if (params.allow_private !== true) {
    const special = specialRange(ip);
    // Simulated and lab hosts (the demo) use the documentation ranges for their "attackers";
    // they say so with a host variable, so real hosts keep refusing these addresses.
    const labHost = ctx.host.vars.allow_documentation_ips === true && special?.startsWith('documentation') === true;
    if (special !== undefined && !labHost) {
      throw new ActionError(`refusing to block ${ip.address}: it is in the ${special}, not an attacker's public address. Set allow_private: true if you really mean it.`);
    }
  }
  if (params.force !== true) {
    let ranges;
    try {
      ranges = proxyRanges(undefined, undefined, params.trusted_proxies ?? []);
    } catch (err) {
      throw new ActionError((err as Error).message);
    }
    const edge = proxyReason(ranges, ip.address) ?? [...ranges.cdn.entries, ...ranges.trusted.entries].find((e) => overlaps(target, e)) ?? null;
    if (edge !== null) {
      throw new ActionError(`refusing to block ${target.text}: it is a proxy/CDN edge (${edge}); every site behind it would be cut off, and the attacker is the client behind it. Set force: true if you really mean it.`);
    }
  }
  for (const own of await ownAddresses(ctx)) {
    if (target.prefix === undefined ? sameAddress(own, ip) : coversIp(target.text, own)) {
      throw new ActionError(`refusing to block ${target.text}: ${target.prefix === undefined ? 'it is' : `it covers ${own.address},`} one of ${ctx.host.name}'s own addresses.`);
    }
  }
  for (const list of ['csf.allow', 'csf.ignore'] as const) {
    const hit = (await readCsfListTree(ctx, csfPath(ctx, list))).find((h) => overlaps(target, h.entry.address));
    if (hit !== undefined) {
      throw new ActionError(
        `refusing to block ${target.text}: ${hit.file} line ${hit.entry.line} lists ${hit.entry.address}` +
          `${hit.entry.comment !== '' ? ` (${hit.entry.comment})` : ''}. Remove it from ${list} first if the block is intended.`,
      );
    }
  }
}

interface DenyPlanData {
  ip: string;
  already: boolean;
  comment?: string;
}

export const csfDeny = defineAction({
  name: 'csf.deny',
  description: 'Block an IP permanently in ConfigServer Firewall (csf -d), refusing allow-listed, ignored, own and private addresses',
  mutates: true,
  reversible: true,
  example: '--with ip=203.0.113.7 --with comment="spam source"',
  params: DenyParams,
  outputs: {
    ip: 'the address',
    blocked: 'the address is blocked now (false in TESTING mode, where csf only writes csf.deny)',
    already: 'the address was already in csf.deny',
    testing: 'csf is in TESTING mode: csf.deny was written but nothing is dropped',
    rotated: 'entries DENY_IP_LIMIT removed from csf.deny to make room',
  },
  async plan(ctx, params: DenyParams): Promise<ActionPlan<DenyPlanData>> {
    const target = requireTarget(params.ip);
    const ip = target.ip;
    await refuseProtected(ctx, target, params);
    const denied = await findInCsfList(ctx, csfPath(ctx, 'csf.deny'), ip);
    const comment = cleanComment(params.comment);
    const argv = [ctx.host.tools.csf, '-d', target.text, ...(comment !== undefined ? [comment] : [])];
    if (denied !== undefined && (target.prefix === undefined || denied.entry.address.includes('/'))) {
      return {
        summary: `${target.text} is already blocked in csf.deny (${denied.entry.address}, line ${denied.entry.line})`,
        commands: [],
        noop: true,
        data: { ip: target.text, already: true },
        facts: { ip: target.text, already: true, entry: denied.entry.address },
      };
    }
    return {
      summary: `csf -d ${target.text}${comment !== undefined ? ` "${comment}"` : ''}`,
      commands: [{ argv, timeoutMs: 120_000 }],
      data: { ip: target.text, already: false, ...(comment !== undefined ? { comment } : {}) },
      facts: { ip: target.text, already: false },
    };
  },
  async run(ctx, params, plan) {
    const data = plan.data!;
    if (plan.noop === true || plan.commands.length === 0) {
      return { changed: false, outputs: { ip: data.ip, blocked: true, already: true, testing: false, rotated: [] }, summary: plan.summary };
    }
    const command = plan.commands[0]!;
    const result = await ctx.exec(command);
    const report = parseCsfDenyOutput(result.stdout);
    const base = { ip: data.ip, testing: report.testing, rotated: report.rotated };
    const warnings: string[] = [];
    if (report.testing) warnings.push('csf is in TESTING mode: the IP is in csf.deny but no iptables DROP rule was added; set TESTING = "0" in csf.conf and run csf -r.');
    if (report.rotated.length > 0) {
      warnings.push(`DENY_IP_LIMIT (${String(report.denyLimit ?? '?')}) rotated ${report.rotated.length} older entr${report.rotated.length === 1 ? 'y' : 'ies'} out of csf.deny: ${report.rotated.join(', ')}`);
    }
    for (const w of warnings) await ctx.note(w, { ip: data.ip });
    switch (report.outcome.kind) {
      case 'denied':
        return {
          changed: true,
          outputs: { ...base, blocked: !report.testing, already: false, warnings },
          summary: `blocked ${data.ip} in csf${report.testing ? ' (TESTING mode: csf.deny only)' : ''}`,
          changes: [{ kind: 'ip-deny', ip: data.ip, ...(data.comment !== undefined ? { comment: data.comment } : {}) }],
          undo: [{ action: 'csf.remove_deny', params: { ip: data.ip }, description: `unblock ${data.ip} (csf -dr)` }],
          ...(report.rotated.length > 0 ? { irreversible: [`csf rotated out of csf.deny: ${report.rotated.join(', ')}`] } : {}),
        };
      case 'already':
        return { changed: false, outputs: { ...base, blocked: !report.testing, already: true, warnings }, summary: `${data.ip} was already in csf.deny` };
      case 'in-allow':
      case 'in-ignore':
        throw new ActionError(`csf refused to block ${data.ip}: ${report.text}. Nothing was changed.`);
      case 'own-address':
        throw new ActionError(`csf refused to block ${data.ip}: it is one of this server's addresses. Nothing was changed.`);
      case 'invalid':
        throw new ActionError(`csf refused ${data.ip} as not a valid public IP. Nothing was changed.`);
      case 'disabled':
        throw new ActionError(`csf is disabled on ${ctx.host.name} ("${report.text}"); enable it with csf -e, or block the IP another way.`);
      default:
        throw new ActionError(`csf -d ${data.ip} gave an answer runbook does not recognise; check csf.deny by hand. ${describeCommandFailure(result)}`);
    }
  },
  counters: { ips_blocked: 'IPs blocked' },
  counts: (result) => ({ ips_blocked: result.outputs.blocked === true ? 1 : 0 }),
  // A permanent block of an address confirms a temporary one: expiry leaves it alone.
  hold: (params) => {
    const target = denyHoldTarget(params.ip);
    return target === undefined ? undefined : { target, held: true, timed: false };
  },
});

export const csfRemoveDeny = defineAction({
  name: 'csf.remove_deny',
  description: 'Unblock an IP that csf.deny lists (csf -dr); the undo of csf.deny',
  mutates: true,
  reversible: true,
  params: RemoveParams,
  outputs: { ip: 'the address', removed: 'true when csf removed a rule' },
  async plan(ctx, params): Promise<ActionPlan<{ ip: string }>> {
    const target = requireTarget(params.ip);
    const ip = target.ip;
    const denied = await findInCsfList(ctx, csfPath(ctx, 'csf.deny'), ip);
    if (denied === undefined) {
      return { summary: `${target.text} is not in csf.deny`, commands: [], noop: true, data: { ip: target.text }, facts: { listed: false } };
    }
    if (denied.entry.address !== target.text && denied.entry.address.includes('/')) {
      throw new ActionError(`${target.text} is blocked by the range ${denied.entry.address} (line ${denied.entry.line}), not by its own entry; csf -dr ${target.text} would not lift it. Edit the range by hand.`);
    }
    return {
      summary: `csf -dr ${target.text}`,
      commands: [{ argv: [ctx.host.tools.csf, '-dr', target.text], timeoutMs: 120_000 }],
      data: { ip: target.text },
      facts: { listed: true, line: denied.entry.line },
    };
  },
  async run(ctx, _params, plan) {
    const { ip } = plan.data!;
    if (plan.noop === true || plan.commands.length === 0) return { changed: false, outputs: { ip, removed: false }, summary: plan.summary };
    const result = await ctx.exec(plan.commands[0]!);
    const report = parseCsfRemoveOutput(result.stdout);
    switch (report.outcome.kind) {
      case 'removed':
        return {
          changed: true,
          outputs: { ip, removed: true },
          summary: `unblocked ${ip}`,
          changes: [{ kind: 'ip-deny-removed', ip }],
          undo: [{ action: 'csf.deny', params: { ip, allow_private: true }, description: `block ${ip} again` }],
        };
      case 'not-found':
        return { changed: false, outputs: { ip, removed: false }, summary: `${ip} was not in csf.deny` };
      case 'do-not-delete':
        throw new ActionError(`csf did not remove ${ip}: its csf.deny entry is marked "do not delete". Edit csf.deny by hand if it must go.`);
      case 'disabled':
        throw new ActionError(`csf is disabled on ${ctx.host.name}; enable it with csf -e first.`);
      default:
        throw new ActionError(`csf -dr ${ip} gave an answer runbook does not recognise. ${describeCommandFailure(result)}`);
    }
  },
});
