import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseRemovalOutput, parseSpoolInfo, queuePurge, requireSender } from '../../src/actions/exim/purge.js';
import { queueWatch } from '../../src/actions/exim/watch.js';
import type { ReadOnlyAction } from '../../src/actions/types.js';
import { makeContext, mutating, planAndRun, type TestContext } from './support/context.js';
import { queueMessages, queueSenders, realEximAvailable } from './support/queue.js';
import { simHost, type SimHost } from './support/sim.js';

const SPAMMER = 'support@shop.example.test';

describe('purge helpers', () => {
  it('refuses empty, bounce, wildcard and non-address senders', () => {
    for (const bad of ['', '  ', '<>', '*', '*@shop.example.test', 'a b@x.test', 'support', '%@x.test']) {
      expect(() => requireSender(bad), bad).toThrow(/refusing to purge/);
    }
    expect(requireSender(' Support@Shop.Example.test ')).toBe(SPAMMER);
  });

  it('reads exim -Mrm per-ID answers', () => {
    const out =
      'Message 1xV5FE-0001it-00 has been removed\n' +
      'Spool data file for 1xV5FE-0001zz-99 does not exist\nContinuing, to ensure all files removed\n' +
      'Message 1xV5FE-0001zz-99 has been removed or did not exist\nMessage 1xV5FE-0001iz-01 is locked\n';
    const status = parseRemovalOutput(out, ['1xV5FE-0001it-00', '1xV5FE-0001zz-99', '1xV5FE-0001iz-01', '1xV5FE-0001j2-02']);
    expect([...status]).toEqual([
      ['1xV5FE-0001it-00', 'removed'],
      ['1xV5FE-0001zz-99', 'gone'],
      ['1xV5FE-0001iz-01', 'locked'],
      ['1xV5FE-0001j2-02', 'unknown'],
    ]);
  });

  it('reads the spool layout from exim -bP', () => {
    expect(parseSpoolInfo('spool_directory = /var/spool/exim\nsplit_spool_directory\n')).toEqual({ inputDir: '/var/spool/exim/input', split: true });
    expect(parseSpoolInfo('spool_directory = /var/spool/exim4\nno_split_spool_directory\n')).toEqual({ inputDir: '/var/spool/exim4/input', split: false });
  });
});

