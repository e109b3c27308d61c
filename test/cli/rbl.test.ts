import { createSocket, type Socket } from 'node:dgram';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimHost } from '../../fixtures/sim/host.mjs';
import { resetDemoHost } from '../../src/hosts/demo.js';
import { requireDnsmasq, startDnsServer, type DnsServer } from '../support/dnsmasq.js';
import { CLEAN_IP, dnsblTestZones, LISTED_IP, LISTED_IPV6, PUBLIC_RESOLVER_IP, SBL_TXT, SPAMCOP_TXT, TEST_DQS_KEY } from '../support/dnsbl-zones.js';
import { runCli } from './run-cli.js';

describe.runIf(requireDnsmasq())('runbook rbl against a real DNS server on loopback', () => {
  let dns: DnsServer;
  let silent: Socket;
  let base: string;
  beforeAll(async () => {
    expect(existsSync(join(process.cwd(), 'dist/cli/main.js')), 'run `npm run build` first (npm test does)').toBe(true);
    dns = await startDnsServer(dnsblTestZones());
    silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    base = mkdtempSync(join(tmpdir(), 'runbook-rbl-'));
  });
  afterAll(async () => {
    await dns?.stop();
    silent?.close();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('shows listings with reason and removal page, IPv6 included, and exits 1', async () => {
    const r = await runCli(['rbl', LISTED_IP, CLEAN_IP, LISTED_IPV6, '--dns-server', dns.address]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/192\.0\.2\.10\s+Spamhaus ZEN\s+LISTED SBL, XBL, PBL\n/);
    expect(r.stdout.split('\n').find((l) => l.startsWith('    reason:  ') && l.includes(SBL_TXT))).toBeDefined();
    expect(r.stdout).toContain('removal: https://check.spamhaus.org/query/ip/192.0.2.10 (');
    expect(r.stdout).toContain(SPAMCOP_TXT);
    expect(r.stdout).toMatch(/2001:db8::25\s+Spamhaus ZEN\s+LISTED CSS/);
    expect(r.stdout).toMatch(/2001:db8::25\s+s5h\s+LISTED/);
    expect(r.stdout).toMatch(/198\.51\.100\.250\s+SpamCop\s+clean/);
    expect(r.stdout).toMatch(/Blocklists as reviewed on \d{4}-\d{2}-\d{2}/);
  });

  it('exits 0 with --json when every list answered and none lists the address', async () => {
    const r = await runCli(['rbl', CLEAN_IP, '--dns-server', dns.address, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { clean: boolean; hosts: Array<{ results: Array<{ status: string }> }> };
    expect(doc.clean).toBe(true);
    expect(doc.hosts[0]?.results.map((x) => x.status)).toEqual(Array(9).fill('clean'));
  });

  it('reports a Spamhaus error code as could-not-check, never as listed', async () => {
    const r = await runCli(['rbl', PUBLIC_RESOLVER_IP, '--list', 'spamhaus-zen', '--dns-server', dns.address]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/203\.0\.113\.5\s+Spamhaus ZEN\s+could not check\n.*127\.255\.255\.254.*use your own resolver or a DQS key/);
    expect(r.stdout).not.toContain('LISTED');
  });

  it('says unknown, not clean, when the resolver never answers', async () => {
    const r = await runCli(['rbl', CLEAN_IP, '--list', 'spamcop', '--dns-server', `127.0.0.1:${silent.address().port}`, '--timeout', '300ms', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ clean: false, hosts: [{ results: [{ status: 'unknown' }] }] });
  });

  it('asks the demo host for its addresses and keeps the DQS key out of output and audit log', async () => {
    const state = join(base, 'state');
    await resetDemoHost(join(state, 'runbook', 'demo'));
    const keyFile = join(base, 'dqs.key');
    writeFileSync(keyFile, `${TEST_DQS_KEY}\n`, { mode: 0o600 });
    const auditDir = join(base, 'audit');
    const r = await runCli(['rbl', '--host', 'demo', '--dns-server', dns.address, '--dqs-key-file', keyFile, '--audit-dir', auditDir], { env: { XDG_STATE_HOME: state } });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/== demo \(asked the host\)/);
    expect(r.stdout).toMatch(/192\.0\.2\.10 {2}interface, cPanel main IP, \/etc\/mailips \(\*\)/);
    expect(r.stdout).toMatch(/192\.0\.2\.10\s+Spamhaus ZEN\s+LISTED SBL\n/);
    const logs = readdirSync(auditDir).filter((f) => f.endsWith('.jsonl'));
    expect(logs).toHaveLength(1);
    const log = readFileSync(join(auditDir, logs[0] ?? ''), 'utf8');
    expect(log).toContain('rbl.check');
    expect(log).toContain('zen.dq.spamhaus.net');
    for (const text of [r.stdout, r.stderr, log]) expect(text).not.toContain(TEST_DQS_KEY);
  });

  it('refuses a DQS key file others can read, and a bad resolver, as usage errors', async () => {
    const keyFile = join(base, 'open.key');
    writeFileSync(keyFile, `${TEST_DQS_KEY}\n`);
    chmodSync(keyFile, 0o644);
    const r = await runCli(['rbl', LISTED_IP, '--dqs-key-file', keyFile, '--dns-server', dns.address]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/readable by group or others .*chmod 600/);
    expect(r.stderr + r.stdout).not.toContain(TEST_DQS_KEY);
    const bad = await runCli(['rbl', LISTED_IP, '--dns-server', 'resolver.example']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not IP, IP:PORT or \[IPv6\]:PORT/);
  });

  it('takes fleet addresses from the inventory without SSH', async () => {
    const inventory = join(base, 'hosts.ini');
    // Unresolvable names: any SSH attempt would fail the run.
    writeFileSync(inventory, `[cpanel]\nmail1.invalid ansible_host=${LISTED_IP}\nmail2.invalid addresses=${CLEAN_IP}\n`);
    const auditDir = join(base, 'audit-fleet');
    const r = await runCli(['rbl', '-i', inventory, '--dns-server', dns.address, '--list', 'spamcop', '--audit-dir', auditDir, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const doc = JSON.parse(r.stdout) as { audit_log: string | null; hosts: Array<{ host: string; via: string; results: Array<{ status: string }> }> };
    expect(doc.hosts.map((h) => [h.host, h.via, h.results[0]?.status])).toEqual([
      ['mail1.invalid', 'inventory', 'listed'],
      ['mail2.invalid', 'inventory', 'clean'],
    ]);
    expect(doc.audit_log).toBeNull();
    expect(existsSync(auditDir)).toBe(false);
  });

  it('asks only the inventory hosts without addresses, through their transport, audited', async () => {
    const root = join(base, 'sim-b');
    const sim = createSimHost({ root, serverIps: [CLEAN_IP] });
    const inventory = join(base, 'fleet.yml');
    writeFileSync(
      inventory,
      [
        'hosts:',
        '  mail-a.invalid:',
        `    vars: { addresses: [${LISTED_IP}] }`,
        '  mail-b:',
        '    hostname: local',
        `    tools: { ip: ${sim.tools.ip} }`,
        `    layout: { mainIpFile: ${sim.layout.mainIpFile}, mailIpsFile: ${sim.layout.mailIpsFile} }`,
        '    vars: { allow_documentation_ips: true }',
        '',
      ].join('\n'),
    );
    const auditDir = join(base, 'audit-mixed');
    const r = await runCli(['rbl', '-i', inventory, '--dns-server', dns.address, '--list', 'spamcop', '--audit-dir', auditDir, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const doc = JSON.parse(r.stdout) as { audit_log: string; hosts: Array<{ host: string; via: string; addresses: Array<{ ip: string; sources: string[] }>; results: Array<{ status: string }> }> };
    expect(doc.hosts.map((h) => [h.host, h.via, h.addresses.map((a) => a.ip), h.results[0]?.status])).toEqual([
      ['mail-a.invalid', 'inventory', [LISTED_IP], 'listed'],
      ['mail-b', 'asked the host', [CLEAN_IP], 'clean'],
    ]);
    expect(doc.hosts[1]?.addresses[0]?.sources).toEqual(['interface', 'cPanel main IP', '/etc/mailips (*)']);
    const log = readFileSync(doc.audit_log, 'utf8');
    expect(log).toContain('mail-b');
    expect(log).not.toContain('mail-a.invalid');
  });

  it('refuses addresses and hosts together, and nothing to check', async () => {
    expect((await runCli(['rbl', LISTED_IP, '--host', 'demo'])).code).toBe(2);
    const none = await runCli(['rbl']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/nothing to check/);
  });
});
