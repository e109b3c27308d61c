import { Type, type Static } from '@sinclair/typebox';
import { isEximId } from '../../parsers/exim-id.js';
import { describeCommandFailure } from '../service/command-failure.js';
import { holdDeadline, HoldForParam, holdLength } from '../hold-deadline.js';
import { ActionError, defineAction, type Action, type ActionContext, type ActionPlan, type ActionResult, type HoldEffect } from '../types.js';
import { listQueue, requireAuthId, requireSender, selectMessages, spoolInfo, type SpoolInfo } from './purge.js';

/*
 * Freeze a sender's queued messages (exim -Mf) so nothing more of them is delivered while a
 * human looks, and thaw them again (exim -Mt). A freeze records exactly the IDs it froze, so its
 * undo thaws those and never a message Exim froze for its own reasons. With `hold_for` the
 * freeze is a hold with a deadline: `runbook expire` runs that undo once it has passed, unless a
 * later run confirmed it (the watcher's containment freezes so, beside its mailbox hold).
 */

const Params = Type.Object(
  {
    sender: Type.Optional(Type.String({ minLength: 3, maxLength: 320, description: 'Envelope sender whose queued messages are affected; matched exactly, case-insensitively' })),
    auth_id: Type.Optional(Type.String({ minLength: 1, maxLength: 320, description: 'Also (or only) messages that arrived over SMTP AUTH as this id' })),
    ids: Type.Optional(Type.Array(Type.String({ pattern: '^[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}$' }), { maxItems: 1_000_000, description: 'Exactly these message IDs (what an undo names)' })),
    max: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000, default: 5000, description: 'Refuse when more messages match' })),
    batch: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, default: 1000, description: 'IDs per exim call' })),
    hold_for: HoldForParam,
  },
  { additionalProperties: false },
);
type FreezeParams = Static<typeof Params>;

const DEFAULT_MAX = 5000;
const DEFAULT_BATCH = 1000;

export type FreezeStatus = 'changed' | 'already' | 'gone';

/** `exim -Mf`/`-Mt` stdout: what happened to each ID. Pure. */
export function parseFreezeOutput(stdout: string, ids: readonly string[], freeze: boolean): Map<string, FreezeStatus> {
  const status = new Map<string, FreezeStatus>(ids.map((id) => [id, 'gone']));
  const done = freeze ? /^Message (\S+) is now frozen$/ : /^Message (\S+) is no longer frozen$/;
  const already = freeze ? /^Message (\S+) is already frozen$/ : /^Message (\S+) is not frozen$/;
  for (const line of stdout.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = done.exec(line.trim())) !== null && status.has(m[1] ?? '')) status.set(m[1] ?? '', 'changed');
    else if ((m = already.exec(line.trim())) !== null && status.has(m[1] ?? '')) status.set(m[1] ?? '', 'already');
  }
  return status;
}

interface Who {
  sender: string | undefined;
  authId: string | undefined;
  ids: string[] | undefined;
}

function who(params: FreezeParams, verb: string): Who {
  const authId = requireAuthId(params.auth_id);
  const sender = params.sender === undefined ? undefined : requireSender(params.sender, verb);
  const ids = params.ids === undefined ? undefined : [...new Set(params.ids)];
  if (ids?.some((id) => !isEximId(id))) throw new ActionError(`ids holds something that is not an Exim message ID; nothing was changed.`);
  if (sender === undefined && authId === undefined && ids === undefined) throw new ActionError(`${verb} needs a sender, an auth_id or ids.`);
  return { sender, authId, ids };
}

function describeWho(w: Who): string {
  const parts = [w.sender, w.authId !== undefined ? `auth id ${w.authId}` : undefined, w.ids !== undefined ? `${w.ids.length} named messages` : undefined].filter((p) => p !== undefined);
  return parts.join(' or ');
}

interface PlanData extends Who {
  batch: number;
  holdFor?: string;
  /** The messages to freeze (or thaw): those matching, not yet in the wanted state. */
  targets: string[];
}

/** The queued messages a step names, with their frozen state, from one `exim -bpr`. */
async function select(ctx: ActionContext, w: Who): Promise<{ id: string; frozen: boolean }[]> {
  if (w.sender === undefined && w.authId === undefined) {
    const wanted = new Set(w.ids);
    return (await listQueue(ctx)).filter((m) => wanted.has(m.id)).map((m) => ({ id: m.id, frozen: m.frozen }));
  }
  let spool: SpoolInfo | undefined;
  const selection = await selectMessages(ctx, w.sender, w.authId, async () => (spool ??= await spoolInfo(ctx)));
  const named = new Set(w.ids ?? []);
  return selection.messages.filter((m) => w.ids === undefined || named.has(m.id)).map((m) => ({ id: m.id, frozen: m.frozen }));
}

/**
 * What a freeze holds, for expiry and undo: the queued mail of one sender or login. A thaw of
 * bare IDs says nothing about it (it is not known whose they were).
 */
function freezeTarget(params: FreezeParams): string | undefined {
  const parts = [params.sender !== undefined ? `sender=${params.sender.toLowerCase()}` : undefined, params.auth_id !== undefined ? `auth=${params.auth_id}` : undefined].filter((p) => p !== undefined);
  return parts.length === 0 ? undefined : `queued-mail:${parts.join(',')}`;
}

