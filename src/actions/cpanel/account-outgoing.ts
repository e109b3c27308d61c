import { Type, type Static } from '@sinclair/typebox';
import { parseWhmEnvelope } from '../../parsers/cpanel-envelope.js';
import { describeCommandFailure } from '../service/command-failure.js';
import { readHostFile } from '../files/host-read.js';
import { ActionError, defineAction, type Action, type ActionContext, type ActionPlan } from '../types.js';
import { holdDeadline, holdLength, HoldForParam } from '../hold-deadline.js';
import { apiErrorText } from './api-error.js';

/*
 * A cPanel account (not one mailbox) whose own login sends spam: its AUTH id is the account
 * name. WHM's suspend_outgoing_email stops the whole account's outgoing mail; a mailbox's
 * password reset (Email::passwd_pop) does not apply to it.
 */

const User = Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z0-9][a-z0-9_.-]*$', description: 'The cPanel account name' });
const Params = Type.Object({ user: User, hold_for: HoldForParam }, { additionalProperties: false });
const ReleaseParams = Type.Object({ user: User }, { additionalProperties: false });

const DEFAULT_SEND_LIMITS_DIR = '/var/cpanel/email_send_limits';

/** The list WHM keeps of suspended accounts (`/etc/outgoing_mail_suspended_users`), under the host's layout root. */
function suspendedListPath(ctx: ActionContext): string {
  const dir = (ctx.host.layout.emailSendLimitsDir ?? DEFAULT_SEND_LIMITS_DIR).replace(/\/+$/, '');
  const root = dir.endsWith(DEFAULT_SEND_LIMITS_DIR) ? dir.slice(0, -DEFAULT_SEND_LIMITS_DIR.length) : '';
  return `${root}/etc/outgoing_mail_suspended_users`;
}

/** Whether `user` is a line of the suspended-accounts list. Pure. */
export function listsUser(text: string, user: string): boolean {
  return text.split('\n').some((l) => l.trim() === user);
}

function accountOutgoingAction(suspend: boolean): Action<typeof Params> {
  const fn = `${suspend ? 'suspend' : 'unsuspend'}_outgoing_email`;
  const name = `cpanel.account.${suspend ? 'suspend' : 'unsuspend'}_outgoing`;
  const inverse = `cpanel.account.${suspend ? 'unsuspend' : 'suspend'}_outgoing`;
  return defineAction({
    name,
    description: `${suspend ? 'Stop' : 'Allow again'} all outgoing mail of a cPanel account (WHM ${fn})`,
    mutates: true,
    reversible: true,
    // A release takes no hold_for: its schema refuses one, its code reads none.
    params: (suspend ? Params : ReleaseParams) as typeof Params,
    outputs: { user: 'the account', suspended: 'whether its outgoing mail is suspended now', ...(suspend ? { until: 'when runbook expire lifts it (ISO 8601), or null' } : {}) },
    async plan(ctx, params: Static<typeof Params>): Promise<ActionPlan<{ user: string; holdFor?: string }>> {
      const holdFor = suspend ? params.hold_for : undefined;
      holdLength(holdFor);
      const data = { user: params.user, ...(holdFor !== undefined ? { holdFor } : {}) };
      const text = await readHostFile(ctx, suspendedListPath(ctx));
      const already = text !== null && listsUser(text, params.user);
      if (already === suspend) {
        return { summary: `account ${params.user}: outgoing mail already ${suspend ? 'suspended' : 'allowed'}`, commands: [], noop: true, data, facts: { suspended: already } };
      }
      const argv = [ctx.host.tools.whmapi1, '--output=json', fn, `user=${params.user}`];
      return {
        summary: `${fn.replace(/_/g, ' ')} for account ${params.user}${holdFor !== undefined ? ` for ${holdFor}` : ''}`,
        commands: [{ argv, timeoutMs: 120_000, okExitCodes: [0, 1, 2, 255] }],
        // The deadline is part of what is approved: a hold for 4h is not a hold for good.
        ...(holdFor !== undefined ? { hashed: { argv, hold_for: holdFor } } : {}),
        data,
        facts: { suspended: already },
      };
    },
    async run(ctx, _params, plan) {
      const { user, holdFor } = plan.data!;
      if (plan.noop === true || plan.commands.length === 0) return { changed: false, outputs: { user, suspended: suspend }, summary: plan.summary };
      const result = await ctx.exec(plan.commands[0]!);
      const outcome = parseWhmEnvelope(result.stdout);
      if (!outcome.ok) throw new ActionError(`WHM did not ${fn.replace(/_/g, ' ')} for ${user}: ${outcome.envelope ? apiErrorText(outcome) : describeCommandFailure(result)}`);
      const until = holdDeadline(holdFor);
      return {
        changed: true,
        outputs: { user, suspended: suspend, ...(suspend ? { until: until ?? null } : {}) },
        summary: `account ${user}: outgoing mail ${suspend ? 'suspended' : 'allowed again'}${until !== undefined ? ` until ${until}` : ''}`,
        changes: [{ kind: 'account-outgoing', account: user, suspended: suspend, ...(until !== undefined ? { until } : {}) }],
        undo: [{ action: inverse, params: { user }, description: `${suspend ? 'allow' : 'suspend'} outgoing mail of ${user} again` }],
      };
    },
    hold: (params) => ({ target: `account-outgoing:${params.user}`, held: suspend, timed: suspend && params.hold_for !== undefined }),
    ...(suspend ? { counters: { accounts_outgoing_suspended: 'accounts with outgoing mail suspended' }, counts: () => ({ accounts_outgoing_suspended: 1 }) } : {}),
  });
}

export const suspendAccountOutgoing = accountOutgoingAction(true);
export const unsuspendAccountOutgoing = accountOutgoingAction(false);
