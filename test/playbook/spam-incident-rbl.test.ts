import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetDemoHost } from '../../src/hosts/demo.js';
import { runCli } from '../cli/run-cli.js';
import { requireDnsmasq, startDnsServer, type DnsServer } from '../support/dnsmasq.js';
import { dnsblTestZones, TEST_DQS_KEY } from '../support/dnsbl-zones.js';

describe.runIf(requireDnsmasq())('spam-incident playbook: blocklist listings before and after', () => {
  let dns: DnsServer;
  let base: string;
  beforeAll(async () => {
    expect(existsSync(join(process.cwd(), 'dist/cli/main.js')), 'run `npm run build` first (npm test does)').toBe(true);
    dns = await startDnsServer(dnsblTestZones());
    base = mkdtempSync(join(tmpdir(), 'runbook-rbl-playbook-'));
    await resetDemoHost(join(base, 'state', 'runbook', 'demo'));
  });
  afterAll(async () => {
    await dns?.stop();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('a dry-run on the demo host shows the listings first and the removal pages last, as evidence in the audit log', async () => {
    const auditDir = join(base, 'audit');
    const r = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '--audit-dir', auditDir, '--var', 'watch_for=1s', '--var', `dns_server=${dns.address}`], {
      env: { XDG_STATE_HOME: join(base, 'state') },
    });
    expect(r.code, r.stderr).toBe(0);
    const plan = r.stdout.slice(r.stdout.indexOf('Plan '));
    const stepIds = [...plan.matchAll(/^ {2}[^\s\w$] (\w+)(?:\[\d+\])?\s/gm)].map((m) => m[1]);
    expect(stepIds[0]).toBe('rbl_before');
    expect(stepIds.at(-1)).toBe('rbl_after');
    expect(r.stderr).toMatch(/Blocklist listings before containment: listed: 192\.0\.2\.10 on Spamhaus ZEN \(SBL, XBL, PBL\), removal https:\/\/check\.spamhaus\.org\/query\/ip\/192\.0\.2\.10; 192\.0\.2\.10 on SpamCop/);
    const log = readFileSync(join(auditDir, readdirSync(auditDir).find((f) => f.endsWith('.jsonl')) ?? ''), 'utf8');
    expect(log).toMatch(/blocklists: listed: 192\.0\.2\.10 on Spamhaus ZEN/);
    expect(log).toContain('expires by itself once reports stop');
  });

  it('takes a DQS key file as an input and never writes the key anywhere', async () => {
    const auditDir = join(base, 'audit-dqs');
    const keyFile = join(base, 'dqs.key');
    writeFileSync(keyFile, `${TEST_DQS_KEY}\n`, { mode: 0o600 });
    const r = await runCli(
      ['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '--audit-dir', auditDir, '--var', 'watch_for=1s', '--var', `dns_server=${dns.address}`, '--var', `dqs_key_file=${keyFile}`],
      { env: { XDG_STATE_HOME: join(base, 'state') } },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Blocklist listings before containment: listed: 192\.0\.2\.10 on Spamhaus ZEN \(SBL\)/);
    const log = readFileSync(join(auditDir, readdirSync(auditDir).find((f) => f.endsWith('.jsonl')) ?? ''), 'utf8');
    for (const text of [r.stdout, r.stderr, log]) expect(text).not.toContain(TEST_DQS_KEY);
  });

  it('without a resolver given, the demo host\'s documentation addresses are not asked of anyone', async () => {
    const auditDir = join(base, 'audit-nodns');
    const r = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '--audit-dir', auditDir, '--var', 'watch_for=1s'], {
      env: { XDG_STATE_HOME: join(base, 'state') },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Blocklist listings before containment: not asked: a documentation address/);
  });
});
