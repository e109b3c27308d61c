/**
 * Fleet dry-run benchmark: the five read-only detection commands on 20 and 50 loopback sshd
 * hosts, run by (a) runbook's fleet layer, (b) Ansible (forks = host count, no facts) and
 * (c) the floor: one OpenSSH session per host, all at once (xargs -P).
 * Run: npx tsc -p tsconfig.build.json && npx vitest run --config bench/fleet/vitest.config.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { quoteArgvForPosixShell } from '../../src/transport/quote.js';
import { startSshHosts, type SshTestFleet } from '../../test/support/ssh-hosts.js';

const SIZES = (process.env.BENCH_SIZES ?? '20,50').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const repo = join(import.meta.dirname, '..', '..');
const commands = JSON.parse(readFileSync(join(import.meta.dirname, 'commands.json'), 'utf8')) as string[][];

let fleet: SshTestFleet;

const MAINLOG = Array.from(
  { length: 200 },
  (_, i) =>
    `2026-11-22 10:${String(i % 60).padStart(2, '0')}:00 1vAbCd-000${String(i).padStart(3, '0')}-Zz <= user${i % 7}@example.com U=user${i % 7} P=local S=1234 T="Offer ${i % 5}" for x${i}@example.net`,
).join('\n');

beforeAll(async () => {
  fleet = await startSshHosts(Math.max(...SIZES), {
    namePrefix: 'bench',
    prepare: async ({ root }) => {
      mkdirSync(join(root, 'var/spool/exim4/input'), { recursive: true });
      mkdirSync(join(root, 'var/spool/exim4/msglog'), { recursive: true });
      spawnSync('chown', ['-R', 'Debian-exim:Debian-exim', join(root, 'var/spool/exim4')]);
      writeFileSync(join(root, 'var/log/exim4/mainlog'), `${MAINLOG}\n`);
    },
  });
});
afterAll(async () => {
  await fleet?.stop();
});

interface Measured {
  wallMs: number;
  maxRssKb: number;
  stdout: string;
  ok: boolean;
}

/** Wall time and peak RSS (largest process of the tree, GNU time) of one command. */
function measure(argv: string[], env: Record<string, string> = {}): Measured {
  const started = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', ...argv], {
    cwd: repo,
    env: { ...process.env, ...env },
    maxBuffer: 256 * 1024 * 1024,
  });
  const wallMs = performance.now() - started;
  const stderr = r.stderr.toString();
  const rss = Number(stderr.trim().split('\n').at(-1));
  return { wallMs, maxRssKb: rss, stdout: r.stdout.toString(), ok: r.status === 0 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function setup(n: number) {
  const dir = join(fleet.dir, `bench-${n}`);
  mkdirSync(dir, { recursive: true });
  const hosts = fleet.hosts.slice(0, n);
  const inventory = join(dir, 'inventory.yml');
  writeFileSync(
    inventory,
    ['hosts:', ...hosts.map((h) => `  ${h.name}:\n    ssh_host: 127.0.0.1\n    port: ${h.port}\n    user: root\n    identity_file: ${fleet.clientKey}`)].join('\n'),
  );
  const ansibleInventory = join(dir, 'ansible.yml');
  writeFileSync(
    ansibleInventory,
    [
      'all:',
      '  vars:',
      '    ansible_user: root',
      '    ansible_host: 127.0.0.1',
      `    ansible_ssh_private_key_file: ${fleet.clientKey}`,
      `    ansible_ssh_common_args: "-o UserKnownHostsFile=${fleet.knownHostsFile} -o StrictHostKeyChecking=yes"`,
      '    ansible_python_interpreter: /usr/bin/python3',
      '  hosts:',
      ...hosts.map((h) => `    ${h.name}: { ansible_port: ${h.port} }`),
    ].join('\n'),
  );
  const playbook = join(dir, 'detect.yml');
  writeFileSync(
    playbook,
    [
      '- hosts: all',
      '  gather_facts: false',
      '  tasks:',
      ...commands.map((argv, i) => `    - name: detect ${i + 1}\n      command:\n        argv: ${JSON.stringify(argv)}\n      changed_when: false`),
    ].join('\n'),
  );
  const cfg = join(dir, 'ansible.cfg');
  writeFileSync(cfg, ['[defaults]', `forks = ${n}`, 'host_key_checking = True', 'stdout_callback = default', '[ssh_connection]', 'pipelining = True'].join('\n'));
  const ports = join(dir, 'ports');
  writeFileSync(ports, `${hosts.map((h) => h.port).join('\n')}\n`);
  // One session per host runs the same five commands, quoted the same way runbook does.
  const remote = commands.map((argv) => quoteArgvForPosixShell(argv)).join('; ');
  const floor = [
    'xargs', '-P', String(n), '-I', '{}',
    'ssh', '-q', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${fleet.knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes',
    '-i', fleet.clientKey, '-p', '{}', 'root@127.0.0.1', remote,
  ];
  return { hosts, inventory, ansibleInventory, playbook, cfg, ports, floor };
}

it('fleet dry-run: runbook vs Ansible vs one OpenSSH session per host', () => {
  const rows: Array<Record<string, number>> = [];
  for (const n of SIZES) {
    const s = setup(n);
    const runbook: Measured[] = [];
    const ansible: Measured[] = [];
    const floor: Measured[] = [];
    let bytesPerHost = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const rb = measure(['node', 'bench/fleet/control.mjs', s.inventory, fleet.knownHostsFile, String(n)]);
      expect(rb.ok).toBe(true);
      const parsed = JSON.parse(rb.stdout) as { results: Array<{ status: string; bytesIn: number; bytesOut: number }> };
      expect(parsed.results.filter((r) => r.status !== 'ok')).toEqual([]);
      bytesPerHost = median(parsed.results.map((r) => r.bytesIn + r.bytesOut));
      runbook.push(rb);
      const an = measure(['ansible-playbook', '-i', s.ansibleInventory, s.playbook], { ANSIBLE_CONFIG: s.cfg, ANSIBLE_NOCOLOR: '1' });
      expect(an.ok, an.stdout.slice(-2000)).toBe(true);
      ansible.push(an);
      const fl = measure(['sh', '-c', 'exec "$@" < "$0"', s.ports, ...s.floor]);
      expect(fl.ok).toBe(true);
      floor.push(fl);
    }
    rows.push({
      hosts: n,
      runbookMs: median(runbook.map((m) => m.wallMs)),
      ansibleMs: median(ansible.map((m) => m.wallMs)),
      floorMs: median(floor.map((m) => m.wallMs)),
      runbookRssKb: median(runbook.map((m) => m.maxRssKb)),
      ansibleRssKb: median(ansible.map((m) => m.maxRssKb)),
      floorRssKb: median(floor.map((m) => m.maxRssKb)),
      bytesPerHost,
    });
  }
  mkdirSync(join(repo, 'bench', 'out'), { recursive: true });
  writeFileSync(join(repo, 'bench', 'out', 'fleet.json'), `${JSON.stringify({ rounds: ROUNDS, rows }, null, 2)}\n`);
  console.log(JSON.stringify(rows, null, 2));
});
