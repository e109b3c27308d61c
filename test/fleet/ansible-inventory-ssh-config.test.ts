import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIncident, type IncidentManifest } from '../../fixtures/generator/incident.mjs';
import type { AuditRecord } from '../../src/audit/records.js';
import { findExecutable } from '../../src/core/find-executable.js';
import { runCli } from '../cli/run-cli.js';
import { startSshHosts, sshAvailable, type SshTestFleet } from '../support/ssh-hosts.js';

/**
 * What an operator already has, end to end against two real sshd hosts on loopback: an Ansible
 * INI inventory naming the hosts, group_vars/ and host_vars/ beside it, and an ssh_config whose
 * HostName, Port, User and IdentityFile come from a file it Includes. Nothing in the inventory
 * says where the hosts listen: only OpenSSH's reading of the config gets there.
 */
describe.runIf(sshAvailable || process.env.CI)('Ansible INI inventory + ssh_config with Include, through the CLI', () => {
  let fleet: SshTestFleet;
  const manifests = new Map<string, IncidentManifest>();
  let base: string;
  let inventory: string;
  let sshConfig: string;
  const env = (extra: Record<string, string> = {}): Record<string, string> => ({ HOME: join(base, 'home'), SSH_AUTH_SOCK: '', RUNBOOK_SSH_CONFIG: sshConfig, ...extra });

  beforeAll(async () => {
    if (!findExecutable('ssh')) throw new Error('ssh (OpenSSH client) is missing: apt-get install openssh-client');
    fleet = await startSshHosts(2, {
      namePrefix: 'ini',
      prepare: async ({ name, root, index }) => {
        manifests.set(name, await generateIncident({ root, mode: 'synthetic', sizes: { spam: 16, script: 12, legit: 4, bounces: 2, frozen: 1 }, seed: 700 + index }));
      },
    });
    base = mkdtempSync(join(tmpdir(), 'runbook-ini-ssh-'));
    mkdirSync(join(base, 'home'));
    mkdirSync(join(base, 'ssh', 'conf.d'), { recursive: true });
    mkdirSync(join(base, 'inv', 'group_vars'), { recursive: true });
    mkdirSync(join(base, 'inv', 'host_vars'), { recursive: true });
    // The config itself only includes; the included file says where each host is.
    sshConfig = join(base, 'ssh', 'config');
    writeFileSync(sshConfig, `Include ${join(base, 'ssh', 'conf.d')}/*.conf\n\nHost *\n  User nobody-by-default\n`);
    writeFileSync(
      join(base, 'ssh', 'conf.d', 'fleet.conf'),
      fleet.hosts.map((h) => `Host mx-${h.name}\n  HostName 127.0.0.1\n  Port ${h.port}\n  User root\n`).join('\n'),
    );
    inventory = join(base, 'inv', 'hosts');
    writeFileSync(inventory, `[cpanel]\n${fleet.hosts.map((h) => `mx-${h.name}`).join('\n')}\n\n[mail:children]\ncpanel\n`);
    writeFileSync(join(base, 'inv', 'group_vars', 'mail.yml'), `ansible_ssh_private_key_file: ${fleet.clientKey}\n`);
    for (const h of fleet.hosts) {
      const tools = manifests.get(h.name)!.tools;
      writeFileSync(join(base, 'inv', 'host_vars', `mx-${h.name}.yml`), Object.entries(tools).map(([k, v]) => `runbook_tool_${k}: ${v}\n`).join(''));
    }
  }, 120_000);

  afterAll(async () => {
    await fleet?.stop();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  const investigate = (extraEnv: Record<string, string> = {}) =>
    runCli(['apply', 'playbooks/investigate.yml', '-i', inventory, '-l', 'mail', '--known-hosts', fleet.knownHostsFile, '--audit-dir', join(base, 'audit'), '--json', '--var', 'min_messages=8'], {
      env: env(extraEnv),
      timeoutMs: 90_000,
    });

  it.each([['ansible-inventory', {}], ["runbook's own INI reader", { RUNBOOK_ANSIBLE_INVENTORY: 'off' }]])(
    'with %s, each host is reached through the included config and finds its own compromised mailbox',
    async (_reader, extra) => {
      if (!('RUNBOOK_ANSIBLE_INVENTORY' in extra) && !findExecutable('ansible-inventory')) throw new Error('ansible-inventory is missing: apt-get install ansible-core');
      const r = await investigate(extra);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { auditLog: string; hosts: Array<{ host: string; status: string }> };
      expect(out.hosts.map((h) => [h.host, h.status]).sort()).toEqual(fleet.hosts.map((h) => [`mx-${h.name}`, 'ok']).sort());
      for (const m of manifests.values()) expect(r.stdout).toContain(m.mailbox);
      const log = readFileSync(out.auditLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
      expect(log.filter((x) => x.type === 'host.finish').length).toBe(2);
    },
    90_000,
  );

  it("without OpenSSH's client the same config is refused at its Include line, and nothing is run", async () => {
    const r = await investigate({ RUNBOOK_SSH: 'off' });
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain(`${sshConfig}:1: Include`);
    expect(r.stdout + r.stderr).toMatch(/install OpenSSH's client/);
  }, 90_000);
});
