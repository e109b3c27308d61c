// A burst sent through Debian's real Exim (SMTP AUTH sessions on `exim -bs`, cPanel's log
// selectors) is written to Exim's own main log; the long-running watcher following that file
// trips compromised-mailbox on it and hands the trigger to the responder, once. The responder
// here records what it is given (the unit under test is the watcher).
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIncident } from '../../fixtures/generator/incident.mjs';
import { parseWatchConfig } from '../../src/watch/config.js';
import { runWatch } from '../../src/watch/run.js';
import type { ResponseOutcome, Trigger, TriggerResponder } from '../../src/watch/types.js';
import { requireExim, startEximHost, type EximTestHost } from '../support/exim.js';

function recordingResponder(): TriggerResponder & { seen: Trigger[]; first: Promise<Trigger> } {
  let resolveFirst: (t: Trigger) => void = () => {};
  const seen: Trigger[] = [];
  return {
    seen,
    first: new Promise((r) => (resolveFirst = r)),
    async respond(trigger): Promise<ResponseOutcome> {
      seen.push(trigger);
      resolveFirst(trigger);
      return { trigger: trigger.id, status: 'contained', notified: [], errors: [] };
    },
  };
}

describe.runIf(requireExim())('the watcher on the main log real Exim writes', () => {
  let host: EximTestHost;
  beforeAll(async () => {
    host = await startEximHost({ incident: false });
  });
  afterAll(async () => {
    await host?.stop();
  });

  it('a burst through real Exim trips compromised-mailbox once, with the mailbox and an attacker address as inputs', async () => {
    const { config } = parseWatchConfig(join(host.root, 'watch.yml'), [
      `logs: { mainlog: ${JSON.stringify(host.info.mainlog)} }`,
      'state: var/lib/runbook/watch.json',
      'start_at: beginning',
      'save_every: 0',
      'rescan_every: 0',
      'response: { contain_playbook: c.yml, finish_playbook: f.yml, hold_for: 4h, audit_dir: audit }',
    ].join('\n'));
    const responder = recordingResponder();
    const stop = new AbortController();
    const out = new PassThrough();
    const lines: string[] = [];
    out.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    const watching = runWatch(config, responder, { once: false, json: true, verbose: 0, out, err: new PassThrough(), signal: stop.signal });

    const manifest = await generateIncident({ root: host.root, mode: 'real', createHost: false, sizes: { spam: 12, script: 0, legit: 0, bounces: 0, frozen: 0 }, seed: 5 });
    const trigger = await responder.first;
    expect(trigger).toMatchObject({ rule: 'compromised-mailbox', key: { kind: 'auth_id', value: manifest.mailbox.toLowerCase() }, observed: { metric: 'messages', threshold: 8 } });
    const ips = trigger.inputs.ips?.split(',') ?? [];
    expect(ips.length).toBeGreaterThan(0);
    for (const ip of ips) expect(manifest.attackerIps).toContain(ip);
    expect(trigger.evidence.at(-1)).toMatch(/ <= .* A=dovecot_(login|plain):/);
    stop.abort(new Error('test done'));
    const result = await watching;
    expect(result).toMatchObject({ triggers: 1, unsuccessful: 0 });
    expect(responder.seen).toHaveLength(1);
    expect(lines.map((l) => (JSON.parse(l) as { type: string }).type)).toEqual(['trigger', 'outcome', 'summary']);

    // The cron form afterwards finds nothing new: the trip was recorded, not repeated.
    const again = recordingResponder();
    const cron = await runWatch(config, again, { once: true, json: true, verbose: 0, out: new PassThrough(), err: new PassThrough(), signal: new AbortController().signal });
    expect(cron.triggers).toBe(0);
  });
});
