import { Type, type Static } from '@sinclair/typebox';
import { Secret } from '../../core/secret.js';
import { parseUapiCpanelEnvelope } from '../../parsers/cpanel-envelope.js';
import { describeCommandFailure } from '../service/command-failure.js';
import { ActionError, defineAction, type ActionPlan } from '../types.js';
import { apiErrorText } from './api-error.js';
import { cpanelUserFor, parseMailbox } from './mailbox.js';
import { generatePassword } from './password.js';

const Params = Type.Object(
  { email: Type.String({ minLength: 3, maxLength: 320, description: 'The mailbox whose password is replaced' }) },
  { additionalProperties: false },
);

interface PlanData {
  email: string;
  domain: string;
  user: string;
}

export const resetPassword = defineAction({
  name: 'cpanel.email.reset_password',
  description: 'Replace a mailbox password with a generated one (WHM uapi_cpanel → Email::passwd_pop, password on stdin) and hand it to the operator once',
  mutates: true,
  reversible: false,
  params: Params,
  outputs: { email: 'the mailbox', user: 'its cPanel account', delivered_to: 'where the new password was handed over' },
  async plan(ctx, params: Static<typeof Params>): Promise<ActionPlan<PlanData>> {
    const box = parseMailbox(params.email);
    const user = await cpanelUserFor(ctx, box.domain);
    const argv = [ctx.host.tools.whmapi1, '--input=json', '--output=json', 'uapi_cpanel'];
    return {
      summary: `reset the password of ${box.email} (account ${user}); the new one is generated at run time, sent on stdin and shown to you once`,
      // The run adds the JSON body (with the password) on stdin; argv is exactly this.
      commands: [{ argv, timeoutMs: 120_000 }],
      data: { email: box.email, domain: box.domain, user },
      facts: { email: box.email, user },
    };
  },
  async run(ctx, _params, plan) {
    const data = plan.data!;
    const command = plan.commands[0]!;
    const password = generatePassword();
    const body = new Secret(
      JSON.stringify({
        'cpanel.user': data.user,
        'cpanel.module': 'Email',
        'cpanel.function': 'passwd_pop',
        email: data.email,
        password: password.reveal(),
        domain: data.domain,
      }),
    );
    const result = await ctx.exec({ ...command, stdin: body });
    const outcome = parseUapiCpanelEnvelope(result.stdout);
    if (!outcome.envelope) {
      // We cannot tell whether cPanel stored the new password: hand it over so nobody is locked out.
      const deliveredTo = await ctx.deliverSecret(`possible new password for ${data.email} on ${ctx.host.name}`, password);
      throw new ActionError(
        `resetting ${data.email} gave no cPanel answer, so the password may or may not have changed (a candidate was handed over: ${deliveredTo}). ` +
          `Check with 'uapi --user=${data.user} Email list_pops' and reset by hand if needed. ${describeCommandFailure(result)}`,
      );
    }
    if (!outcome.ok) {
      throw new ActionError(`cPanel refused to reset the password of ${data.email}: ${apiErrorText(outcome)}. The old password is still in place.`);
    }
    const deliveredTo = await ctx.deliverSecret(`new password for ${data.email} on ${ctx.host.name}`, password);
    return {
      changed: true,
      outputs: { email: data.email, user: data.user, delivered_to: deliveredTo },
      summary: `password of ${data.email} replaced (handed over: ${deliveredTo})`,
      changes: [{ kind: 'password-reset', mailbox: data.email }],
      irreversible: [`the old password of ${data.email} is gone; it cannot be restored (set a new one with the mailbox owner)`],
    };
  },
  counters: { passwords_reset: 'passwords reset' },
  counts: () => ({ passwords_reset: 1 }),
});
