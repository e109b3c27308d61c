// exim.detect against genuine Exim output: a real queue and main log written by Exim 4.96 with
// cPanel's log selectors (the incident is submitted through real Exim, nothing delivered).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eximDetectionActions } from '../../src/actions/exim/detection.js';
import type { ReadOnlyAction } from '../../src/actions/types.js';
import type { Verdict } from '../../src/investigate/verdict.js';
import { scanMainlogFile } from '../../src/investigate/mainlog-file.js';
import { makeContext } from '../actions/support/context.js';
import { requireExim, startEximHost, type EximTestHost } from '../support/exim.js';

const detect = eximDetectionActions.find((a) => a.name === 'exim.detect') as ReadOnlyAction;

describe.runIf(requireExim())('exim.discover with the machine\'s own Exim (Debian layout)', () => {
  it('finds /var/spool/exim4, /var/log/exim4/mainlog and no split spool', async () => {
    const discover = eximDetectionActions.find((a) => a.name === 'exim.discover') as ReadOnlyAction;
    const ctx = makeContext({ tools: { exim: '/usr/sbin/exim' } });
    const r = await discover.run(ctx, {} as never);
    expect(r.outputs).toMatchObject({ spool_dir: '/var/spool/exim4', mainlog: '/var/log/exim4/mainlog', split_spool: false });
    expect(r.outputs['version']).toMatch(/^4\.\d+/);
  });
});

describe.runIf(requireExim())('detection on a real Exim queue and main log', () => {
  let host: EximTestHost;
  beforeAll(async () => {
    host = await startEximHost({ sizes: { spam: 12, script: 30, legit: 4, bounces: 2, frozen: 1 }, seed: 3 });
  });
  afterAll(async () => {
    await host?.stop();
  });

  it('the main log Exim wrote has the cwd= and A= lines the scanner counts', async () => {
    const m = host.manifest!;
    const r = await scanMainlogFile(m.mainlog, {});
    expect(r.cwd.find((c) => c.path === m.script.dir)?.count).toBe(30);
    const auth = r.auth_senders.find((a) => a.id === m.mailbox);
    expect(auth?.count).toBe(12);
    expect(auth?.authenticators.map((a) => a.key).sort()).toEqual(['dovecot_login', 'dovecot_plain']);
    expect(auth?.ips.map((i) => i.key).sort()).toEqual([...m.attackerIps].sort());
    // Exim's own -bp/-bP runs by the test setup are admin lines, never a sending directory.
    expect(r.cwd.every((c) => c.path === m.script.dir || c.count < 30)).toBe(true);
  });

  it('exim.detect names the script, the mailbox as a second sender, and real client IPs', async () => {
    const m = host.manifest!;
    const ctx = makeContext({ tools: host.info.tools, layout: host.info.layout, env: host.info.env });
    const v = (await detect.run(ctx, { since: '1d', min_messages: 10, min_subject_repeats: 1000 } as never)).outputs as unknown as Verdict;
    expect(v.kind).toBe('script');
    expect(v.sender).toBe(m.script.sender);
    expect(v.scripts.map((s) => s.path)).toEqual([m.script.path]);
    // Both sources are compromised: the script's client and the mailbox's logins are blocked.
    expect([...v.ips].sort()).toEqual([m.scriptIp, ...m.attackerIps].sort());
    expect(v.sources.map((s) => [s.kind, s.id])).toEqual([['script', m.script.path], ['mailbox', m.mailbox]]);
    expect(v.senders).toEqual([m.script.sender, m.mailbox]);
    expect(v.counts.queue).toBe(m.total);
  });
});
