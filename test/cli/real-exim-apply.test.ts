import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireExim, startEximHost, type EximTestHost } from '../support/exim.js';
import { hashHostState } from '../support/state-hash.js';
import { runCli } from './run-cli.js';

/**
 * The shipped spam-incident playbook, through the CLI, against a real Exim queue (Debian's
 * exim4, messages queued through SMTP AUTH and sendmail) with the cPanel/CSF simulator.
 */
describe.runIf(requireExim())('spam-incident against a real Exim queue', () => {
  let host: EximTestHost;
  let base: string;
  let inventory: string;
  const args = () => ['playbooks/spam-incident.yml', '-i', inventory, '--var', 'min_messages=10', '--var', 'watch_for=1s', '--audit-dir', join(base, 'audit')];

  beforeAll(async () => {
    host = await startEximHost({ sizes: { spam: 24, script: 14, legit: 5, bounces: 3, frozen: 2 } });
    base = mkdtempSync(join(tmpdir(), 'runbook-real-exim-'));
    inventory = join(base, 'inventory.yml');
    writeFileSync(
      inventory,
      JSON.stringify({
        hosts: {
          mail1: {
            hostname: 'local',
            tools: host.info.tools,
            layout: { ...host.info.layout, lockDir: join(host.root, 'var/sim/runbook.lock') },
            vars: { allow_documentation_ips: true },
          },
        },
      }),
    );
  });
  afterAll(async () => {
    await host?.stop();
  });

  const shadowPath = () => join(host.root, 'home', host.manifest!.cpanelUser, 'etc', host.manifest!.domain, 'shadow');

  it('a dry-run shows the exact commands and changes nothing', async () => {
    const before = hashHostState(host.root);
    const r = await runCli(['apply', ...args(), '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`'-Mrm'`);
    expect(r.stdout).toContain(`'chmod' '000' '--'`);
    expect(hashHostState(host.root)).toBe(before);
  });

  it('removes exactly the flagged senders’ messages, disables the script, blocks the IPs, resets the password unseen', async () => {
    const manifest = host.manifest!;
    const queued = await host.queueIds();
    // The mailbox and the script are both above the threshold: both senders' mail goes.
    const spam = new Set([...manifest.messages.spammer, ...manifest.messages.script]);
    expect(spam.size).toBeGreaterThan(0);
    const shadowBefore = readFileSync(shadowPath(), 'utf8');
    const secrets = join(base, 'secrets.tsv');

    const r = await runCli(['apply', ...args(), '--yes', '--secrets-file', secrets]);
    expect(r.code, r.stdout + r.stderr).toBe(0);

    const remaining = await host.queueIds();
    expect(remaining.sort()).toEqual(queued.filter((id) => !spam.has(id)).sort());
    expect(statSync(manifest.script.path).mode & 0o777).toBe(0);
    const deny = readFileSync(join(host.info.layout.csfDir, 'csf.deny'), 'utf8');
    for (const ip of [...manifest.attackerIps, manifest.scriptIp]) expect(deny).toContain(ip);
    const shadowAfter = readFileSync(shadowPath(), 'utf8');
    const local = manifest.mailbox.split('@')[0]!;
    const line = (text: string) => text.split('\n').find((l) => l.startsWith(`${local}:`));
    expect(line(shadowAfter)).toMatch(/^[^:]+:\$6\$/);
    expect(line(shadowAfter)).not.toBe(line(shadowBefore));

    const password = readFileSync(secrets, 'utf8').trim().split('\t').at(-1)!;
    expect(password).toMatch(/^[A-Za-z0-9]{16,}$/);
    const auditDir = join(base, 'audit');
    const logs = readdirSync(auditDir).filter((f) => f.endsWith('.jsonl')).map((f) => readFileSync(join(auditDir, f), 'utf8'));
    for (const sink of [r.stdout, r.stderr, ...logs, readFileSync(host.info.callLog, 'utf8')]) expect(sink).not.toContain(password);
  });

  it('a second apply finds nothing left to do', async () => {
    const r = await runCli(['apply', ...args(), '--yes', '--json']);
    const out = JSON.parse(r.stdout) as { hosts: { status: string }[]; plan: { step: string; noop?: boolean; skipped?: string }[] };
    expect(out.hosts[0]?.status, r.stderr).not.toBe('failed');
    const disable = out.plan.filter((p) => p.step === 'disable_scripts');
    expect(disable.every((p) => p.noop === true || p.skipped !== undefined)).toBe(true);
  });
});
