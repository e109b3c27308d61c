import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIncident, type IncidentManifest } from '../../fixtures/sim/incident.mjs';
import { eximDetectionActions } from '../../src/actions/exim/detection.js';
import type { ActionContext, ActionResult, ReadOnlyAction } from '../../src/actions/types.js';
import { investigate, renderInvestigation } from '../../src/investigate/report.js';
import type { Verdict } from '../../src/investigate/verdict.js';
import { makeContext, type TestContext } from '../actions/support/context.js';

function action(name: string): ReadOnlyAction {
  const a = eximDetectionActions.find((x) => x.name === name);
  if (a === undefined || a.mutates) throw new Error(`no read-only action ${name}`);
  return a as ReadOnlyAction;
}

async function run(ctx: ActionContext, name: string, params: Record<string, unknown>): Promise<ActionResult> {
  return action(name).run(ctx, params as never);
}

describe('detection actions on a staged incident (simulated cPanel host)', () => {
  let root: string;
  let m: IncidentManifest;
  let ctx: TestContext;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'runbook-detect-'));
    m = await generateIncident({ root, mode: 'synthetic', sizes: { spam: 180, script: 130, legit: 60, bounces: 8, frozen: 3 }, seed: 7 });
    ctx = makeContext({ tools: m.tools, layout: m.layout, env: { RUNBOOK_SIM_ROOT: root } });
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('every detection action is read-only', () => {
    expect(eximDetectionActions.map((a) => a.name).sort()).toEqual([
      'exim.detect', 'exim.discover', 'exim.mainlog.scan', 'exim.queue.count', 'exim.queue.headers', 'exim.queue.list', 'exim.spool.scan', 'web.script_ips', 'web.suspect_files',
    ]);
    for (const a of eximDetectionActions) expect(a.mutates).toBe(false);
  });

  it('exim.discover asks Exim for the spool and main log', async () => {
    const r = await run(ctx, 'exim.discover', {});
    expect(r.outputs['spool_dir']).toBe(m.spoolDir);
    expect(r.outputs['mainlog']).toBe(m.mainlog);
    expect(ctx.calls[0]!.argv.slice(1)).toEqual(['-bP', 'spool_directory', 'log_file_path', 'split_spool_directory']);
  });

  it('exim.queue.count and exim.queue.list rank queue senders, bounces as <>', async () => {
    const count = await run(ctx, 'exim.queue.count', {});
    expect(count.outputs['count']).toBe(m.total);
    const list = await run(ctx, 'exim.queue.list', { limit: 5 });
    const senders = list.outputs['senders'] as { sender: string; count: number }[];
    expect(senders[0]).toEqual({ sender: m.mailbox, count: 180 });
    expect(senders.find((s) => s.sender === '<>')?.count).toBe(8);
  });

  it('exim.queue.headers decodes X-PHP-Script with the last address as the client', async () => {
    const r = await run(ctx, 'exim.queue.headers', { id: m.messages.script[0] });
    expect(r.outputs['php_script']).toMatchObject({ client_ip: m.scriptIp });
    expect((r.outputs['php_script'] as { addresses: string[] }).addresses[0]).toBe(m.scriptXff);
    await expect(run(ctx, 'exim.queue.headers', { id: '$(id)' })).rejects.toThrow(/not an Exim message ID/);
  });

  it('exim.mainlog.scan counts dovecot_login and dovecot_plain senders and the script directory', async () => {
    const r = await run(ctx, 'exim.mainlog.scan', { since: '30d' });
    const auth = r.outputs['auth_senders'] as { id: string; count: number; authenticators: { key: string }[]; ips: { key: string }[] }[];
    expect(auth[0]!.id).toBe(m.mailbox);
    expect(auth[0]!.count).toBe(180);
    expect(auth[0]!.authenticators.map((a) => a.key).sort()).toEqual(['dovecot_login', 'dovecot_plain']);
    expect(auth[0]!.ips.map((i) => i.key).sort()).toEqual([...m.attackerIps].sort());
    const cwd = r.outputs['cwd'] as { path: string; count: number }[];
    expect(cwd[0]).toMatchObject({ path: m.script.dir, count: 130 });
  });

  it('exim.spool.scan ranks scripts with their real client IP', async () => {
    const r = await run(ctx, 'exim.spool.scan', {});
    const scripts = r.outputs['scripts'] as { script: string; count: number; ips: { key: string }[] }[];
    const s = scripts.find((x) => x.script === m.script.url);
    expect(s?.ips.map((i) => i.key)).toContain(m.scriptIp);
    expect(JSON.stringify(scripts)).not.toContain(`"key":"${m.scriptXff}"`);
  });

  it('web.suspect_files and web.script_ips look at the script directory and the access log', async () => {
    const files = await run(ctx, 'web.suspect_files', { dir: m.script.dir, max_depth: 1 });
    expect(files.outputs['suspects']).toContain(m.script.path);
    const host = m.script.url.slice(0, m.script.url.indexOf('/'));
    const path = m.script.url.slice(m.script.url.indexOf('/'));
    const ips = await run(ctx, 'web.script_ips', { domain: host, path });
    expect((ips.outputs['ips'] as string[])[0]).toBe(m.scriptIp);
    await expect(run(ctx, 'web.script_ips', { domain: 'x;rm -rf /', path })).rejects.toThrow(/not a domain/);
  });

  it('exim.detect names the mailbox, the attacker IPs of every flagged source and the script; the newsletter is not flagged', async () => {
    const r = await run(ctx, 'exim.detect', { since: '30d', min_messages: 100 });
    const v = r.outputs as unknown as Verdict;
    expect(v.kind).toBe('mailbox');
    expect(v.sender).toBe(m.mailbox);
    // Both sources are flagged here, so the mailbox's logins and the script's requester are both listed.
    expect([...v.ips].sort()).toEqual([...m.attackerIps, m.scriptIp].sort());
    expect(v.scripts.map((s) => s.path)).toEqual([m.script.path]);
    expect(v.scripts[0]!.ips).toEqual([m.scriptIp]);
    // Each address says why it is listed: a block comment must not blame the mailbox for the
    // script's requester.
    for (const ip of m.attackerIps) expect(v.ip_reasons[ip]).toBe(`logged in as ${m.mailbox}`);
    expect(v.ip_reasons[m.scriptIp]).toBe(`requested ${m.script.url}`);
    expect(Object.keys(v.ip_reasons).sort()).toEqual([...v.ips].sort());
    expect(v.senders).toContain(m.mailbox);
    expect(v.senders).toContain(m.script.sender);
    expect(v.senders).not.toContain(m.legitMailbox);
    expect(v.senders).not.toContain('<>');
    expect(v.senders).not.toContain('');
    expect(v.counts.sender_queued).toBe(180);
    expect(v.summary).toContain(m.mailbox);
    for (const c of ctx.calls) expect(c.argv.every((a) => typeof a === 'string')).toBe(true);
  });

  it('senders below min_messages are not flagged', async () => {
    const r = await run(ctx, 'exim.detect', { since: '30d', min_messages: 200, min_subject_repeats: 1000 });
    expect(r.outputs['kind']).toBe('none');
    expect(r.outputs['senders']).toEqual([]);
    expect(r.outputs['ips']).toEqual([]);
    expect(r.outputs['summary']).toMatch(/no sender above 200/);
  });

  it('investigate gives the same verdict offline, and renders hostile text inert', async () => {
    const online = (await run(ctx, 'exim.detect', { since: '30d' })).outputs as unknown as Verdict;
    const offline = await investigate({ mainlog: m.mainlog, spool: m.spoolDir, domlogs: m.layout.domlogsDir, homeRoots: m.layout.homeRoots, since: '30d' });
    expect(offline.kind).toBe(online.kind);
    expect(offline.sender).toBe(online.sender);
    expect(offline.ips).toEqual(online.ips);
    expect(offline.scripts).toEqual(online.scripts);
    const plain = renderInvestigation(offline, { color: false });
    expect(plain).not.toContain('\u001b');
    expect(plain).toContain(m.mailbox);
    const colored = renderInvestigation({ ...offline, summary: 'x\u001b[31mred\u001b]0;title\u0007' }, { color: true });
    expect(colored).not.toContain('\u001b[31mred');
    expect(colored).toContain('\\e[31mred');
    const log = await readFile(m.mainlog, 'utf8');
    expect(log).toContain('T="');
  });

  it('cuts long lists in the human report and says --json has them all', async () => {
    const offline = await investigate({ mainlog: m.mainlog, spool: m.spoolDir, domlogs: m.layout.domlogsDir, homeRoots: m.layout.homeRoots, since: '30d' });
    const many = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
    const text = renderInvestigation({
      ...offline,
      senders: many('s', 25).map((x) => `${x}@example.test`),
      ips: many('203.0.113.', 30),
      directories: many('/home/u/public_html/d', 18).map((path) => ({ path, count: 200, user: 'u' })),
    }, { color: false });
    expect(text).toContain('s19@example.test (+5 more; --json lists all)');
    expect(text).not.toContain('s20@example.test');
    expect(text).toContain('203.0.113.19 (+10 more; --json lists all)');
    expect(text).toContain('/home/u/public_html/d14 ');
    expect(text).not.toContain('/home/u/public_html/d15 ');
    expect(text).toContain('… 3 more; --json lists all');
  });
});

