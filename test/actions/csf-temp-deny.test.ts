import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { csfRemoveTempDeny, csfTempDeny, ttlSeconds } from '../../src/actions/firewall/csf-temp-deny.js';
import { parseCsfTempDenyOutput, parseCsfTempList, parseCsfTempRemoveOutput } from '../../src/parsers/csf-output.js';
import { makeContext, mutating, planAndRun, type TestContext } from './support/context.js';
import { simHost, type SimHost } from './support/sim.js';

const ATTACKER = '45.33.12.7';

describe('csf temporary deny output and list', () => {
  it('reads csf -td, csf -trd and csf.tempban', () => {
    expect(parseCsfTempDenyOutput('csf: 45.33.12.7 blocked on port * for 14400 seconds inbound\n').outcome).toEqual({ kind: 'denied', seconds: 14400 });
    expect(parseCsfTempDenyOutput('csf: 45.33.12.7 is already permanently blocked\n').outcome.kind).toBe('already-permanent');
    expect(parseCsfTempDenyOutput('csf: 45.33.12.7 is already temporarily blocked\n').outcome.kind).toBe('already-temporary');
    expect(parseCsfTempRemoveOutput('csf: 45.33.12.7 temporary block removed\n').outcome).toBe('removed');
    expect(parseCsfTempRemoveOutput('csf: 45.33.12.7 not found in temporary bans\n').outcome).toBe('not-found');
    expect(parseCsfTempList('1765100000|45.33.12.7|*|in|3600|spam | via x\nbroken\n')).toEqual([{ epoch: 1765100000, ip: ATTACKER, port: '*', dir: 'in', ttl: 3600, comment: 'spam | via x' }]);
    expect(ttlSeconds('4h')).toBe(14400);
    expect(() => ttlSeconds('1s')).toThrow(/too short/);
  });
});

describe.each(['original', 'cpanel-fork'])('csf.temp_deny against the simulated host (%s csf)', (flavor) => {
  let sim: SimHost;
  let ctx: TestContext;
  beforeEach(() => {
    sim = simHost({ csf: { allow: ['45.33.100.0/24 # office'], ignore: ['45.33.200.9'], flavor } });
    ctx = makeContext({ tools: sim.tools, layout: sim.layout, env: sim.env });
  });
  afterEach(() => sim.cleanup());

  it('blocks for the TTL with the portable argv, records the deadline, and the undo lifts it', async () => {
    const plan = await mutating(csfTempDeny).plan(ctx, { ip: ATTACKER, ttl: '4h', comment: '-p 25 spam\nrun' } as never);
    expect(plan.commands.map((c) => c.argv)).toEqual([[sim.tools.csf, '-td', ATTACKER, '14400', '-d in p 25 spam run']]);
    const before = Date.now();
    const result = await mutating(csfTempDeny).run(ctx, {} as never, plan);
    expect(result.outputs).toMatchObject({ ip: ATTACKER, blocked: true, ttl_seconds: 14400 });
    const until = result.outputs['until'] as string;
    expect(Date.parse(until)).toBeGreaterThanOrEqual(before + 14_400_000);
    expect(result.changes).toEqual([{ kind: 'ip-temp-deny', ip: ATTACKER, ttlSeconds: 14400, until, comment: 'p 25 spam run' }]);
    const tempban = parseCsfTempList(readFileSync(join(sim.root, 'var/lib/csf/csf.tempban'), 'utf8'));
    expect(tempban).toMatchObject([{ ip: ATTACKER, port: '*', dir: 'in', ttl: 14400, comment: 'p 25 spam run' }]);
    // Already blocked for a time: nothing to do.
    expect((await mutating(csfTempDeny).plan(ctx, { ip: ATTACKER, ttl: '1h' } as never)).noop).toBe(true);

    const undo = result.undo![0]!;
    expect(undo.action).toBe('csf.remove_temp_deny');
    const lifted = await planAndRun(csfRemoveTempDeny, ctx, undo.params);
    expect(lifted.plan.commands[0]?.argv).toEqual([sim.tools.csf, '-trd', ATTACKER]);
    expect(lifted.result.changes).toEqual([{ kind: 'ip-temp-deny-removed', ip: ATTACKER }]);
    expect(lifted.result.undo?.[0]).toMatchObject({ action: 'csf.temp_deny', params: { ip: ATTACKER, ttl: expect.stringMatching(/^\d+s$/) } });
    expect(readFileSync(join(sim.root, 'var/lib/csf/csf.tempban'), 'utf8')).toBe('');
    expect((await mutating(csfRemoveTempDeny).plan(ctx, { ip: ATTACKER } as never)).noop).toBe(true);
  });

  it('refuses what a permanent deny refuses, although csf -td itself checks no allow list', async () => {
    await expect(mutating(csfTempDeny).plan(ctx, { ip: '45.33.100.20', ttl: '1h' } as never)).rejects.toThrow(/csf\.allow.*45\.33\.100\.0\/24/);
    await expect(mutating(csfTempDeny).plan(ctx, { ip: '45.33.200.9', ttl: '1h' } as never)).rejects.toThrow(/csf\.ignore/);
    await expect(mutating(csfTempDeny).plan(ctx, { ip: '10.1.2.3', ttl: '1h' } as never)).rejects.toThrow(/private/);
    await expect(mutating(csfTempDeny).plan(ctx, { ip: '104.16.1.1', ttl: '1h' } as never)).rejects.toThrow(/proxy\/CDN edge/);
    await expect(mutating(csfTempDeny).plan(ctx, { ip: '192.0.2.10', ttl: '1h', allow_private: true } as never)).rejects.toThrow(/own addresses/);
    expect(ctx.calls.some((c) => c.argv[0] === sim.tools.csf)).toBe(false);
  });

  it('is a no-op for an address csf.deny already blocks for good', async () => {
    writeFileSync(join(sim.root, 'etc/csf/csf.deny'), `${ATTACKER} # by hand - Sun Nov 22 10:56:28 2026\n`);
    const plan = await mutating(csfTempDeny).plan(ctx, { ip: ATTACKER, ttl: '1h' } as never);
    expect(plan.noop).toBe(true);
    expect(plan.summary).toMatch(/already blocked for good/);
  });
});
