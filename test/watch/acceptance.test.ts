// The watcher from end to end, as an operator installs it: a burst of spam sent through Debian's
// real Exim (SMTP AUTH sessions, cPanel's log selectors) lands in Exim's own main log;
// `runbook watch --once` with the shipped response playbooks trips on it, holds the mailbox and
// freezes its queued mail unattended, changes nothing irreversible, and tells a webhook on
// 127.0.0.1 the exact approve command; that command, pasted into a shell, finishes the incident.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/records.js';
import { REPO, runCli } from '../cli/run-cli.js';
import { requireExim, startEximHost, type EximTestHost } from '../support/exim.js';
import { runPasted, startHook } from '../support/operator.js';

function records(path: string): AuditRecord[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
}

// Three runs of the built CLI against real Exim: minutes on a loaded machine.
describe.runIf(requireExim())('runbook watch on a burst through real Exim', { timeout: 240_000 }, () => {
  let host: EximTestHost;
  let base: string;
  let hook: Awaited<ReturnType<typeof startHook>>;

  beforeAll(async () => {
    host = await startEximHost({ sizes: { spam: 24, script: 0, legit: 5, bounces: 0, frozen: 0 } });
    base = mkdtempSync(join(tmpdir(), 'runbook-watch-accept-'));
    hook = await startHook(200);
  });
  afterAll(async () => {
    await hook?.stop();
    await host?.stop();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('trips, holds and freezes unattended, notifies the approve command, and approving finishes the incident', async () => {
    const m = host.manifest!;
    const inventory = join(base, 'inventory.yml');
    writeFileSync(inventory, JSON.stringify({ hosts: { mail1: { hostname: 'local', tools: host.info.tools, layout: { ...host.info.layout, lockDir: join(host.root, 'var/sim/runbook.lock') }, vars: { allow_documentation_ips: true } } } }));
    const config = join(base, 'watch.yml');
    writeFileSync(config, [
      `logs: { mainlog: ${JSON.stringify(host.info.mainlog)} }`,
      'state: state/watch.json',
      'start_at: beginning',
      'response:',
      `  contain_playbook: ${join(REPO, 'playbooks/watch-contain.yml')}`,
      `  finish_playbook: ${join(REPO, 'playbooks/watch-finish.yml')}`,
      '  hold_for: 4h',
      '  audit_dir: audit',
      '  host: mail1',
      `  inventory: ${inventory}`,
      `  notify: [ "webhook:${hook.url}/incident" ]`,
      '',
    ].join('\n'));
    const shadowPath = join(host.root, 'home', m.cpanelUser, 'etc', m.domain, 'shadow');
    const shadowBefore = readFileSync(shadowPath, 'utf8');
    const queuedBefore = (await host.queueIds()).sort();
    const env = { XDG_STATE_HOME: join(base, 'xdg') };

    const watched = await runCli(['watch', '--config', config, '--once', '--json'], { env });
    expect(watched.code, watched.stdout + watched.stderr).toBe(0);
    const lines = watched.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const triggers = lines.filter((l) => l.type === 'trigger');
    expect(triggers).toHaveLength(1);
    expect(triggers[0]).toMatchObject({ trigger: { rule: 'compromised-mailbox', key: { kind: 'auth_id', value: m.mailbox.toLowerCase() } } });
    const outcome = lines.find((l) => l.type === 'outcome')!.outcome as { status: string; auditLog: string; approveCommand: string; notified: string[] };
    expect(outcome.status).toBe('contained');

    // Held and frozen; nothing irreversible: same password, every message still queued.
    const held = readFileSync(join(host.info.layout.emailSendLimitsDir!, 'users', m.cpanelUser, 'suspensions.json'), 'utf8');
    expect(held).toContain(m.mailbox.split('@')[0]!);
    expect(readFileSync(shadowPath, 'utf8')).toBe(shadowBefore);
    expect((await host.queueIds()).sort()).toEqual(queuedBefore);
    const listed = (await host.exim(['-bp'])).stdout;
    const frozen = new Set([...listed.matchAll(/^\s*\d+[mhd]\s+\S*\s+(\S+) <[^>]*> \*\*\* frozen \*\*\*/gm)].map((f) => f[1]));
    expect(m.messages.spammer.filter((id) => !frozen.has(id))).toEqual([]);
    const finished = records(outcome.auditLog).filter((r) => r.type === 'step.finish');
    expect(finished.some((r) => r.type === 'step.finish' && (r.irreversible ?? []).length > 0)).toBe(false);

    // The webhook has the exact command; pasted, it finishes the incident.
    expect(hook.received).toHaveLength(1);
    const body = JSON.parse(hook.received[0]!.body) as { pending: { command: string } };
    expect(body.pending.command).toBe(outcome.approveCommand);
    const finish = await runPasted(outcome.approveCommand, env);
    expect(finish.code, finish.stdout + finish.stderr).toBe(0);
    expect(readFileSync(shadowPath, 'utf8')).not.toBe(shadowBefore);
    const spam = new Set(m.messages.spammer);
    expect((await host.queueIds()).filter((id) => spam.has(id))).toEqual([]);

    // The next cron run finds nothing new: the trip is not repeated.
    const again = await runCli(['watch', '--config', config, '--once', '--json'], { env });
    expect(again.code).toBe(0);
    expect(again.stdout.split('\n').filter((l) => l.includes('"type":"trigger"'))).toEqual([]);
  });
});