function freezeAction(freeze: boolean): Action<typeof Params> {
  const verb = freeze ? 'freeze' : 'thaw';
  const flag = freeze ? '-Mf' : '-Mt';
  const inverse = freeze ? 'exim.queue.thaw' : 'exim.queue.freeze';
  return defineAction({
    name: `exim.queue.${verb}`,
    description: freeze
      ? "Freeze one sender's (or AUTH id's) queued messages so none is delivered (exim -Mf); undo thaws exactly those"
      : 'Thaw frozen queued messages (exim -Mt) of a sender, an AUTH id or named IDs; the undo of exim.queue.freeze',
    mutates: true,
    reversible: true,
    ...(freeze ? { example: '--with sender=spammer@example.com' } : {}),
    params: Params,
    outputs: { matched: 'messages that matched', [freeze ? 'frozen' : 'thawed']: `messages ${freeze ? 'frozen' : 'thawed'} by this step`, ids: `their IDs` },
    async plan(ctx, params: FreezeParams): Promise<ActionPlan<PlanData>> {
      const w = who(params, verb);
      if (!freeze && params.hold_for !== undefined) throw new ActionError('a thaw takes no hold_for: it ends a hold.');
      holdLength(params.hold_for);
      const max = params.max ?? DEFAULT_MAX;
      const batch = params.batch ?? DEFAULT_BATCH;
      const matched = await select(ctx, w);
      const targets = matched.filter((m) => m.frozen !== freeze).map((m) => m.id);
      if (targets.length > max) throw new ActionError(`${targets.length} queued messages match ${describeWho(w)}, more than max ${max}; nothing was changed. Raise max if that is right.`);
      const data: PlanData = { ...w, batch, targets, ...(params.hold_for !== undefined ? { holdFor: params.hold_for } : {}) };
      const facts = { matched: matched.length, already: matched.length - targets.length, sample_ids: targets.slice(0, 5) };
      const hashed = { verb, sender: w.sender ?? null, auth_id: w.authId ?? null, ids: w.ids ?? null, max, ...(params.hold_for !== undefined ? { hold_for: params.hold_for } : {}) };
      if (targets.length === 0) return { summary: `no queued messages of ${describeWho(w)} to ${verb}`, commands: [], noop: true, hashed, data, facts };
      const commands = [];
      for (let i = 0; i < targets.length; i += batch) commands.push({ argv: [ctx.host.tools.exim, flag, ...targets.slice(i, i + batch)], okExitCodes: [0, 1], timeoutMs: 600_000 });
      return { summary: `${verb} ${targets.length} queued messages of ${describeWho(w)} (exim ${flag})${params.hold_for !== undefined ? ` for ${params.hold_for}` : ''}`, commands, hashed, data, facts };
    },
    async run(ctx, _params, plan) {
      const data = plan.data!;
      const changed: string[] = [];
      const gone: string[] = [];
      for (const command of plan.commands) {
        const result = await ctx.exec(command);
        if (/malformed message id/.test(result.stderr)) throw new ActionError(`Exim refused the batch as malformed (nothing in it changed): ${describeCommandFailure(result)}`);
        for (const [id, status] of parseFreezeOutput(result.stdout, command.argv.slice(2), freeze)) {
          if (status === 'changed') changed.push(id);
          else if (status === 'gone') gone.push(id);
        }
        ctx.progress(`${freeze ? 'froze' : 'thawed'} ${changed.length}/${data.targets.length} messages`);
      }
      // Each record gets its own copy of the ID list: the audit writer prints a shared one as [circular].
      const outputs = { matched: data.targets.length, [freeze ? 'frozen' : 'thawed']: changed.length, ids: changed, gone_ids: gone };
      if (changed.length === 0) return { changed: false, outputs, summary: `no messages of ${describeWho(data)} ${freeze ? 'frozen' : 'thawed'}` };
      const until = freeze ? holdDeadline(data.holdFor) : undefined;
      // The thaw names the same sender or login as the freeze, so expiry and undo see it end this hold.
      const whose = { ...(data.sender !== undefined ? { sender: data.sender } : {}), ...(data.authId !== undefined ? { auth_id: data.authId } : {}) };
      return {
        changed: true,
        outputs: { ...outputs, ...(until !== undefined ? { until } : {}) },
        summary: `${freeze ? 'froze' : 'thawed'} ${changed.length} queued messages of ${describeWho(data)}${until !== undefined ? ` until ${until}` : ''}${gone.length > 0 ? `, ${gone.length} already gone` : ''}`,
        changes: [
          freeze
            ? { kind: 'messages-frozen', count: changed.length, ids: [...changed], ...(data.sender !== undefined ? { sender: data.sender } : {}), ...(data.authId !== undefined ? { authId: data.authId } : {}), ...(until !== undefined ? { until } : {}) }
            : { kind: 'messages-thawed', count: changed.length, ids: [...changed] },
        ],
        undo: [{ action: inverse, params: { ...whose, ids: [...changed], max: Math.max(changed.length, 1) }, description: `${freeze ? 'thaw' : 'freeze'} the ${changed.length} messages again` }],
      };
    },
    hold: (params: FreezeParams): HoldEffect | undefined => {
      const target = freezeTarget(params);
      return target === undefined ? undefined : { target, held: freeze, timed: freeze && params.hold_for !== undefined };
    },
    ...(freeze ? { counters: { messages_frozen: 'messages frozen' }, counts: (result: ActionResult) => ({ messages_frozen: typeof result.outputs.frozen === 'number' ? result.outputs.frozen : 0 }) } : {}),
  });
}

export const queueFreeze = freezeAction(true);
export const queueThaw = freezeAction(false);
