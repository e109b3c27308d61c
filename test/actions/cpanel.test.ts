import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resetPassword } from '../../src/actions/cpanel/reset-password.js';
import { suspendLogin, suspendOutgoing, unsuspendLogin, unsuspendOutgoing } from '../../src/actions/cpanel/suspend.js';
import { generatePassword } from '../../src/actions/cpanel/password.js';
import { mutating, makeContext, planAndRun, allArgv, type TestContext } from './support/context.js';
import { simHost, type SimHost } from './support/sim.js';

const BOX = 'info@shop.example.test';

describe('cPanel mailbox actions on the simulated host', () => {
  let sim: SimHost;
  let ctx: TestContext;
  beforeEach(() => {
    sim = simHost();
    ctx = makeContext({ tools: sim.tools, layout: sim.layout, env: sim.env });
  });
  afterEach(() => sim.cleanup());

  it('generates strong passwords that need no encoding', () => {
    for (let i = 0; i < 50; i += 1) {
      const value = generatePassword().reveal();
      expect(value).toMatch(/^[A-Za-z0-9]{24}$/);
      expect(value).toMatch(/[a-z]/);
      expect(value).toMatch(/[A-Z]/);
      expect(value).toMatch(/[0-9]/);
    }
  });

  it('resets a password through uapi_cpanel on stdin; the password is in no argv, output, note or call log', async () => {
    const plan = await mutating(resetPassword).plan(ctx, { email: 'Info@Shop.Example.test' } as never);
    expect(plan.commands.map((c) => c.argv)).toEqual([[sim.tools.whmapi1, '--input=json', '--output=json', 'uapi_cpanel']]);
    expect(plan.facts).toEqual({ email: BOX, user: 'shopuser' });
    const before = readFileSync(join(sim.root, 'home/shopuser/etc/shop.example.test/shadow'), 'utf8');
    const result = await mutating(resetPassword).run(ctx, { email: BOX } as never, plan);
    expect(result.changed).toBe(true);
    expect(result.irreversible?.[0]).toMatch(/cannot be restored/);
    expect(ctx.secrets).toHaveLength(1);
    const password = ctx.secrets[0]!.secret.reveal();
    expect(password).toMatch(/^[A-Za-z0-9]{24}$/);
    const after = readFileSync(join(sim.root, 'home/shopuser/etc/shop.example.test/shadow'), 'utf8');
    expect(after).not.toEqual(before);
    // The stored hash verifies the delivered password.
    const verify = await ctx.exec({ argv: [sim.tools.uapi, '--user=shopuser', '--output=json', 'Email', 'verify_password', `email=${encodeURIComponent(BOX)}`], stdin: undefined });
    expect(verify.stdout).toContain('"status":1');
    const whm = ctx.calls.find((c) => c.argv[0] === sim.tools.whmapi1);
    expect(whm?.stdin).toBe('secret');
    const everything = [allArgv(ctx), JSON.stringify(result), JSON.stringify(plan), JSON.stringify(ctx.notes), readFileSync(sim.callLog, 'utf8')].join('\n');
    expect(everything).not.toContain(password);
  });

  it('surfaces cPanel refusals with their curly quotes and hands over nothing', async () => {
    const plan = await mutating(resetPassword).plan(ctx, { email: 'nobody-here@shop.example.test' } as never);
    await expect(mutating(resetPassword).run(ctx, { email: 'nobody-here@shop.example.test' } as never, plan)).rejects.toThrow(
      /You do not have an email account named “nobody-here@shop\.example\.test”/,
    );
    expect(ctx.secrets).toHaveLength(0);
  });

  it('refuses unknown domains and malformed addresses', async () => {
    await expect(mutating(resetPassword).plan(ctx, { email: 'a@unknown.test' } as never)).rejects.toThrow(/no cPanel account owns unknown\.test/);
    await expect(mutating(resetPassword).plan(ctx, { email: 'a b@shop.example.test' } as never)).rejects.toThrow(/not a mailbox address/);
  });

  it('suspends outgoing mail, is idempotent, and undoes', async () => {
    const { plan, result } = await planAndRun(suspendOutgoing, ctx, { email: BOX });
    expect(plan.commands[0]?.argv).toEqual([sim.tools.uapi, '--user=shopuser', '--output=json', 'Email', 'suspend_outgoing', 'email=info%40shop.example.test']);
    expect(result.changed).toBe(true);
    expect(result.undo?.[0]).toMatchObject({ action: 'cpanel.email.unsuspend_outgoing', params: { email: BOX } });
    const state = JSON.parse(readFileSync(join(sim.root, 'var/cpanel/email_send_limits/users/shopuser/suspensions.json'), 'utf8'));
    expect(state['shop.example.test'].suspended.info).toBeDefined();
    expect((await mutating(suspendOutgoing).plan(ctx, { email: BOX } as never)).noop).toBe(true);
    const undone = await planAndRun(unsuspendOutgoing, ctx, { email: BOX });
    expect(undone.result.changed).toBe(true);
    expect((await mutating(unsuspendOutgoing).plan(ctx, { email: BOX } as never)).noop).toBe(true);
  });

  it('suspends login (shadow hash gets "!"), is idempotent, and undoes', async () => {
    const { result } = await planAndRun(suspendLogin, ctx, { email: BOX });
    expect(result.changed).toBe(true);
    expect(readFileSync(join(sim.root, 'home/shopuser/etc/shop.example.test/shadow'), 'utf8')).toMatch(/^info:!/m);
    expect((await mutating(suspendLogin).plan(ctx, { email: BOX } as never)).noop).toBe(true);
    await planAndRun(unsuspendLogin, ctx, { email: BOX });
    expect(readFileSync(join(sim.root, 'home/shopuser/etc/shop.example.test/shadow'), 'utf8')).toMatch(/^info:\$6\$/m);
  });

  it('says clearly when the mailbox does not exist', async () => {
    await expect(mutating(suspendLogin).plan(ctx, { email: 'ghost@shop.example.test' } as never)).rejects.toThrow(/no mailbox ghost@shop\.example\.test/);
  });
});