describe('exim.detect when a PHP script is the main sender', () => {
  let root: string;
  let m: IncidentManifest;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'runbook-detect-script-'));
    m = await generateIncident({ root, mode: 'synthetic', sizes: { spam: 20, script: 150, legit: 40, bounces: 4, frozen: 1 }, seed: 11 });
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('names the script file, its envelope sender and the real client IP, not the forwarded one', async () => {
    const ctx = makeContext({ tools: m.tools, layout: m.layout, env: { RUNBOOK_SIM_ROOT: root } });
    const v = (await run(ctx, 'exim.detect', { since: '30d' })).outputs as unknown as Verdict;
    expect(v.kind).toBe('script');
    expect(v.sender).toBe(m.script.sender);
    expect(v.scripts.map((s) => s.path)).toEqual([m.script.path]);
    expect(v.ips).toEqual([m.scriptIp]);
    expect(v.ip_reasons).toEqual({ [m.scriptIp]: `requested ${m.script.url}` });
    expect(v.ips).not.toContain(m.scriptXff);
    expect(v.senders).not.toContain(m.mailbox);
  });

  it('offline from the main log alone still finds the sending directory', async () => {
    const v = await investigate({ mainlog: m.mainlog, since: '30d', homeRoots: m.layout.homeRoots });
    expect(v.kind).toBe('script');
    expect(v.sender).toBe(m.script.sender);
    // Without the spool the file is found by listing the directory: the lone recent PHP file.
    expect(v.scripts.map((s) => s.path)).toEqual([m.script.path]);
  });
});