describe.runIf(realEximAvailable || process.env['CI'])('exim.queue.purge on a real Exim queue', () => {
  let sim: SimHost;
  let ctx: TestContext;
  beforeEach(() => {
    sim = simHost({ exim: 'real' });
    ctx = makeContext({ tools: sim.tools, layout: sim.layout, env: sim.env });
    queueMessages(sim.tools.exim, [
      ...Array.from({ length: 30 }, (_, i) => ({
        from: i % 2 === 0 ? SPAMMER : 'Support@SHOP.example.test',
        subject: `You won a prize ${i % 3}`,
        headers: ['X-PHP-Script: shop.example.test/wp-content/N138UVkOgLJ.php for 45.33.12.7'],
      })),
      { from: 'xsupport@shop.example.test', subject: 'lookalike' },
      { from: 'support@shop.example.test.evil.test', subject: 'suffix' },
      { from: 'sales@shop.example.test', subject: 'real mail' },
      { from: 'other@elsewhere.test', subject: 'sent with the stolen login', authId: SPAMMER },
      { from: '', subject: 'bounce' },
    ]);
  });
  afterEach(() => sim.cleanup());

  it('removes exactly the sender (case-insensitive), keeps every other message, records evidence', async () => {
    const before = queueSenders(sim.tools.exim);
    expect(before).toHaveLength(35);
    const plan = await mutating(queuePurge).plan(ctx, { sender: SPAMMER } as never);
    expect(plan.facts).toMatchObject({ matched: 30, queue_total: 35 });
    expect(plan.hashed).toEqual({ sender: SPAMMER, auth_id: null, max: 5000 });
    expect(plan.commands[0]?.argv.slice(0, 2)).toEqual([sim.tools.exim, '-Mrm']);
    const result = await mutating(queuePurge).run(ctx, { sender: SPAMMER } as never, plan);
    const removed = result.outputs['removed_ids'] as string[];
    expect(removed).toHaveLength(30);
    expect(new Set(removed)).toEqual(new Set(before.filter((m) => m.sender.toLowerCase() === SPAMMER).map((m) => m.id)));
    const after = queueSenders(sim.tools.exim);
    expect(after.map((m) => m.sender).sort()).toEqual(['', 'other@elsewhere.test', 'sales@shop.example.test', 'support@shop.example.test.evil.test', 'xsupport@shop.example.test']);
    const evidence = result.outputs['evidence'] as { headers_read: number; sha256: string; subjects: Array<{ value: string; count: number }>; php_scripts: Array<{ value: string }> };
    expect(evidence.headers_read).toBe(30);
    expect(evidence.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(evidence.subjects.map((s) => s.value).sort()).toEqual(['You won a prize 0', 'You won a prize 1', 'You won a prize 2']);
    expect(evidence.php_scripts[0]?.value).toBe('shop.example.test/wp-content/N138UVkOgLJ.php for 45.33.12.7');
    expect(ctx.notes[0]?.message).toMatch(/evidence: headers of 30 of 30 messages, each batch read before it was removed/);
    // Evidence was read before anything was removed.
    const firstGrep = ctx.calls.findIndex((c) => c.argv[0] === 'grep');
    const firstRm = ctx.calls.findIndex((c) => c.argv.includes('-Mrm'));
    expect(firstGrep).toBeGreaterThan(-1);
    expect(firstGrep).toBeLessThan(firstRm);
    expect(result.irreversible?.[0]).toMatch(/30 queued messages/);
    // Idempotent: nothing left to do.
    expect((await mutating(queuePurge).plan(ctx, { sender: SPAMMER } as never)).noop).toBe(true);
  });

  it('also removes messages sent with the stolen login when auth_id is given', async () => {
    const { result } = await planAndRun(queuePurge, ctx, { sender: SPAMMER, auth_id: SPAMMER });
    expect(result.outputs['removed']).toBe(31);
    expect(queueSenders(sim.tools.exim).map((m) => m.sender)).not.toContain('other@elsewhere.test');
    expect(queueSenders(sim.tools.exim)).toHaveLength(4);
  });

  it('refuses beyond max and removes nothing', async () => {
    await expect(mutating(queuePurge).plan(ctx, { sender: SPAMMER, max: 10 } as never)).rejects.toThrow(/30 queued messages match .* more than max 10/);
    expect(queueSenders(sim.tools.exim)).toHaveLength(35);
  });

  it('uses small batches when asked and every batch argv carries only valid IDs', async () => {
    const { plan } = await planAndRun(queuePurge, ctx, { sender: SPAMMER, batch: 7 });
    expect(plan.commands).toHaveLength(5);
    const rmCalls = ctx.calls.filter((c) => c.argv.includes('-Mrm'));
    expect(rmCalls).toHaveLength(5);
    for (const call of rmCalls) for (const id of call.argv.slice(2)) expect(id).toMatch(/^[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}$/);
    // Every batch's headers were read (grep) before that batch was removed.
    for (const call of rmCalls) {
      const at = ctx.calls.indexOf(call);
      const readBefore = ctx.calls.slice(0, at).filter((c) => c.argv[0] === 'grep').map((c) => c.argv.join(' ')).join(' ');
      for (const id of call.argv.slice(2)) expect(readBefore).toContain(`${id}-H`);
    }
  });

  it('watch passes when nothing new arrives and fails when the sender keeps sending', async () => {
    const watch = queueWatch as unknown as ReadOnlyAction;
    expect(watch.dryRun).toBe('plan');
    const quiet = await watch.run(ctx, { sender: SPAMMER, for: '1s', interval: '300ms' } as never);
    const samples = quiet.outputs['samples'] as Array<{ sender_queued: number; new: number; queue_total: number }>;
    expect(samples.length).toBeGreaterThanOrEqual(2);
    expect(samples[0]).toMatchObject({ sender_queued: 30, queue_total: 35, new: 0 });
    expect(quiet.outputs['new_total']).toBe(0);
    // Each sample says how long the watch has run and how long it has to go.
    expect(ctx.progressLines[0]).toMatch(/^queue 35, from support@shop\.example\.test: 30 \(0 new\); 0:0\d of 0:01, 0:0\d left$/);
    expect(ctx.progressLines.at(-1)).toMatch(/; 0:0\d of 0:01, 0:0\d left$/);

    // More spam arrives once the watch has taken its first sample (the baseline).
    let arrived = false;
    const afterFirstSample = {
      ...ctx,
      progress(message: string) {
        ctx.progress(message);
        if (arrived) return;
        arrived = true;
        queueMessages(sim.tools.exim, [{ from: SPAMMER, subject: 'still here' }]);
      },
    };
    const noisy = watch.run(afterFirstSample, { sender: SPAMMER, for: '20s', interval: '200ms' } as never);
    await expect(noisy).rejects.toThrow(/1 new messages from support@shop\.example\.test arrived/);
  });
});
