import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resetDemoHost } from '../../src/hosts/demo.js';
import { writeSpamIncidentLog } from '../audit-report/sample-log.js';
import { runCli } from './run-cli.js';

/**
 * One test per row of the README's exit-code table. Exit 5 (`audit verify` on a tampered log)
 * is proven in test/cli/apply.test.ts and test/audit-report/cli.test.ts, exit 7 (`watch` with a
 * corrupt state file) in test/watch/cli.test.ts, exit 130 in test/cli/interrupt.test.ts.
 */

async function workspace() {
  const base = mkdtempSync(join(tmpdir(), 'runbook-exit-'));
  await resetDemoHost(join(base, 'state', 'runbook', 'demo'));
  return { base, env: { XDG_STATE_HOME: join(base, 'state') }, auditDir: join(base, 'audit') };
}

/** A loopback port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const FAST = ['--var', 'watch_for=1s'];
const RAW_ERRNO = /ENOENT|EISDIR|EACCES|no such file or directory, open/;

describe('exit codes follow the README table', () => {
  it('0: a dry-run on the demo host', async () => {
    const w = await workspace();
    const r = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '--audit-dir', w.auditDir, ...FAST], { env: w.env });
    expect(r.code, r.stderr).toBe(0);
  });

  it('1: a host that cannot be reached fails the run', async () => {
    const w = await workspace();
    const inventory = join(w.base, 'fleet.yml');
    writeFileSync(inventory, `hosts:\n  web1:\n    ssh_host: 127.0.0.1\n    port: ${await closedPort()}\n`);
    const r = await runCli(['apply', 'playbooks/spam-incident.yml', '-i', inventory, '--dry-run', '--audit-dir', w.auditDir, '--known-hosts', join(w.base, 'known_hosts')], { env: w.env });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/\[web1\] planning failed: cannot connect to 127\.0\.0\.1/);
  });

  describe('2: bad playbook, inputs or flags, with what to do next', () => {
    it('a playbook that does not exist', async () => {
      const w = await workspace();
      const r = await runCli(['apply', join(w.base, 'nope.yml'), '--host', 'demo', '--dry-run', '--audit-dir', w.auditDir], { env: w.env });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`cannot read playbook ${join(w.base, 'nope.yml')}: no such file (check the path`);
      expect(r.stderr).not.toMatch(RAW_ERRNO);
    });

    it('an inventory file that does not exist', async () => {
      const w = await workspace();
      const r = await runCli(['apply', 'playbooks/spam-incident.yml', '-i', join(w.base, 'fleet.yml'), '--dry-run', '--audit-dir', w.auditDir], { env: w.env });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`cannot read inventory ${join(w.base, 'fleet.yml')}: no such file (check the path`);
      expect(r.stderr).not.toMatch(RAW_ERRNO);
    });

    it('an inventory that cannot be read, a directory without Ansible, or not YAML', async () => {
      const w = await workspace();
      // Under a regular file: unreadable even for root, whatever the machine has installed.
      const file = join(w.base, 'notes.txt');
      writeFileSync(file, 'not a directory\n');
      const unreadable = await runCli(['investigate', '-i', join(file, 'inventory.yml')], { env: w.env });
      expect(unreadable.code).toBe(2);
      expect(unreadable.stderr).toContain(`cannot read inventory ${join(file, 'inventory.yml')}: a part of the path is not a directory`);
      expect(unreadable.stderr).not.toMatch(RAW_ERRNO);
      // An inventory directory is Ansible's to read; with Ansible's reader off it is refused.
      const dir = join(w.base, 'inventory.d');
      mkdirSync(dir);
      const directory = await runCli(['investigate', '-i', dir], { env: { ...w.env, RUNBOOK_ANSIBLE_INVENTORY: 'off' } });
      expect(directory.code).toBe(2);
      expect(directory.stderr).toContain(`${dir} is a directory: inventory directories are read only through Ansible`);
      const broken = join(w.base, 'broken.yml');
      writeFileSync(broken, 'hosts: [\n');
      const notYaml = await runCli(['apply', 'playbooks/spam-incident.yml', '-i', broken, '--dry-run', '--audit-dir', w.auditDir], { env: w.env });
      expect(notYaml.code).toBe(2);
      expect(notYaml.stderr).toContain(`${broken}:`);
    });

    it('a --limit that matches no host names the hosts and groups there are', async () => {
      const w = await workspace();
      const inventory = join(w.base, 'fleet.yml');
      writeFileSync(inventory, 'hosts:\n  web1: { ssh_host: 192.0.2.10 }\n  web2: { ssh_host: 192.0.2.11 }\ngroups:\n  web: { hosts: [web1, web2] }\n');
      const r = await runCli(['apply', 'playbooks/spam-incident.yml', '-i', inventory, '-l', 'wbe*', '--dry-run', '--audit-dir', w.auditDir], { env: w.env });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--limit: 'wbe*' matches no host or group in ${inventory}; it has hosts web1, web2 and groups web`);
    });

    it('an unknown flag', async () => {
      const r = await runCli(['actions', '--frobnicate']);
      expect(r.code).toBe(2);
    });
  });

  it('3: stopped at a gate with no terminal and no --yes', async () => {
    const w = await workspace();
    const r = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--audit-dir', w.auditDir, ...FAST], { env: w.env });
    expect(r.code, r.stderr).toBe(3);
  });

  it('4: --approve with a hash the fresh plan does not have', async () => {
    const w = await workspace();
    const r = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--approve', '0000000000000000', '--audit-dir', w.auditDir, ...FAST], { env: w.env });
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/Nothing was changed/);
  });

  it('6: audit attach without credentials keeps the report and says which variable to set', async () => {
    const w = await workspace();
    const credentials = join(w.base, 'credentials.yml');
    writeFileSync(credentials, '', { mode: 0o600 });
    const r = await runCli(['audit', 'attach', writeSpamIncidentLog(), '--to', 'github:acme/infra#1'], {
      env: { ...w.env, RUNBOOK_CREDENTIALS: credentials, RUNBOOK_GITHUB_TOKEN: '', GITHUB_TOKEN: '' },
    });
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toContain('RUNBOOK_GITHUB_TOKEN');
  });
});
