import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { suspendAccountOutgoing, unsuspendAccountOutgoing } from '../../src/actions/cpanel/account-outgoing.js';
import { suspendOutgoing, unsuspendOutgoing } from '../../src/actions/cpanel/suspend.js';
import { holdDeadline } from '../../src/actions/hold-deadline.js';
import type { MutatingAction } from '../../src/actions/types.js';
import { makeContext, mutating, planAndRun, type TestContext } from './support/context.js';
import { simHost, type SimHost } from './support/sim.js';

const BOX = 'info@shop.example.test';

describe('hold deadlines', () => {
  it('turns hold_for into an ISO deadline and refuses a zero length', () => {
    expect(holdDeadline('4h', Date.parse('2026-12-07T10:00:00Z'))).toBe('2026-12-07T14:00:00.000Z');
    expect(holdDeadline(undefined)).toBeUndefined();
    expect(() => holdDeadline('0m')).toThrow(/not a length of time/);
  });

  it('say what each step does to the hold, for expiry', () => {
    const hold = (a: unknown, p: Record<string, unknown>) => (a as MutatingAction).hold?.(p as never);
    expect(hold(suspendOutgoing, { email: 'Info@Shop.example.test', hold_for: '4h' })).toEqual({ target: `mailbox-outgoing:${BOX}`, held: true, timed: true });
    expect(hold(suspendOutgoing, { email: BOX })).toEqual({ target: `mailbox-outgoing:${BOX}`, held: true, timed: false });
    expect(hold(unsuspendOutgoing, { email: BOX })).toEqual({ target: `mailbox-outgoing:${BOX}`, held: false, timed: false });
    expect(hold(suspendAccountOutgoing, { user: 'shopuser', hold_for: '1d' })).toEqual({ target: 'account-outgoing:shopuser', held: true, timed: true });
    expect(hold(unsuspendAccountOutgoing, { user: 'shopuser' })).toEqual({ target: 'account-outgoing:shopuser', held: false, timed: false });
    expect(hold(suspendOutgoing, { email: 'not an address' })).toBeUndefined();
  });
});

describe('holds with a deadline on the simulated host', () => {
  let sim: SimHost;
  let ctx: TestContext;
  beforeEach(() => {
    sim = simHost();
    ctx = makeContext({ tools: sim.tools, layout: sim.layout, env: sim.env });
  });
  afterEach(() => sim.cleanup());

  it("a mailbox's outgoing hold for 4h records its deadline; the plan hash covers it", async () => {
    const plain = await mutating(suspendOutgoing).plan(ctx, { email: BOX } as never);
    const timed = await mutating(suspendOutgoing).plan(ctx, { email: BOX, hold_for: '4h' } as never);
    expect(timed.commands.map((c) => c.argv)).toEqual(plain.commands.map((c) => c.argv));
    expect(timed.hashed).toEqual({ argv: plain.commands[0]!.argv, hold_for: '4h' });
    expect(timed.summary).toMatch(/for 4h$/);
    const before = Date.now();
    const result = await mutating(suspendOutgoing).run(ctx, { email: BOX, hold_for: '4h' } as never, timed);
    const until = result.outputs['until'] as string;
    expect(Date.parse(until) - before).toBeGreaterThanOrEqual(4 * 3_600_000);
    expect(Date.parse(until) - Date.now()).toBeLessThanOrEqual(4 * 3_600_000);
    expect(result.changes).toEqual([{ kind: 'mailbox-suspension', mailbox: BOX, scope: 'outgoing', suspended: true, until }]);
    expect(result.undo).toEqual([{ action: 'cpanel.email.unsuspend_outgoing', params: { email: BOX }, description: expect.any(String) }]);
  });

  it("an account's outgoing hold for 30m records its deadline; without hold_for there is none", async () => {
    const { result } = await planAndRun(suspendAccountOutgoing, ctx, { user: 'shopuser', hold_for: '30m' });
    expect(result.changes?.[0]).toMatchObject({ kind: 'account-outgoing', account: 'shopuser', suspended: true, until: expect.stringMatching(/Z$/) });
    await planAndRun(unsuspendAccountOutgoing, ctx, { user: 'shopuser' });
    const again = await planAndRun(suspendAccountOutgoing, ctx, { user: 'shopuser' });
    expect(again.result.changes).toEqual([{ kind: 'account-outgoing', account: 'shopuser', suspended: true }]);
    expect(again.result.outputs['until']).toBeNull();
  });

  it('refuses a hold_for of zero before touching the host', async () => {
    await expect(mutating(suspendOutgoing).plan(ctx, { email: BOX, hold_for: '0h' } as never)).rejects.toThrow(/not a length of time/);
    expect(ctx.calls).toEqual([]);
  });
});
