import { Type, type Static } from '@sinclair/typebox';
import { ActionError, defineAction, type ActionPlan } from '../types.js';
import { describeCommandFailure } from './command-failure.js';

const Service = Type.Union([Type.Literal('exim'), Type.Literal('imap'), Type.Literal('dovecot'), Type.Literal('pop3'), Type.Literal('lmtp')]);

const Params = Type.Object(
  {
    services: Type.Array(Service, { minItems: 1, maxItems: 5, uniqueItems: true, description: 'cPanel service names (restartsrv_<name>)' }),
    mode: Type.Optional(Type.Union([Type.Literal('restart'), Type.Literal('hard')], { default: 'restart' })),
  },
  { additionalProperties: false },
);

interface Outcome {
  service: string;
  ok: boolean;
  exitCode: number | null;
  message: string;
}

/** The tool's last meaningful line ("exim restarted successfully."), for the summary. */
function lastLine(text: string): string {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  return lines[lines.length - 1] ?? '';
}

export const serviceRestart = defineAction({
  name: 'service.restart',
  description: "Restart cPanel services with /scripts/restartsrv_<name> so live sessions of a compromised mailbox drop",
  mutates: true,
  reversible: false,
  params: Params,
  outputs: { restarted: 'services restarted', results: 'per service: ok, exit code, the tool\'s last line' },
  async plan(ctx, params: Static<typeof Params>): Promise<ActionPlan<{ services: string[] }>> {
    const dir = ctx.host.tools.restartsrvDir.replace(/\/+$/, '');
    const flag = params.mode === 'hard' ? ['--hard'] : [];
    return {
      summary: `${params.mode === 'hard' ? 'hard-' : ''}restart ${params.services.join(', ')}`,
      commands: params.services.map((s) => ({ argv: [`${dir}/restartsrv_${s}`, ...flag], timeoutMs: 300_000, okExitCodes: [0, 1, 2, 3, 4, 5, 255] })),
      data: { services: params.services },
    };
  },
  async run(ctx, _params, plan) {
    const services = plan.data?.services ?? [];
    const outcomes: Outcome[] = [];
    // Every service is attempted: a failed Exim restart must not keep IMAP sessions alive.
    for (const [i, command] of plan.commands.entries()) {
      const service = services[i] ?? command.argv[0] ?? '?';
      const result = await ctx.exec(command);
      const ok = result.exitCode === 0 && !result.timedOut;
      outcomes.push({ service, ok, exitCode: result.exitCode, message: ok ? lastLine(result.stdout) : describeCommandFailure(result) });
    }
    const failed = outcomes.filter((o) => !o.ok);
    if (failed.length > 0) {
      throw new ActionError(
        `could not restart ${failed.map((f) => f.service).join(', ')}: ${failed.map((f) => f.message).join(' | ')}. ` +
          `Check the service on the host (restartsrv_<name> --status) and restart it by hand.`,
        { results: outcomes },
      );
    }
    return {
      changed: true,
      outputs: { restarted: outcomes.map((o) => o.service), results: outcomes },
      summary: outcomes.map((o) => `${o.service}: ${o.message || 'restarted'}`).join('; '),
      changes: [{ kind: 'services-restarted', services: outcomes.map((o) => o.service) }],
    };
  },
  counters: { services_restarted: 'services restarted' },
  counts: (result) => ({ services_restarted: Array.isArray(result.outputs.restarted) ? result.outputs.restarted.length : 0 }),
});
