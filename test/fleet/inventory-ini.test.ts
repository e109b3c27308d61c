import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Inventory } from '../../src/fleet/inventory.js';
import { findAnsibleInventory } from '../../src/fleet/inventory-ansible.js';
import { expandHostPattern, parseIniInventory } from '../../src/fleet/inventory-ini.js';
import { loadInventory } from '../../src/fleet/inventory-load.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'ansible-ini', 'hosts.ini');
const ansible = findAnsibleInventory();

/** What a run uses of each host: where to connect, as whom, its groups and its vars. */
function essentials(inv: Inventory) {
  return Object.fromEntries(
    [...inv.hosts]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((h) => [h.name, { hostname: h.hostname, port: h.port, user: h.user, identityFile: h.identityFile, become: h.become, groups: [...h.groups].sort(), vars: h.vars }]),
  );
}

describe('Ansible INI inventory with group_vars/ and host_vars/ (runbook\'s own reader)', async () => {
  const inv = await loadInventory(FIXTURE, { ansibleInventory: null });

  it('reads hosts, ranges, host:port and Ansible connection variables', () => {
    expect(inv).toMatchObject({ format: 'ansible', reader: 'builtin' });
    expect(inv.hosts.map((h) => h.name)).toEqual(['mx0', 'cp01', 'cp02', 'cp03', 'cp-legacy', 'mxa.example.net', 'mxb.example.net']);
    const e = essentials(inv);
    expect(e.mx0).toMatchObject({ hostname: '192.0.2.9', user: 'ops', groups: ['all', 'ungrouped'] });
    expect(e['cp-legacy']).toMatchObject({ hostname: '192.0.2.50', port: 2202, user: 'admin', become: { user: 'root' } });
    expect(e.cp02).toMatchObject({ hostname: '192.0.2.1', port: 2022, identityFile: '~/.ssh/cp02', groups: ['all', 'cpanel', 'eu'] });
    expect(e['mxb.example.net']).toMatchObject({ hostname: 'mxb.example.net', port: 2200, user: 'admin' });
  });

  it('types values as Ansible does and layers vars in its order of precedence', () => {
    const legacy = inv.hosts.find((h) => h.name === 'cp-legacy')!;
    expect(legacy.vars).toMatchObject({ note: 'old box', weight: 1.5, active: true, limit: 500, ansible_become: true });
    // [all:vars] < [eu:vars] (the file's group vars) < group_vars/all < group_vars/eu < group_vars/cpanel.
    expect(legacy.vars).toMatchObject({ team: 'postmaster', site: 'dc1', region: 'eu-west', role: 'cpanel' });
    expect(inv.hosts.find((h) => h.name === 'mxa.example.net')!.vars.listed).toEqual([1, 2]);
    // Groups of one depth apply in name order, whatever order the file declares them in.
    expect(inv.hosts.find((h) => h.name === 'cp01')!.vars.shade).toBe('cpanel');
  });
});

describe.runIf(ansible !== undefined || process.env.CI)('runbook\'s reader agrees with ansible-inventory', () => {
  it('gives the same hosts, connection settings, groups and vars for the same INI inventory', async () => {
    if (!ansible) throw new Error("ansible-inventory is missing: install ansible-core (apt-get install ansible-core)");
    const ours = await loadInventory(FIXTURE, { ansibleInventory: null });
    const theirs = await loadInventory(FIXTURE, { ansibleInventory: ansible });
    expect(theirs.reader).toBe('ansible-inventory');
    expect(essentials(ours)).toEqual(essentials(theirs));
  }, 60_000);

  it('is the reader loadInventory prefers when it is installed', async () => {
    expect((await loadInventory(FIXTURE)).reader).toBe(process.env.RUNBOOK_ANSIBLE_INVENTORY === 'off' ? 'builtin' : 'ansible-inventory');
  }, 60_000);
});

describe('runbook\'s INI reader refuses what it cannot read as Ansible would, at file:line', () => {
  const dir = mkdtemp(join(tmpdir(), 'runbook-ini-'));
  afterAll(async () => rm(await dir, { recursive: true, force: true }));

  it.each([
    ['[web:hostvars]\n', /h\.ini:1: section \[web:hostvars\]: only :vars and :children/],
    ['[web]\nweb1 ansible_port\n', /h\.ini:2: expected key=value host variable, got "ansible_port"/],
    ['[web]\nweb1 ports=[22,2222]\n', /h\.ini:2: ports: Python lists, dicts and tuples .* group_vars\//],
    ['[web]\nweb[3:1]\n', /h\.ini:2: host range \[3:1\] runs backwards/],
    ['[web]\nweb1\n[db:vars]\nx=1\n', /h\.ini:3: \[db:vars\] is for a group that has no \[db\] section/],
    ['[web:vars]\njust-a-word\n[web]\n', /h\.ini:2: expected key=value in \[web:vars\]/],
    ['[web]\nweb1 note="unterminated\n', /h\.ini:2: unterminated " quote/],
  ])('%j', (text, message) => {
    expect(() => parseIniInventory(text, 'h.ini')).toThrow(message);
  });

  it('refuses an inventory directory or a plugin file without ansible-inventory, saying what to install', async () => {
    const d = await dir;
    await expect(loadInventory(d, { ansibleInventory: null })).rejects.toThrow(/inventory directories are read only through Ansible; install ansible-core/);
    await writeFile(join(d, 'aws.yml'), 'plugin: amazon.aws.aws_ec2\n');
    await expect(loadInventory(join(d, 'aws.yml'), { ansibleInventory: null })).rejects.toThrow(/aws\.yml:1:9: inventory plugins \(plugin:\) are read only through Ansible/);
  });

  it('finds group_vars/host_vars beside the file, not beside the working directory', async () => {
    const d = await dir;
    await cp(join(import.meta.dirname, 'fixtures', 'ansible-ini'), join(d, 'copy'), { recursive: true });
    const inv = await loadInventory(join(d, 'copy', 'hosts.ini'), { ansibleInventory: null });
    expect(inv.hosts.find((h) => h.name === 'cp02')!.port).toBe(2022);
  });

  it('expands ranges with padding, letters and steps', () => {
    expect(expandHostPattern('web[01:03]', 'x')).toEqual(['web01', 'web02', 'web03']);
    expect(expandHostPattern('db-[a:c].example', 'x')).toEqual(['db-a.example', 'db-b.example', 'db-c.example']);
    expect(expandHostPattern('n[0:10:5]-[1:2]', 'x')).toEqual(['n0-1', 'n0-2', 'n5-1', 'n5-2', 'n10-1', 'n10-2']);
  });
});
