import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RblCheckOutputs } from '../../../src/actions/rbl/rbl-check.js';
import { builtinActions } from '../../../src/actions/registry.js';
import type { ReadOnlyAction } from '../../../src/actions/types.js';
import { requireDnsmasq, startDnsServer, type DnsServer } from '../../support/dnsmasq.js';
import { CLEAN_IP, dnsblTestZones, LISTED_IP, LISTED_IPV6, TEST_DQS_KEY } from '../../support/dnsbl-zones.js';
import { makeContext } from '../support/context.js';
import { simHost, type SimHost } from '../support/sim.js';

const action = builtinActions().get('rbl.check') as ReadOnlyAction;

describe.runIf(requireDnsmasq())('rbl.check on a simulated cPanel host', () => {
  let dns: DnsServer;
  let host: SimHost;
  let keys: string;
  beforeAll(async () => {
    dns = await startDnsServer(dnsblTestZones());
    host = simHost({ serverIps: [LISTED_IP, CLEAN_IP, LISTED_IPV6, '10.0.0.5'] });
    keys = mkdtempSync(join(tmpdir(), 'runbook-dqs-'));
  });
  afterAll(async () => {
    await dns?.stop();
    host?.cleanup();
    if (keys) rmSync(keys, { recursive: true, force: true });
  });

  const context = () => {
    const ctx = makeContext({ tools: host.tools, layout: host.layout });
    ctx.host.vars.allow_documentation_ips = true;
    return ctx;
  };

  it('is a read-only action that runs in a dry-run', () => {
    expect(action.mutates).toBe(false);
    expect(action.dryRun ?? 'run').toBe('run');
  });

  it('asks the host for interface, main and mailips addresses and checks each', async () => {
    const ctx = context();
    const result = await action.run(ctx, { dns_server: dns.address });
    const out = result.outputs as unknown as RblCheckOutputs;
    expect(out.addresses).toEqual([
      { ip: LISTED_IP, sources: ['interface', 'cPanel main IP', '/etc/mailips (*)'] },
      { ip: CLEAN_IP, sources: ['interface', expect.stringMatching(/^\/etc\/mailips \(.+\)$/)] },
      { ip: LISTED_IPV6, sources: ['interface'] },
    ]);
    expect(ctx.calls.map((c) => c.argv[0])).toEqual([host.tools.ip, 'cat', 'cat']);
    expect(out.listed.map((r) => `${r.ip} ${r.list}`)).toEqual([`${LISTED_IP} spamhaus-zen`, `${LISTED_IP} spamcop`, `${LISTED_IPV6} spamhaus-zen`, `${LISTED_IPV6} s5h`]);
    expect(out.clean).toBe(false);
    expect(result.summary).toMatch(/^listed: 192\.0\.2\.10 on Spamhaus ZEN \(SBL, XBL, PBL\), removal https:\/\/check\.spamhaus\.org\/query\/ip\/192\.0\.2\.10; 192\.0\.2\.10 on SpamCop, removal https:\/\/www\.spamcop\.net\/bl\.shtml\?192\.0\.2\.10/);
    expect(ctx.notes[0]?.message).toMatch(/^blocklists: listed: 192\.0\.2\.10/);
  });

  it('says clean only when every list answered', async () => {
    const result = await action.run(context(), { dns_server: dns.address, addresses: [CLEAN_IP] });
    expect(result.outputs).toMatchObject({ clean: true, listed: [], unchecked: [] });
    expect(result.summary).toBe('1 address(es) not listed');
  });

  it('a host without a public address has nothing to check, and says so', async () => {
    const bare = simHost({ serverIps: ['10.0.0.5'] });
    try {
      const ctx = makeContext({ tools: bare.tools, layout: bare.layout });
      const result = await action.run(ctx, { dns_server: dns.address });
      expect(result.outputs).toMatchObject({ addresses: [], results: [], clean: false });
      expect(result.summary).toMatch(/^no public sending address found/);
    } finally {
      bare.cleanup();
    }
  });

  it('uses a 0600 DQS key file and keeps the key out of outputs and notes', async () => {
    const file = join(keys, 'dqs.key');
    writeFileSync(file, `${TEST_DQS_KEY}\n`, { mode: 0o600 });
    const ctx = context();
    const result = await action.run(ctx, { dns_server: dns.address, addresses: [LISTED_IP], lists: ['spamhaus-zen'], dqs_key_file: file });
    expect(result.outputs).toMatchObject({ listed: [{ zone: 'zen.dq.spamhaus.net', parts: ['SBL'] }] });
    expect(JSON.stringify([result, ctx.notes, ctx.progressLines])).not.toContain(TEST_DQS_KEY);
  });

  it('refuses a DQS key file others can read, and bad input, with what to do', async () => {
    const file = join(keys, 'open.key');
    writeFileSync(file, `${TEST_DQS_KEY}\n`);
    chmodSync(file, 0o644);
    await expect(action.run(context(), { addresses: [LISTED_IP], dqs_key_file: file })).rejects.toThrow(/readable by group or others \(mode 644\); run: chmod 600/);
    await expect(action.run(context(), { addresses: [LISTED_IP], dns_server: 'dns.example' })).rejects.toThrow(/not IP, IP:PORT/);
    await expect(action.run(context(), { addresses: ['nope'], dns_server: dns.address })).rejects.toThrow(/'nope' is not an IP address/);
    await expect(action.run(context(), { addresses: [LISTED_IP], lists: ['sorbs'] })).rejects.toThrow(/unknown blocklist 'sorbs'/);
  });
});
