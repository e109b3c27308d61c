import { Type, type Static } from '@sinclair/typebox';
import { parseUapiEnvelope } from '../../parsers/cpanel-envelope.js';
import { describeCommandFailure } from '../service/command-failure.js';
import { ActionError, defineAction, type Action, type ActionContext, type ActionPlan } from '../types.js';
import { readHostFile } from '../files/host-read.js';
import { holdDeadline, holdLength, HoldForParam } from '../hold-deadline.js';
import { apiErrorText } from './api-error.js';
import { cpanelUserFor, parseMailbox, uapiArg, type Mailbox } from './mailbox.js';

const Email = Type.String({ minLength: 3, maxLength: 320, description: 'The mailbox' });
const Params = Type.Object({ email: Email, hold_for: HoldForParam }, { additionalProperties: false });
const ReleaseParams = Type.Object({ email: Email }, { additionalProperties: false });

type Restriction = 'outgoing' | 'login';

interface MailboxState {
  suspended: boolean;
}

function truthy(value: unknown): boolean {
  return value === 1 || value === '1' || value === true;
}

const DEFAULT_SEND_LIMITS_DIR = '/var/cpanel/email_send_limits';

/** suspensions.json: `{DOMAIN: {suspended: {LOCAL: time}, hold: {...}}}`. Pure. */
export function isOutgoingSuspended(json: string, box: Mailbox): boolean {
  let data: unknown;
  try {
    data = JSON.parse(json) as unknown;
  } catch {
    throw new ActionError(`cPanel's suspensions.json for ${box.email} is not valid JSON; check the file by hand.`);
  }
  if (typeof data !== 'object' || data === null) return false;
  const forDomain = (data as Record<string, unknown>)[box.domain];
  if (typeof forDomain !== 'object' || forDomain === null) return false;
  const suspended = (forDomain as Record<string, unknown>)['suspended'];
  if (typeof suspended !== 'object' || suspended === null) return false;
  return Object.keys(suspended).some((local) => local.toLowerCase() === box.local);
}

/**
 * Current restriction of a mailbox. Login: UAPI list_pops (suspended_login, which cPanel
 * derives from the `!` prefix in the shadow file). Outgoing: cPanel's own state file, the
 * record suspend_outgoing writes, since list_pops does not carry it.
 */
export async function probeRestriction(ctx: ActionContext, user: string, box: Mailbox, what: Restriction): Promise<MailboxState> {
  if (what === 'outgoing') {
    const dir = (ctx.host.layout.emailSendLimitsDir ?? DEFAULT_SEND_LIMITS_DIR).replace(/\/+$/, '');
    const text = await readHostFile(ctx, `${dir}/users/${user}/suspensions.json`);
    return { suspended: text === null ? false : isOutgoingSuspended(text, box) };
  }
  const argv = [ctx.host.tools.uapi, `--user=${user}`, '--output=json', 'Email', 'list_pops', 'skip_main=1'];
  const result = await ctx.exec({ argv, timeoutMs: 120_000, okExitCodes: [0, 1, 2, 255] });
  const outcome = parseUapiEnvelope(result.stdout);
  if (!outcome.ok) {
    throw new ActionError(`cannot read the state of ${box.email}: ${outcome.envelope ? apiErrorText(outcome) : describeCommandFailure(result)}`);
  }
  const rows = Array.isArray(outcome.data) ? (outcome.data as Array<Record<string, unknown>>) : [];
  const row = rows.find((r) => typeof r['email'] === 'string' && r['email'].toLowerCase() === box.email);
  if (row === undefined) {
    throw new ActionError(`account ${user} has no mailbox ${box.email} (cPanel: You do not have an email account named “${box.email}”). Check the address.`);
  }
  return { suspended: truthy(row['suspended_login']) };
}

interface PlanData {
  email: string;
  user: string;
  holdFor?: string;
}

/** The hold a step names: `mailbox-outgoing:a@b.test`; undefined for an address runbook refuses. */
function mailboxTarget(what: Restriction, email: string): string | undefined {
  try {
    return `mailbox-${what}:${parseMailbox(email).email}`;
  } catch {
    return undefined;
  }
}

