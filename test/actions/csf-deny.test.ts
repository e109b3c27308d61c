import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { csfDeny, csfRemoveDeny } from '../../src/actions/firewall/csf-deny.js';
import { coversIp, parseIp, specialRange } from '../../src/actions/firewall/ip.js';
import { parseHostnameI, parseIpOAddr } from '../../src/actions/firewall/own-addresses.js';
import { makeContext, mutating, planAndRun, type TestContext } from './support/context.js';
import { simHost, type SimHost } from './support/sim.js';

const ATTACKER = '45.33.12.7';

describe('ip helpers', () => {
  it('matches exact addresses and CIDRs in both families', () => {
    const v4 = parseIp(ATTACKER)!;
    expect(coversIp('45.33.12.7', v4)).toBe(true);
    expect(coversIp('45.33.0.0/16', v4)).toBe(true);
    expect(coversIp('45.34.0.0/16', v4)).toBe(false);
    const v6 = parseIp('2A01:4F8::1')!;
    expect(coversIp('2a01:4f8::/32', v6)).toBe(true);
    expect(coversIp('2a01:4f8:0:0::1', v6)).toBe(true);
    expect(parseIp('::ffff:45.33.12.7')).toEqual({ address: ATTACKER, family: 'ipv4' });
    expect(parseIp('45.33.12.7/32')).toBeUndefined();
  });

  it('knows the ranges that are never an attacker', () => {
    for (const ip of ['10.1.2.3', '127.0.0.1', '169.254.1.1', '172.20.0.1', '192.168.1.1', '100.64.0.1', '::1', 'fe80::1', 'fd00::1', '2001:db8::5', '224.0.0.1']) {
      expect(specialRange(parseIp(ip)!), ip).toBeDefined();
    }
    expect(specialRange(parseIp(ATTACKER)!)).toBeUndefined();
    expect(specialRange(parseIp('2a01:4f8::1')!)).toBeUndefined();
  });

  it('reads the host addresses', () => {
    expect(parseHostnameI('192.0.2.10 2a01:4f8::2 \n').map((i) => i.address)).toEqual(['192.0.2.10', '2a01:4f8::2']);
    expect(parseIpOAddr('1: lo    inet 127.0.0.1/8 scope host lo\n2: eth0    inet6 2a01:4f8::2/64 scope global\n').map((i) => i.address)).toEqual(['127.0.0.1', '2a01:4f8::2']);
  });
});

