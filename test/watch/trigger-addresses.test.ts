// The addresses a trigger acts on are what the window shows sent as its key, classified the
// way the verdict classifies them; the response blocks only the attackers'. Real files read by
// a real watcher; the block step is resolved from the shipped finishing playbook.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { builtinActions } from '../../src/actions/registry.js';
import { resolveStep } from '../../src/engine/plan.js';
import type { HostPlan } from '../../src/engine/types.js';
import { resolveInputs } from '../../src/playbook/inputs.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { applyArgv, playbookInputs } from '../../src/watch/response-inputs.js';
import type { RuleSpec } from '../../src/watch/rules.js';
import type { Trigger } from '../../src/watch/types.js';
import { Watcher, type WatcherOptions } from '../../src/watch/watcher.js';
import { at, dovecotLogin, msgId, text } from './lines.js';

let dir: string;
let mainlog: string;
let maillog: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'runbook-watch-addr-'));
  mainlog = join(dir, 'exim_mainlog');
  maillog = join(dir, 'maillog');
  writeFileSync(mainlog, '');
  writeFileSync(maillog, '');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const MAILBOX = 'alice@example.test';
const rules: RuleSpec[] = [{ name: 'compromised-mailbox', key: 'auth_id', limits: [{ metric: 'messages', threshold: 16, window: '1h' }] }];

function options(more: Partial<WatcherOptions> = {}): WatcherOptions {
  return {
    mainlog, maillog, statePath: join(dir, 'state.json'), rules, startAt: 'beginning', maxKeys: 1000, maxDistinct: 1000, joinSeconds: 7200,
    maxMessages: 10_000, saveEverySeconds: 0, rescanSeconds: 0, serverIps: ['198.51.100.1'], ...more,
  };
}

/** An SMTP AUTH submission as `MAILBOX` from `ip`, received on this server's 192.0.2.10. */
const sent = (i: number, ip: string): string =>
  `${at(i)} ${msgId(i)} <= ${MAILBOX} H=(laptop) [${ip}]:53033 I=[192.0.2.10]:587 P=esmtpa A=dovecot_login:${MAILBOX} S=276 T="Invoice" for victim${i}@remote.test`;

