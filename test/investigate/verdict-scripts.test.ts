import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageId, writeSpoolMessage } from '../../fixtures/sim/lib/spool.mjs';
import type { NotBlocked, ScriptVerdict, Source } from '../../src/investigate/verdict.js';
import { runCli } from '../cli/run-cli.js';

/**
 * A site behind Cloudflare sends spam from a script in its uploads directory, while another
 * account's root-level index.php has more mail queued. The verdict names the script in the
 * flagged directory only, blocks the client behind Cloudflare and never the edge.
 */
interface V {
  kind: string;
  scripts: ScriptVerdict[];
  directories: { path: string }[];
  sources: Source[];
  ips: string[];
  not_blocked: NotBlocked[];
  summary: string;
}

const EDGE = '172.70.1.2';
const CLIENT = '198.51.100.77';
const SPOOFED = '10.9.8.7';
const OTHER_CLIENT = '203.0.113.5';

describe('investigate --json: the right script, the client behind the proxy', () => {
  let base: string;
  let home: string;
  let dir: string;
  let args: string[];
  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'runbook-scripts-'));
    home = join(base, 'home');
    dir = join(home, 'shopuser/public_html/wp-content/uploads/2024');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'x7.php'), '<?php mail();');
    writeFileSync(join(dir, 'index.php'), '<?php // Silence is golden.');
    mkdirSync(join(home, 'otheruser/public_html'), { recursive: true });
    writeFileSync(join(home, 'otheruser/public_html/index.php'), '<?php');
    const t0 = Date.UTC(2026, 11, 7, 9) / 1000;
    const stamp = (t: number): string => new Date(t * 1000).toISOString().slice(0, 19).replace('T', ' ');
    const lines: string[] = [];
    for (let i = 0; i < 120; i++) {
      const t = t0 + i * 20;
      lines.push(`${stamp(t)} cwd=${dir} 3 args: /usr/sbin/sendmail -t -i`);
      lines.push(`${stamp(t)} ${messageId(t, 5000 + i)} <= shopuser@host.example.test U=shopuser P=local S=600 T="Your parcel" for r${i}@victims.test`);
    }
    const mainlog = join(base, 'exim_mainlog');
    writeFileSync(mainlog, `${lines.join('\n')}\n`);
    const spool = join(base, 'spool');
    let t = t0 + 4000;
    const queue = (sender: string, login: string, script: string): void => {
      writeSpoolMessage(spool, { id: messageId(t, 100 + (t % 5000)), time: t, login, uid: 1103, gid: 1103, sender, protocol: 'local', authId: login, recipients: ['v@victims.test'], headers: [['Subject', 'Your parcel'], ['X-PHP-Script', script]], body: 'x\n' });
      t++;
    };
    // Through Cloudflare: XFF (a spoofed entry, then the client Cloudflare saw), then the edge.
    for (let i = 0; i < 40; i++) queue('shopuser@host.example.test', 'shopuser', `shop.example.test/wp-content/uploads/2024/x7.php for ${SPOOFED},${CLIENT}, ${EDGE}`);
    // Another account's contact form: more queued, root-level index.php.
    for (let i = 0; i < 60; i++) queue('otheruser@host.example.test', 'otheruser', `other.test/index.php for ${OTHER_CLIENT}`);
    const domlogs = join(base, 'domlogs');
    mkdirSync(domlogs);
    writeFileSync(join(domlogs, 'shop.example.test'), Array.from({ length: 30 }, (_, i) => `${EDGE} - - [07/Dec/2026:09:${String(i).padStart(2, '0')}:00 +0000] "POST /wp-content/uploads/2024/x7.php HTTP/1.1" 200 12 "-" "Mozilla/5.0"\n`).join(''));
    args = ['investigate', '--json', '--since', '24h', '--mainlog', mainlog, '--spool', spool, '--domlogs', domlogs, '--home-root', home];
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  async function verdict(extra: string[] = []): Promise<V> {
    const r = await runCli([...args, ...extra]);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { verdict: V }).verdict;
  }

  it("names the flagged directory's own script, never another account's index.php", async () => {
    const v = await verdict();
    expect(v.kind).toBe('script');
    expect(v.scripts.map((s) => s.path)).toEqual([join(dir, 'x7.php')]);
    expect(v.sources.map((s) => [s.kind, s.id])).toEqual([['script', join(dir, 'x7.php')]]);
    expect(JSON.stringify(v)).not.toContain('otheruser/public_html/index.php');
    expect(v.ips).not.toContain(OTHER_CLIENT);
  });

  it("a local submission's Unix login in the queue (-auth_id) is no cPanel account login", async () => {
    // 60 of otheruser's messages are queued with -auth_id otheruser, above this threshold.
    const v = await verdict(['--min-messages', '50']);
    expect(v.sources.filter((s) => s.kind === 'account')).toEqual([]);
  });

  it('blocks the client behind Cloudflare, lists the edge as a proxy, ignores the spoofed entry', async () => {
    const v = await verdict();
    expect(v.ips).toEqual([CLIENT]);
    expect(v.scripts[0]!.ips).toEqual([CLIENT]);
    const edge = v.not_blocked.find((n) => n.ip === EDGE);
    expect(edge?.class).toBe('proxy');
    expect(edge?.reason).toMatch(/Cloudflare \(published ranges of \d{4}-\d\d-\d\d\): 172\.64\.0\.0\/13/);
    expect(JSON.stringify(v.ips)).not.toContain(SPOOFED);
  });

  it('the proxy list is replaceable: with an empty ranges file the edge is the client', async () => {
    const empty = join(base, 'no-proxies.txt');
    writeFileSync(empty, '# no CDN here\n');
    const v = await verdict(['--proxy-ranges', empty]);
    expect(v.ips).toContain(EDGE);
    const trusted = await verdict(['--proxy-ranges', empty, '--trusted-proxy', '172.70.0.0/16']);
    expect(trusted.ips).toEqual([CLIENT]);
    expect(trusted.not_blocked.find((n) => n.ip === EDGE)?.reason).toMatch(/trusted proxy \(172\.70\.0\.0\/16\)/);
  });

  it('a script file that is not there is "script not identified", not a guess', async () => {
    unlinkSync(join(dir, 'x7.php'));
    writeFileSync(join(dir, 'other.php'), '<?php');
    const v = await verdict();
    expect(v.scripts).toEqual([]);
    expect(v.directories.map((d) => d.path)).toEqual([dir]);
    expect(v.summary).toContain('script not identified');
  });
});
