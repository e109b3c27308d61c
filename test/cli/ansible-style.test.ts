import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { extraVars, renderHostListing } from '../../src/cli/ansible-style.js';
import { listTargets } from '../../src/cli/targets.js';
import { findExecutable } from '../../src/core/find-executable.js';
import { resetDemoHost } from '../../src/hosts/demo.js';
import { runCli } from './run-cli.js';

const INI = join(import.meta.dirname, '..', 'fleet', 'fixtures', 'ansible-ini', 'hosts.ini');
const TAGGED = join(import.meta.dirname, 'fixtures', 'tagged.yml');
const FAST = ['--var', 'watch_for=1s'];

async function freshDemo() {
  const base = mkdtempSync(join(tmpdir(), 'runbook-ansible-style-'));
  await resetDemoHost(join(base, 'state', 'runbook', 'demo'));
  return { base, env: { XDG_STATE_HOME: join(base, 'state') }, auditDir: join(base, 'audit') };
}

interface PlanJson {
  planHash: string;
  exitCode: number;
  plan: Array<{ step: string }>;
}

describe('Ansible-style flags on runbook apply', () => {
  beforeAll(() => {
    expect(existsSync(join(process.cwd(), 'dist/cli/main.js')), 'run `npm run build` first (npm test does)').toBe(true);
  });

  it.runIf(findExecutable('ssh') !== undefined || process.env.CI)('--list-hosts prints each host as it would be reached, from ssh_config too, and connects to nothing', async () => {
    const base = mkdtempSync(join(tmpdir(), 'runbook-list-hosts-'));
    mkdirSync(join(base, 'conf.d'));
    writeFileSync(join(base, 'conf.d', 'mx.conf'), 'Host mxa.example.net\n  HostName 10.9.9.9\n  Port 2299\n  IdentityFile /keys/mxa\n  ProxyJump jump@bastion.example.net:2200\n');
    writeFileSync(join(base, 'config'), `Include ${join(base, 'conf.d')}/*.conf\n`);
    const env = { RUNBOOK_SSH_CONFIG: join(base, 'config'), RUNBOOK_ANSIBLE_INVENTORY: 'off' };
    const r = await runCli(['apply', 'playbooks/spam-incident.yml', '-i', INI, '-l', 'mxa.example.net,cp02', '--list-hosts', '--audit-dir', join(base, 'audit')], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      'hosts (2):\n' +
        '  cp02  admin@192.0.2.1:2022  keys ' + join(process.env.HOME ?? '', '.ssh', 'cp02') + '  become root\n' +
        // The inventory's ansible_port wins over the config's Port, as with Ansible.
        '  mxa.example.net  admin@10.9.9.9:2200  via jump@bastion.example.net:2200  keys /keys/mxa\n',
    );
    // No run happened: no audit log, and the 192.0.2.0/24 documentation addresses were never dialled (it returned).
    expect(existsSync(join(base, 'audit'))).toBe(false);
    const json = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--list-hosts', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ ok: true, hosts: [{ name: 'demo', kind: 'demo' }] });
  });

  it('-e NAME=VALUE and -e @FILE set inputs exactly as --var does: the plan hash is the same', async () => {
    const demo = await freshDemo();
    const plan = async (args: string[]) => {
      const r = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '--json', '--audit-dir', demo.auditDir, ...args], { env: demo.env });
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as PlanJson).planHash;
    };
    const file = join(demo.base, 'inputs.yml');
    writeFileSync(file, 'watch_for: 1s\nmin_messages: 50\n');
    const byVar = await plan(['--var', 'watch_for=1s', '--var', 'min_messages=50']);
    expect(await plan(['-e', 'watch_for=1s', '--extra-vars', 'min_messages=50'])).toBe(byVar);
    expect(await plan(['-e', `@${file}`])).toBe(byVar);
  });

  it('-v logs steps with timings and -vv every command as JSON lines on stderr; stdout stays the plan', async () => {
    const demo = await freshDemo();
    const v = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '-v', '--audit-dir', demo.auditDir, ...FAST], { env: demo.env });
    expect(v.code, v.stderr).toBe(0);
    const lines = (text: string) => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const info = lines(v.stderr);
    expect(info.find((l) => l.msg === 'step finish' && l.step === 'detect')).toMatchObject({ level: 'info', host: 'demo', status: 'ok', ms: expect.any(Number) });
    expect(info.some((l) => l.msg === 'command')).toBe(false);
    expect(v.stdout).toMatch(/^Plan [0-9a-f]{16}/m);
    const vv = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '-vv', '--audit-dir', demo.auditDir, ...FAST], { env: demo.env });
    const commands = lines(vv.stderr).filter((l) => l.msg === 'command');
    expect(commands.length).toBeGreaterThan(0);
    expect(commands[0]).toMatchObject({ level: 'debug', host: 'demo', argv: expect.any(Array), exitCode: 0, ms: expect.any(Number) });
  });

  it('-q prints only the outcome: the plan hash with how to apply it, and the audit log', async () => {
    const demo = await freshDemo();
    const r = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '-q', '--audit-dir', demo.auditDir, ...FAST], { env: demo.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Plan [0-9a-f]{16}; apply exactly this plan with: runbook apply .* --approve [0-9a-f]{16}\n$/);
    expect(r.stderr).toMatch(/^Audit log: .*\.jsonl\n$/);
    const both = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '-q', '-v']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/-q and -v do not go together/);
  });

  it('--tags, --skip-tags and --start-at-step plan only the selected steps; the hash covers the selection', async () => {
    const demo = await freshDemo();
    const plan = async (args: string[]) => {
      const r = await runCli(['apply', TAGGED, '--host', 'demo', '--dry-run', '--json', '--audit-dir', demo.auditDir, ...args], { env: demo.env });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as PlanJson;
      return { steps: [...new Set(out.plan.map((p) => p.step))], hash: out.planHash };
    };
    const all = await plan([]);
    expect(all.steps).toEqual(['count', 'listing', 'purge', 'recount']);
    const contain = await plan(['--tags', 'contain']);
    expect(contain.steps).toEqual(['count', 'purge']);
    expect(contain.hash).not.toBe(all.hash);
    expect((await plan(['--skip-tags', 'look,contain'])).steps).toEqual(['count']);
    expect((await plan(['--start-at-step', 'purge', '-t', 'look'])).steps).toEqual(['recount']);
    const bad = await runCli(['apply', TAGGED, '--host', 'demo', '--dry-run', '--tags', 'contian', '--audit-dir', demo.auditDir], { env: demo.env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--tags contian: no step of .*tagged\.yml has that tag/);
  });
});

