import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseFreezeOutput, queueFreeze, queueThaw } from '../../src/actions/exim/freeze.js';
import { requireExim } from '../support/exim.js';
import { makeContext, mutating, planAndRun, type TestContext } from './support/context.js';
import { queueMessages } from './support/queue.js';
import { simHost, type SimHost } from './support/sim.js';
import { spawnSync } from 'node:child_process';

const SPAMMER = 'support@shop.example.test';

/** `exim -bp` as the operator reads it: ID → frozen. */
function frozenById(exim: string): Map<string, boolean> {
  const out = spawnSync(exim, ['-bp'], { encoding: 'utf8' }).stdout;
  const byId = new Map<string, boolean>();
  for (const m of out.matchAll(/^\s*\d+[mhd]\s+\S+\s+(\S+) <[^>]*>( \*\*\* frozen \*\*\*)?/gm)) byId.set(m[1] ?? '', m[2] !== undefined);
  return byId;
}

describe('exim -Mf/-Mt output', () => {
  it('reads what happened to each ID', () => {
    const ids = ['1xV5FE-0001it-00', '1xV5FE-0001iz-01', '1xV5FE-0001j2-02'];
    const out = 'Message 1xV5FE-0001it-00 is now frozen\nMessage 1xV5FE-0001iz-01 is already frozen\nSpool read error for 1xV5FE-0001j2-02-H: No such file or directory\n';
    expect([...parseFreezeOutput(out, ids, true)]).toEqual([[ids[0], 'changed'], [ids[1], 'already'], [ids[2], 'gone']]);
    expect([...parseFreezeOutput('Message 1xV5FE-0001it-00 is no longer frozen\nMessage 1xV5FE-0001iz-01 is not frozen\n', ids.slice(0, 2), false)]).toEqual([
      [ids[0], 'changed'],
      [ids[1], 'already'],
    ]);
  });
});

describe.runIf(requireExim())('exim.queue.freeze and thaw on a real Exim queue', () => {
  let sim: SimHost;
  let ctx: TestContext;
  beforeEach(() => {
    sim = simHost({ exim: 'real' });
    ctx = makeContext({ tools: sim.tools, layout: sim.layout, env: sim.env });
    queueMessages(sim.tools.exim, [
      ...Array.from({ length: 6 }, (_, i) => ({ from: i % 2 === 0 ? SPAMMER : 'Support@SHOP.example.test', subject: `prize ${i}` })),
      { from: 'sales@shop.example.test', subject: 'real mail' },
      { from: 'other@elsewhere.test', subject: 'sent with the stolen login', authId: SPAMMER },
    ]);
  });
  afterEach(() => sim.cleanup());

  it("freezes exactly the sender's and the AUTH id's messages, shown frozen by exim -bp; the undo thaws them", async () => {
    const before = frozenById(sim.tools.exim);
    expect(before.size).toBe(8);
    const { plan, result } = await planAndRun(queueFreeze, ctx, { sender: SPAMMER, auth_id: SPAMMER });
    expect(plan.commands[0]?.argv.slice(0, 2)).toEqual([sim.tools.exim, '-Mf']);
    const frozenIds = result.outputs['ids'] as string[];
    expect(frozenIds).toHaveLength(7);
    const after = frozenById(sim.tools.exim);
    expect([...after].filter(([, f]) => f).map(([id]) => id).sort()).toEqual([...frozenIds].sort());
    expect(result.changes).toEqual([{ kind: 'messages-frozen', count: 7, ids: frozenIds, sender: SPAMMER, authId: SPAMMER }]);
    // The thaw names the sender and login too: expiry and undo read it as the end of this hold.
    expect(result.undo).toEqual([{ action: 'exim.queue.thaw', params: { sender: SPAMMER, auth_id: SPAMMER, ids: frozenIds, max: 7 }, description: expect.any(String) }]);
    // Already frozen: nothing more to do.
    expect((await mutating(queueFreeze).plan(ctx, { sender: SPAMMER } as never)).noop).toBe(true);

    // A message Exim froze itself (a delivery failure) is not the freeze's to thaw.
    const own = [...after].find(([, f]) => !f)![0];
    spawnSync(sim.tools.exim, ['-Mf', own]);
    const undo = result.undo![0]!;
    const thawed = await planAndRun(queueThaw, ctx, undo.params);
    expect(thawed.result.changes).toEqual([{ kind: 'messages-thawed', count: 7, ids: expect.any(Array) }]);
    const restored = frozenById(sim.tools.exim);
    expect([...restored].filter(([, f]) => f).map(([id]) => id)).toEqual([own]);
    expect(thawed.result.undo?.[0]?.action).toBe('exim.queue.freeze');
  });

  it('with hold_for the freeze is a hold with a deadline, which its thaw ends', async () => {
    const t0 = Date.now();
    const { result } = await planAndRun(queueFreeze, ctx, { sender: SPAMMER, hold_for: '4h' });
    const until = result.outputs['until'] as string;
    expect(Date.parse(until) - t0).toBeGreaterThanOrEqual(4 * 3_600_000);
    expect(Date.parse(until) - t0).toBeLessThan(4 * 3_600_000 + 600_000);
    expect(result.changes).toEqual([expect.objectContaining({ kind: 'messages-frozen', sender: SPAMMER, until })]);
    const held = mutating(queueFreeze).hold!({ sender: SPAMMER, hold_for: '4h' } as never);
    expect(held).toEqual({ target: `queued-mail:sender=${SPAMMER}`, held: true, timed: true });
    expect(mutating(queueThaw).hold!(result.undo![0]!.params as never)).toEqual({ target: held!.target, held: false, timed: false });
    // Bare IDs say nothing about whose mail it was.
    expect(mutating(queueThaw).hold!({ ids: ['1xV5FE-0001it-00'] } as never)).toBeUndefined();
    await expect(mutating(queueThaw).plan(ctx, { sender: SPAMMER, hold_for: '4h' } as never)).rejects.toThrow(/takes no hold_for/);
  });

  it('refuses a wildcard sender and more messages than max, changing nothing', async () => {
    await expect(mutating(queueFreeze).plan(ctx, { sender: '*@shop.example.test' } as never)).rejects.toThrow(/refusing to freeze/);
    await expect(mutating(queueFreeze).plan(ctx, { sender: SPAMMER, max: 2 } as never)).rejects.toThrow(/more than max 2/);
    expect([...frozenById(sim.tools.exim).values()].some(Boolean)).toBe(false);
  });
});