describe('csf.deny against the simulated host', () => {
  let sim: SimHost;
  let ctx: TestContext;
  beforeEach(() => {
    sim = simHost({ csf: { allow: ['45.33.100.0/24 # office'], ignore: ['45.33.200.9'] } });
    ctx = makeContext({ tools: sim.tools, layout: sim.layout, env: sim.env });
  });
  afterEach(() => sim.cleanup());

  it('plans the exact argv, blocks, and a repeat is a noop', async () => {
    const plan = await mutating(csfDeny).plan(ctx, { ip: ATTACKER, comment: 'spam via info@shop.example.test\nInjected' } as never);
    expect(plan.commands.map((c) => c.argv)).toEqual([[sim.tools.csf, '-d', ATTACKER, 'spam via info@shop.example.test Injected']]);
    const result = await mutating(csfDeny).run(ctx, { ip: ATTACKER } as never, plan);
    expect(result.changed).toBe(true);
    expect(result.outputs).toMatchObject({ ip: ATTACKER, blocked: true, already: false, testing: false });
    expect(result.undo).toEqual([{ action: 'csf.remove_deny', params: { ip: ATTACKER }, description: expect.any(String) }]);
    expect(readFileSync(join(sim.root, 'etc/csf/csf.deny'), 'utf8')).toMatch(/^45\.33\.12\.7 # spam via/m);

    const again = await mutating(csfDeny).plan(ctx, { ip: ATTACKER } as never);
    expect(again.noop).toBe(true);
    expect(again.commands).toEqual([]);
  });

  it('refuses allow-listed (CIDR), ignored and private addresses without running csf', async () => {
    await expect(mutating(csfDeny).plan(ctx, { ip: '45.33.100.20' } as never)).rejects.toThrow(/csf\.allow.*45\.33\.100\.0\/24/);
    await expect(mutating(csfDeny).plan(ctx, { ip: '45.33.200.9' } as never)).rejects.toThrow(/csf\.ignore/);
    await expect(mutating(csfDeny).plan(ctx, { ip: '192.168.1.5' } as never)).rejects.toThrow(/private/);
    await expect(mutating(csfDeny).plan(ctx, { ip: '127.0.0.1' } as never)).rejects.toThrow(/loopback/);
    // A range is refused when it covers an allow-listed address, or is wider than a /16 (IPv6 /32).
    await expect(mutating(csfDeny).plan(ctx, { ip: '45.33.100.0/22' } as never)).rejects.toThrow(/csf\.allow.*45\.33\.100\.0\/24/);
    await expect(mutating(csfDeny).plan(ctx, { ip: '45.0.0.0/8' } as never)).rejects.toThrow(/not an address or a CIDR csf\.deny takes/);
    expect(ctx.calls.some((c) => c.argv[0] === sim.tools.csf)).toBe(false);
  });

  it('blocks an attacker network as a CIDR (an IPv6 /64 too)', async () => {
    const v4 = await mutating(csfDeny).plan(ctx, { ip: '91.200.12.0/24' } as never);
    expect(v4.commands[0]!.argv.slice(1, 3)).toEqual(['-d', '91.200.12.0/24']);
    const v6 = await mutating(csfDeny).plan(ctx, { ip: '2a0b:4140:d00:7::/64' } as never);
    expect(v6.commands[0]!.argv.slice(1, 3)).toEqual(['-d', '2a0b:4140:d00:7::/64']);
  });

  it("refuses a proxy/CDN edge (Cloudflare's ranges) unless forced", async () => {
    await expect(mutating(csfDeny).plan(ctx, { ip: '104.16.1.1' } as never)).rejects.toThrow(/proxy\/CDN edge \(Cloudflare.*104\.16\.0\.0\/13\)/);
    await expect(mutating(csfDeny).plan(ctx, { ip: '2606:4700:10::6816:101' } as never)).rejects.toThrow(/proxy\/CDN edge/);
    // A range reaching into an edge range is refused as well.
    await expect(mutating(csfDeny).plan(ctx, { ip: '104.0.0.0/16' } as never)).resolves.toBeDefined();
    await expect(mutating(csfDeny).plan(ctx, { ip: '104.16.0.0/16' } as never)).rejects.toThrow(/proxy\/CDN edge/);
    await expect(mutating(csfDeny).plan(ctx, { ip: '45.33.7.7', trusted_proxies: ['45.33.7.0/24'] } as never)).rejects.toThrow(/trusted proxy \(45\.33\.7\.0\/24\)/);
    const forced = await mutating(csfDeny).plan(ctx, { ip: '104.16.1.1', force: true } as never);
    expect(forced.commands[0]!.argv.slice(1, 3)).toEqual(['-d', '104.16.1.1']);
  });

  it('follows Include lines of csf.allow', async () => {
    const extra = join(sim.root, 'extra.allow');
    writeFileSync(extra, '45.33.150.1 # partner\n');
    writeFileSync(join(sim.root, 'etc/csf/csf.allow'), `Include ${extra}\n`);
    await expect(mutating(csfDeny).plan(ctx, { ip: '45.33.150.1' } as never)).rejects.toThrow(/extra\.allow line 1/);
  });

  it("reads an Include of /etc/csf/cpanel.allow in the host's CSF directory, never the control machine's /etc/csf", async () => {
    writeFileSync(join(sim.root, 'etc/csf/csf.allow'), 'Include /etc/csf/cpanel.allow\n');
    writeFileSync(join(sim.root, 'etc/csf/cpanel.allow'), '45.33.160.1 # cPanel login\n');
    await expect(mutating(csfDeny).plan(ctx, { ip: '45.33.160.1' } as never)).rejects.toThrow(`${join(sim.root, 'etc/csf/cpanel.allow')} line 1`);
  });

  it('refuses the host own addresses (as the simulated host answers `ip -o addr`)', async () => {
    const own = ctx.calls.length;
    await expect(mutating(csfDeny).plan(ctx, { ip: '192.0.2.10', allow_private: true } as never)).rejects.toThrow(/192\.0\.2\.10: it is one of test-host's own addresses/);
    expect(ctx.calls.slice(own).map((c) => c.argv)).toContainEqual([sim.tools.ip, '-o', 'addr', 'show']);
  });

  it('in TESTING mode says the IP is only in csf.deny, and warns about rotated entries', async () => {
    sim.cleanup();
    sim = simHost({ csf: { testing: true, denyLimit: 1 } });
    ctx = makeContext({ tools: sim.tools, layout: sim.layout, env: sim.env });
    writeFileSync(join(sim.root, 'etc/csf/csf.deny'), '45.33.12.1 # old - Sun Nov 22 10:56:28 2026\n');
    const { result } = await planAndRun(csfDeny, ctx, { ip: ATTACKER });
    expect(result.outputs).toMatchObject({ blocked: false, testing: true, rotated: ['45.33.12.1'] });
    expect(ctx.notes.map((n) => n.message).join('\n')).toMatch(/TESTING mode[\s\S]*DENY_IP_LIMIT/);
  });

  it('undo removes the deny, and a second undo is a noop', async () => {
    await planAndRun(csfDeny, ctx, { ip: ATTACKER });
    const { plan, result } = await planAndRun(csfRemoveDeny, ctx, { ip: ATTACKER });
    expect(plan.commands[0]?.argv).toEqual([sim.tools.csf, '-dr', ATTACKER]);
    expect(result.outputs).toEqual({ ip: ATTACKER, removed: true });
    expect(readFileSync(join(sim.root, 'etc/csf/csf.deny'), 'utf8')).not.toContain(ATTACKER);
    expect((await mutating(csfRemoveDeny).plan(ctx, { ip: ATTACKER } as never)).noop).toBe(true);
  });
});