describe('runbook investigate takes --list-hosts, -v and -q too', () => {
  it('lists without investigating, logs step timings with -v, and -q keeps only the findings', async () => {
    const demo = await freshDemo();
    const listed = await runCli(['investigate', '-i', INI, '-l', 'cpanel', '--list-hosts', '--json'], { env: { RUNBOOK_ANSIBLE_INVENTORY: 'off', RUNBOOK_SSH: 'off' } });
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { hosts: Array<{ name: string }> }).hosts.map((h) => h.name)).toEqual(['cp01', 'cp02', 'cp03', 'cp-legacy']);
    const v = await runCli(['investigate', '--host', 'demo', '-v', '-q', '--audit-dir', demo.auditDir], { env: demo.env });
    expect(v.code).toBe(2);
    const verbose = await runCli(['investigate', '--host', 'demo', '-v', '--audit-dir', demo.auditDir], { env: demo.env });
    expect(verbose.code, verbose.stderr).toBe(0);
    expect(verbose.stderr).toMatch(/^\{"level":"info",.*"step":"detect","status":"ok","ms":\d+/m);
    expect(verbose.stdout).toMatch(/Verdict: MAILBOX/);
  });
});

describe('runbook run ACTION: one action through the same plan, gates and audit log as apply', () => {
  it('dry-run plans it, no terminal stops at the gate, --approve applies exactly that plan', async () => {
    const demo = await freshDemo();
    const args = ['run', 'exim.queue.purge', '--host', 'demo', '--with', 'sender=shopuser@host.example.test', '--with', 'max=1000', '--audit-dir', demo.auditDir];
    const dry = await runCli([...args, '--dry-run', '--json'], { env: demo.env });
    expect(dry.code, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout) as PlanJson & { plan: Array<{ step: string; action: string; params: Record<string, unknown> }> };
    expect(plan.plan).toMatchObject([{ step: 'exim_queue_purge', action: 'exim.queue.purge', params: { sender: 'shopuser@host.example.test', max: 1000 } }]);

    const gated = await runCli(args, { env: demo.env });
    expect(gated.code).toBe(3);
    expect(gated.stderr).toMatch(/Stopped before any change/);

    const applied = await runCli([...args, '--approve', plan.planHash, '--json'], { env: demo.env });
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const out = JSON.parse(applied.stdout) as { auditLog: string; hosts: Array<{ host: string; status: string }> };
    expect(out.hosts).toMatchObject([{ host: 'demo', status: 'changed' }]);
    const log = readFileSync(out.auditLog, 'utf8');
    expect(log).toContain('"action":"exim.queue.purge"');
    expect((await runCli(['audit', 'verify', out.auditLog])).code).toBe(0);
    expect(readdirSync(demo.auditDir).every((f) => f.includes('-run-exim-queue-purge-'))).toBe(true);
  });

  it('refuses an unknown action, a malformed --with and a parameter the action does not take', async () => {
    const unknown = await runCli(['run', 'exim.queue.prge', '--host', 'demo', '--dry-run']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown action 'exim\.queue\.prge': 'runbook actions' lists them/);
    const malformed = await runCli(['run', 'exim.queue.purge', '--host', 'demo', '--with', 'sender', '--dry-run']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/--with sender: expected NAME=VALUE/);
    const extra = await runCli(['run', 'exim.queue.purge', '--host', 'demo', '--with', 'sender=a@b.example', '--with', 'maxx=3', '--dry-run']);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toMatch(/maxx/);
  });
});

describe('in process', () => {
  it('extraVars splits pairs from @files and refuses inline JSON with what to do', async () => {
    const base = mkdtempSync(join(tmpdir(), 'runbook-extra-vars-'));
    writeFileSync(join(base, 'a.yml'), 'x: 1\ny: [a]\n');
    writeFileSync(join(base, 'b.json'), '{"x": 2}');
    expect(await extraVars(['k=v', `@${join(base, 'a.yml')}`, `@${join(base, 'b.json')}`])).toEqual({ pairs: ['k=v'], fromFiles: { x: 2, y: ['a'] } });
    await expect(extraVars(['{"x":1}'])).rejects.toThrow(/pass -e @FILE/);
  });

  it('listTargets resolves jump hosts and keys without connecting; hostile names are printed safely', async () => {
    const hosts = await listTargets({ host: ['ops@192.0.2.77:2201'] });
    expect(hosts).toMatchObject([{ name: 'ops@192.0.2.77:2201', kind: 'ssh', route: ['ops@192.0.2.77:2201'] }]);
    expect(renderHostListing([{ name: 'evil\u001b[2J', kind: 'local' }])).not.toContain('\u001b');
  });
});