function restrictionAction(what: Restriction, suspend: boolean): Action<typeof Params> {
  const fn = `${suspend ? 'suspend' : 'unsuspend'}_${what}`;
  const name = `cpanel.email.${fn}`;
  const inverse = `cpanel.email.${suspend ? 'unsuspend' : 'suspend'}_${what}`;
  const meaning = what === 'outgoing' ? 'sending mail' : 'logging in (IMAP/POP/SMTP AUTH/webmail)';
  return defineAction({
    name,
    description: `${suspend ? 'Stop' : 'Allow again'} a mailbox ${meaning} (UAPI Email::${fn})`,
    mutates: true,
    reversible: true,
    // A release takes no hold_for: its schema refuses one, its code reads none.
    params: (suspend ? Params : ReleaseParams) as typeof Params,
    outputs: { email: 'the mailbox', user: 'its cPanel account', suspended: `whether ${what} is suspended now`, ...(suspend ? { until: 'when runbook expire lifts it (ISO 8601), or null' } : {}) },
    async plan(ctx, params: Static<typeof Params>): Promise<ActionPlan<PlanData>> {
      const box = parseMailbox(params.email);
      const holdFor = suspend ? params.hold_for : undefined;
      holdLength(holdFor);
      const user = await cpanelUserFor(ctx, box.domain);
      const state = await probeRestriction(ctx, user, box, what);
      const data: PlanData = { email: box.email, user, ...(holdFor !== undefined ? { holdFor } : {}) };
      if (state.suspended === suspend) {
        return {
          summary: `${box.email}: ${what} already ${suspend ? 'suspended' : 'allowed'}`,
          commands: [],
          noop: true,
          data,
          facts: { suspended: state.suspended },
        };
      }
      const argv = [ctx.host.tools.uapi, `--user=${user}`, '--output=json', 'Email', fn, uapiArg('email', box.email)];
      return {
        summary: `${fn.replace('_', ' ')} for ${box.email} (account ${user})${holdFor !== undefined ? ` for ${holdFor}` : ''}`,
        commands: [{ argv, timeoutMs: 120_000, okExitCodes: [0, 1, 2, 255] }],
        // The deadline is part of what is approved: a hold for 4h is not a hold for good.
        ...(holdFor !== undefined ? { hashed: { argv, hold_for: holdFor } } : {}),
        data,
        facts: { suspended: state.suspended },
      };
    },
    async run(ctx, _params, plan) {
      const data = plan.data!;
      if (plan.noop === true || plan.commands.length === 0) {
        return { changed: false, outputs: { email: data.email, user: data.user, suspended: suspend }, summary: plan.summary };
      }
      const result = await ctx.exec(plan.commands[0]!);
      const outcome = parseUapiEnvelope(result.stdout);
      if (!outcome.ok) {
        const why = outcome.envelope ? apiErrorText(outcome) : describeCommandFailure(result);
        throw new ActionError(`cPanel did not ${fn.replace('_', ' ')} for ${data.email}: ${why}`);
      }
      const until = holdDeadline(data.holdFor);
      return {
        changed: true,
        outputs: { email: data.email, user: data.user, suspended: suspend, ...(suspend ? { until: until ?? null } : {}) },
        summary: `${data.email}: ${what} ${suspend ? 'suspended' : 'allowed again'}${until !== undefined ? ` until ${until}` : ''}`,
        changes: [{ kind: 'mailbox-suspension', mailbox: data.email, scope: what, suspended: suspend, ...(until !== undefined ? { until } : {}) }],
        undo: [{ action: inverse, params: { email: data.email }, description: `${suspend ? 'allow' : 'suspend'} ${what} for ${data.email} again` }],
      };
    },
    hold: (params) => {
      const target = mailboxTarget(what, params.email);
      return target === undefined ? undefined : { target, held: suspend, timed: suspend && params.hold_for !== undefined };
    },
    ...(suspend
      ? { counters: { [`mailboxes_${what}_suspended`]: `mailboxes with ${what} suspended` }, counts: () => ({ [`mailboxes_${what}_suspended`]: 1 }) }
      : {}),
  });
}

export const suspendOutgoing = restrictionAction('outgoing', true);
export const unsuspendOutgoing = restrictionAction('outgoing', false);
export const suspendLogin = restrictionAction('login', true);
export const unsuspendLogin = restrictionAction('login', false);