describe('the addresses behind a trigger', () => {
  it('are every address that sent as the mailbox within the window, classified; the response blocks only the attackers', async () => {
    const w = await Watcher.open(options());
    try {
      // Before the window: an address long gone.
      appendFileSync(mainlog, text([sent(0, '198.51.100.99')]));
      // The owner reads the mailbox from the office; the attacker checks the stolen password once.
      appendFileSync(maillog, text([dovecotLogin(4000, '203.0.113.50', MAILBOX), dovecotLogin(4100, '203.0.113.50', MAILBOX), dovecotLogin(4200, '203.0.113.50', MAILBOX), dovecotLogin(5000, '198.51.100.66', MAILBOX)]));
      expect(await w.readAppended()).toEqual([]);
      const lines = [
        sent(4300, '203.0.113.50'), sent(4301, '203.0.113.50'), // the owner
        sent(4400, '192.0.2.10'), // webmail through the server's own public address (its I=)
        sent(4401, '198.51.100.1'), // an address of this server's interfaces
        sent(4402, '10.0.0.5'), // the office LAN
        sent(4403, '104.16.1.1'), // a Cloudflare edge
      ];
      for (let k = 0; k < 8; k++) lines.push(sent(5001 + k, '198.51.100.66'));
      lines.push(sent(5010, '198.51.100.67'), sent(5011, '198.51.100.67'));
      appendFileSync(mainlog, text(lines));
      const fired = await w.readAppended();
      expect(fired).toHaveLength(1);
      const t = fired[0] as Trigger;
      expect(t.observed.value).toBe(16);
      expect(Object.fromEntries((t.addresses ?? []).map((a) => [a.ip, a.cls]))).toEqual({
        '198.51.100.66': 'attacker',
        '198.51.100.67': 'attacker',
        '203.0.113.50': 'owner',
        '192.0.2.10': 'server',
        '198.51.100.1': 'server',
        '10.0.0.5': 'private',
        '104.16.1.1': 'proxy',
      });
      expect(t.addresses?.find((a) => a.ip === '198.51.100.66')?.reason).toMatch(/checked .* 1 time, then sent 8/);
      expect(t.inputs.ips).toBe('198.51.100.66,198.51.100.67');
      expect(t.inputs.ip).toBeUndefined();

      // What the response would block: the finishing playbook's block step, resolved.
      const registry = builtinActions();
      const finish = await loadPlaybook('playbooks/watch-finish.yml', registry);
      const pairs = playbookInputs(finish.spec, t, '4h');
      expect(applyArgv(finish.path, { host: 'mail1', auditDir: dir }, pairs)).toContain('ips=198.51.100.66,198.51.100.67');
      const inputs = resolveInputs(finish.spec, Object.fromEntries(pairs));
      const index = finish.spec.steps.findIndex((s) => s.id === 'block');
      const step = finish.spec.steps[index]!;
      const hostPlan = { target: { name: 'mail1', vars: {} }, steps: [], outputs: {} } as unknown as HostPlan;
      const planned = resolveStep(hostPlan, step, index, registry.get(step.action)!, inputs);
      expect(planned.map((p) => p.params?.ip)).toEqual(['198.51.100.66', '198.51.100.67']);
    } finally {
      await w.stop();
    }
  });

  it('an address key (credential stuffing) is still blocked as itself', async () => {
    const registry = builtinActions();
    const finish = await loadPlaybook('playbooks/watch-finish.yml', registry);
    const index = finish.spec.steps.findIndex((s) => s.id === 'block');
    const step = finish.spec.steps[index]!;
    const inputs = resolveInputs(finish.spec, { ip: '198.51.100.77' });
    const hostPlan = { target: { name: 'mail1', vars: {} }, steps: [], outputs: {} } as unknown as HostPlan;
    expect(resolveStep(hostPlan, step, index, registry.get(step.action)!, inputs).map((p) => p.params?.ip)).toEqual(['198.51.100.77']);
  });

  it("an owner's address counts what it sent within the window, not since it was first seen: days of steady mail do not make it an attacker", async () => {
    const w = await Watcher.open(options());
    try {
      // The owner reads this mailbox once (webmail the rest of the time) and sends a message
      // every half hour from the office, for two days: two an hour, never near the rule.
      appendFileSync(maillog, text([dovecotLogin(100, '203.0.113.50', MAILBOX)]));
      appendFileSync(mainlog, text(Array.from({ length: 96 }, (_, k) => sent(200 + k * 1800, '203.0.113.50'))));
      expect(await w.readAppended()).toEqual([]);
      const end = 200 + 96 * 1800;
      appendFileSync(mainlog, text(Array.from({ length: 16 }, (_, k) => sent(end + k, '198.51.100.66'))));
      const [t] = await w.readAppended();
      const owner = t?.addresses?.find((a) => a.ip === '203.0.113.50');
      expect(owner?.cls).toBe('owner');
      expect(owner?.messages).toBeLessThanOrEqual(2);
      expect(t?.inputs.ips).toBe('198.51.100.66');
    } finally {
      await w.stop();
    }
  });

  it('the addresses survive a restart from the saved state', async () => {
    const a = await Watcher.open(options());
    appendFileSync(maillog, text([dovecotLogin(10, '203.0.113.50', MAILBOX), dovecotLogin(11, '203.0.113.50', MAILBOX), dovecotLogin(12, '203.0.113.50', MAILBOX)]));
    expect(await a.readAppended()).toEqual([]);
    appendFileSync(mainlog, text([sent(20, '203.0.113.50'), ...Array.from({ length: 8 }, (_, k) => sent(30 + k, '198.51.100.70'))]));
    expect(await a.readAppended()).toEqual([]);
    await a.stop();
    const b = await Watcher.open(options());
    appendFileSync(mainlog, text(Array.from({ length: 7 }, (_, k) => sent(40 + k, '198.51.100.71'))));
    const [t] = await b.readAppended();
    await b.stop();
    expect(t?.inputs.ips).toBe('198.51.100.70,198.51.100.71');
    expect(t?.addresses?.find((x) => x.ip === '203.0.113.50')?.cls).toBe('owner');
  });
});
