import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serviceRestart } from '../../src/actions/service/restart.js';
import { makeContext, mutating, planAndRun, type TestContext } from './support/context.js';
import { simHost, type SimHost } from './support/sim.js';

describe('service.restart on the simulated host', () => {
  let sim: SimHost;
  let ctx: TestContext;
  beforeEach(() => {
    sim = simHost();
    ctx = makeContext({ tools: sim.tools, layout: sim.layout, env: sim.env });
  });
  afterEach(() => sim.cleanup());

  it('restarts exim and imap with the restartsrv scripts', async () => {
    const { plan, result } = await planAndRun(serviceRestart, ctx, { services: ['exim', 'imap'] });
    expect(plan.commands.map((c) => c.argv)).toEqual([[join(sim.tools.restartsrvDir, 'restartsrv_exim')], [join(sim.tools.restartsrvDir, 'restartsrv_imap')]]);
    expect(result.outputs['restarted']).toEqual(['exim', 'imap']);
    const log = readFileSync(join(sim.root, 'var/sim/restarts.log'), 'utf8');
    expect(log).toMatch(/"service":"exim"/);
    expect(log).toMatch(/"service":"dovecot"/);
  });

  it('passes --hard in hard mode', async () => {
    const plan = await mutating(serviceRestart).plan(ctx, { services: ['exim'], mode: 'hard' } as never);
    expect(plan.commands[0]?.argv).toEqual([join(sim.tools.restartsrvDir, 'restartsrv_exim'), '--hard']);
  });

  it('reports a failed restart with exit code and text, after trying every service', async () => {
    mkdirSync(join(sim.root, 'var/sim'), { recursive: true });
    writeFileSync(join(sim.root, 'var/sim/fail-restart-exim'), '');
    const error = await planAndRun(serviceRestart, ctx, { services: ['exim', 'imap'] }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/could not restart exim: .*restartsrv_exim exited [1-9]/);
    expect(ctx.calls.map((c) => c.argv[0])).toContain(join(sim.tools.restartsrvDir, 'restartsrv_imap'));
  });
});
