import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireExim, startEximHost, type EximTestHost } from '../support/exim.js';
import { runCli } from './run-cli.js';

/**
 * Spammers write subjects, paths and headers. Queue real messages whose every field tries shell
 * injection and terminal escapes, then investigate and contain: nothing may execute and no
 * escape may reach the operator's terminal.
 */
describe.runIf(requireExim())('hostile queue content is data', () => {
  let host: EximTestHost;
  let base: string;
  let inventory: string;
  let canary: string;

  beforeAll(async () => {
    host = await startEximHost({ sizes: { spam: 12, script: 3, legit: 2, bounces: 1, frozen: 0 } });
    base = mkdtempSync(join(tmpdir(), 'runbook-hostile-'));
    canary = join(base, 'pwned');
    const sender = host.manifest!.mailbox;
    const hostile = [
      `$(touch ${canary}-1)`,
      `\`touch ${canary}-2\``,
      `"; touch ${canary}-3; echo "`,
      `'$(touch ${canary}-4)'`,
      '\u001b]0;owned\u0007\u001b[2J\u001b[31mRED',
    ];
    for (const [i, text] of hostile.entries()) {
      const message = [
        `From: ${sender}`,
        `To: victim${i}@remote.test`,
        `Subject: ${text}`,
        `X-PHP-Script: ${host.manifest!.domain}/wp-content/${text.replace(/\s/g, '')}.php for 203.0.113.99`,
        '',
        `body ${text}`,
        '',
      ].join('\n');
      const r = await host.exim(['-odq', '-f', sender, '-t'], { input: message });
      expect(r.code, r.stderr).toBe(0);
    }
    inventory = join(base, 'inventory.yml');
    writeFileSync(
      inventory,
      JSON.stringify({
        hosts: { mail1: { hostname: 'local', tools: host.info.tools, layout: { ...host.info.layout, lockDir: join(host.root, 'var/sim/runbook.lock') }, vars: { allow_documentation_ips: true } } },
      }),
    );
  });
  afterAll(async () => {
    await host?.stop();
  });

  const noCanary = () => {
    for (let i = 1; i <= 4; i += 1) expect(existsSync(`${canary}-${i}`), `${canary}-${i} exists: something executed hostile text`).toBe(false);
  };

  it('investigate shows the hostile subjects without executing or emitting them raw', async () => {
    const r = await runCli(['investigate', '-i', inventory, '--min-messages', '1', '--audit-dir', join(base, 'audit')]);
    expect(r.code, r.stderr).toBe(0);
    noCanary();
    expect(r.stdout + r.stderr).not.toContain('\u001b');
    expect(r.stdout + r.stderr).not.toContain('\u0007');
  });

  it('containment purges them as data; the plan and outcome never carry raw escapes', async () => {
    const r = await runCli(['apply', 'playbooks/spam-incident.yml', '-i', inventory, '--yes', '--var', 'min_messages=5', '--var', 'watch_for=1s', '--audit-dir', join(base, 'audit')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    noCanary();
    expect(r.stdout + r.stderr).not.toContain('\u001b');
    const left = (await host.exim(['-bp'])).stdout;
    expect(left).not.toContain(host.manifest!.mailbox);
  });
});
