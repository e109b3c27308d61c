import { describe, expect, it } from 'vitest';
import { InventoryError, parseInventory, selectHosts } from '../../src/fleet/inventory.js';

const OURS = `
vars:
  team: mail
hosts:
  web1:
    ssh_host: 192.0.2.10
    port: 2222
    user: admin
    identity_file: ~/.ssh/fleet
    become: true
    tools: { csf: /usr/local/sbin/csf }
    layout: { homeRoots: [/home, /home2], lockDir: /var/run/runbook.lock }
    vars: { tier: gold }
  web2:
    hostname: web2.example.net
    proxy_jump: bastion.example.net
  db1: {}
groups:
  web:
    hosts: [web1, web2]
    vars: { tier: silver, role: web }
  prod:
    children: [web]
    hosts: [db1]
    vars: { env: prod, role: any }
`;

const ANSIBLE = `
all:
  vars:
    ansible_user: root
  hosts:
    mx1:
      ansible_host: 198.51.100.7
      ansible_port: 2200
  children:
    cpanel:
      vars:
        ansible_ssh_private_key_file: /keys/cp
        ansible_become: yes
        ansible_become_user: root
      hosts:
        cp1:
          ansible_host: 198.51.100.8
        cp2:
      children:
        eu:
          hosts:
            cp3:
              ansible_user: ops
`;

describe('inventory (runbook format)', () => {
  const inv = parseInventory(OURS, 'fleet.yml');

  it('reads connection fields, tools and layout overrides', () => {
    expect(inv.format).toBe('runbook');
    const web1 = inv.hosts.find((h) => h.name === 'web1')!;
    expect(web1).toMatchObject({
      hostname: '192.0.2.10',
      port: 2222,
      user: 'admin',
      identityFile: '~/.ssh/fleet',
      become: {},
      tools: { csf: '/usr/local/sbin/csf' },
      layout: { homeRoots: ['/home', '/home2'], lockDir: '/var/run/runbook.lock' },
    });
    expect(inv.hosts.find((h) => h.name === 'web2')).toMatchObject({ hostname: 'web2.example.net', proxyJump: ['bastion.example.net'] });
    expect(inv.hosts.find((h) => h.name === 'db1')!.hostname).toBe('db1');
  });

  it('host vars override child group vars, which override parent group and global vars', () => {
    const web1 = inv.hosts.find((h) => h.name === 'web1')!;
    expect(web1.vars).toEqual({ team: 'mail', env: 'prod', role: 'web', tier: 'gold' });
    expect(web1.groups).toEqual(['prod', 'web']);
    expect(inv.hosts.find((h) => h.name === 'web2')!.vars.tier).toBe('silver');
    expect(inv.hosts.find((h) => h.name === 'db1')!.vars).toEqual({ team: 'mail', env: 'prod', role: 'any' });
  });

  it('selects by name, group, glob, exclusion and intersection, with , or : lists', () => {
    const names = (limit?: string) => selectHosts(inv, limit).map((h) => h.name);
    expect(names(undefined)).toEqual(['web1', 'web2', 'db1']);
    expect(names('web')).toEqual(['web1', 'web2']);
    expect(names('prod:!web1')).toEqual(['web2', 'db1']);
    expect(names('web*,db1')).toEqual(['web1', 'web2', 'db1']);
    expect(names('!db1')).toEqual(['web1', 'web2']);
    expect(names('prod,&web')).toEqual(['web1', 'web2']);
    expect(names('w?b2')).toEqual(['web2']);
  });

  it('a limit pattern that matches nothing is an error (a typo must not select a host)', () => {
    expect(() => selectHosts(inv, 'prod,!wbe1')).toThrow(/'!wbe1' matches no host or group in fleet.yml/);
  });

  it('reports bad inventories with file:line:col', () => {
    expect(() => parseInventory('hosts:\n  web1:\n    prot: 22\n', 'x.yml')).toThrow(/^x\.yml:3:5: host web1: unknown key 'prot'/);
    expect(() => parseInventory('hosts:\n  web1:\n    port: 99999\n', 'x.yml')).toThrow(/x\.yml:3:11: host web1: port must be a port number/);
    expect(() => parseInventory('hosts:\n  web1: {}\ngroups:\n  g:\n    hosts: [web9]\n', 'x.yml')).toThrow(/x\.yml:5:13: group g: unknown host 'web9'/);
    expect(() => parseInventory('hosts:\n  a: {}\ngroups:\n  g:\n    children: [g]\n', 'x.yml')).toThrow(/contains itself/);
    expect(() => parseInventory('hosts: [\n', 'x.yml')).toThrow(InventoryError);
    expect(() => parseInventory('hosts:\n  web1:\n    tools: { exim4: /x }\n', 'x.yml')).toThrow(/x\.yml:3:14: host web1: unknown tool 'exim4'/);
  });

  it("takes a host's webmail login logs as a list of paths", () => {
    const one = parseInventory('hosts:\n  web1:\n    layout: { webmailLogs: [/var/log/cpanel/session_log] }\n', 'x.yml');
    expect(one.hosts[0]!.layout).toEqual({ webmailLogs: ['/var/log/cpanel/session_log'] });
    expect(() => parseInventory('hosts:\n  web1:\n    layout: { webmailLogs: /x }\n', 'x.yml')).toThrow(/x\.yml:3:28: host web1: layout.webmailLogs must be a list of paths/);
  });
});

describe('inventory (Ansible YAML format)', () => {
  const inv = parseInventory(ANSIBLE, 'hosts.yml');

  it('maps ansible_* variables to connection fields, with group inheritance', () => {
    expect(inv.format).toBe('ansible');
    const byName = Object.fromEntries(inv.hosts.map((h) => [h.name, h]));
    expect(byName.mx1).toMatchObject({ hostname: '198.51.100.7', port: 2200, user: 'root' });
    expect(byName.mx1!.become).toBeUndefined();
    expect(byName.cp1).toMatchObject({ hostname: '198.51.100.8', user: 'root', identityFile: '/keys/cp', become: { user: 'root' } });
    expect(byName.cp2).toMatchObject({ hostname: 'cp2', identityFile: '/keys/cp' });
    expect(byName.cp3).toMatchObject({ user: 'ops', identityFile: '/keys/cp' });
    expect(byName.cp3!.groups).toEqual(['all', 'cpanel', 'eu']);
  });

  it('selects Ansible groups', () => {
    expect(selectHosts(inv, 'cpanel:!eu').map((h) => h.name)).toEqual(['cp1', 'cp2']);
    expect(selectHosts(inv, 'all').map((h) => h.name)).toEqual(['mx1', 'cp1', 'cp2', 'cp3']);
  });
});
