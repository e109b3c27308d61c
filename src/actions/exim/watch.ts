import { setTimeout as sleep } from 'node:timers/promises';
import { Type, type Static } from '@sinclair/typebox';
import { DURATION_PATTERN, formatDuration, parseDuration } from '../../core/duration.js';
import { parseQueueCount } from '../../parsers/exim-bp.js';
import { describeCommandFailure } from '../service/command-failure.js';
import { ActionError, defineAction, type ActionContext } from '../types.js';
import { listQueue, requireSender } from './purge.js';

const Params = Type.Object(
  {
    sender: Type.String({ minLength: 3, maxLength: 320, description: 'Envelope sender to watch (exact, case-insensitive)' }),
    senders: Type.Optional(Type.Array(Type.String({ minLength: 3, maxLength: 320 }), { maxItems: 50, description: 'More senders to watch in the same samples (every flagged source of the incident)' })),
    for: Type.Optional(Type.String({ pattern: DURATION_PATTERN, default: '5m', description: 'How long to watch' })),
    interval: Type.Optional(Type.String({ pattern: DURATION_PATTERN, default: '15s', description: 'Time between samples' })),
    max_new: Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'New messages from the sender tolerated during the watch' })),
  },
  { additionalProperties: false },
);
type WatchParams = Static<typeof Params>;

export interface QueueSample {
  at: string;
  queue_total: number;
  sender_queued: number;
  /** Messages from the sender first seen in this sample. */
  new: number;
}

function durationMs(text: string | undefined, fallback: string, what: string): number {
  const ms = parseDuration(text ?? fallback);
  if (ms === undefined) throw new ActionError(`${what} "${text ?? ''}" is not a duration like 30s, 5m or 1h.`);
  return ms;
}

/** Whole seconds as m:ss, for a watch that shows how long it has run and has to go. */
export function clock(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

async function queueCount(ctx: ActionContext): Promise<number> {
  const result = await ctx.exec({ argv: [ctx.host.tools.exim, '-bpc'], timeoutMs: 120_000 });
  const count = parseQueueCount(result.stdout);
  if (result.exitCode !== 0 || !count.ok) throw new ActionError(`cannot count the Exim queue: ${describeCommandFailure(result)}`);
  return count.count;
}

export const queueWatch = defineAction({
  name: 'exim.queue.watch',
  description: 'Watch the Exim queue for a while and fail if new messages from the sender keep arriving',
  mutates: false,
  // Only meaningful after the containment steps before it have run.
  dryRun: 'plan',
  params: Params,
  outputs: { samples: 'queue size, sender count and new messages per sample', new_total: 'new messages from the sender seen during the watch' },
  describe(params: WatchParams) {
    const who = [...new Set([params.sender, ...(params.senders ?? [])])].join(', ');
    return `watch the queue for ${params.for ?? '5m'} (every ${params.interval ?? '15s'}); fail if more than ${params.max_new ?? 0} new messages from ${who} arrive`;
  },
  async run(ctx, params: WatchParams) {
    const sender = requireSender(params.sender);
    const watched = new Set([sender, ...(params.senders ?? []).map((s) => requireSender(s))]);
    const who = [...watched].join(', ');
    const total = durationMs(params.for, '5m', 'for');
    const interval = Math.max(1, durationMs(params.interval, '15s', 'interval'));
    const maxNew = params.max_new ?? 0;
    const seen = new Set<string>();
    const samples: QueueSample[] = [];
    let newTotal = 0;
    const started = Date.now();
    for (let n = 0; ; n += 1) {
      const queueTotal = await queueCount(ctx);
      const mine = (await listQueue(ctx)).filter((m) => !m.bounce && watched.has(m.sender.toLowerCase()));
      let fresh = 0;
      for (const m of mine) {
        if (seen.has(m.id)) continue;
        seen.add(m.id);
        // The first sample is the baseline: what was already queued is not "new".
        if (n > 0) fresh += 1;
      }
      newTotal += fresh;
      samples.push({ at: new Date().toISOString(), queue_total: queueTotal, sender_queued: mine.length, new: fresh });
      const soFar = Date.now() - started;
      ctx.progress(`queue ${queueTotal}, from ${who}: ${mine.length} (${newTotal} new); ${clock(soFar)} of ${clock(total)}, ${clock(Math.max(0, total - Math.floor(soFar / 1000) * 1000))} left`);
      if (newTotal > maxNew) {
        throw new ActionError(
          `${newTotal} new messages from ${who} arrived within ${formatDuration(Date.now() - started)} (allowed ${maxNew}): the spam has not stopped. ` +
            `Look for another path (a script, another mailbox, a live session) and contain it.`,
          { samples, new_total: newTotal },
        );
      }
      const elapsed = Date.now() - started;
      // At least one sample after the baseline, even when the baseline took the whole time:
      // "nothing new" needs something to compare with.
      if (elapsed >= total && n > 0) break;
      try {
        await sleep(Math.max(0, Math.min(interval, total - elapsed)), undefined, { signal: ctx.signal });
      } catch {
        throw new ActionError(`queue watch interrupted after ${formatDuration(Date.now() - started)}.`, { samples });
      }
    }
    const last = samples[samples.length - 1];
    return {
      changed: false,
      outputs: { sender, senders: [...watched], samples, new_total: newTotal, sender_queued: last?.sender_queued ?? 0, queue_total: last?.queue_total ?? 0 },
      summary: `no new messages from ${who} for ${formatDuration(total)} (${samples.length} samples; ${newTotal} new, allowed ${maxNew})`,
    };
  },
});
