import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simHostInfo } from '../../fixtures/sim/host.mjs';
import { demoManifest, resetDemoHost } from '../../src/hosts/demo.js';
import { runCli } from '../cli/run-cli.js';

/**
 * `investigate --json` is read by scripts: files copied off a server and hosts (demo, SSH, an
 * inventory) must print one documented shape, with exit codes unchanged (0 clean, 1 incomplete
 * or failed).
 */

const TOP_KEYS = ['auditLog', 'hosts', 'incomplete', 'ok', 'source', 'verdict'];
const ENTRY_KEYS = ['error', 'host', 'incomplete', 'ok', 'verdict'];
const VERDICT_KEYS = ['auth_ids', 'began', 'counts', 'directories', 'evidence', 'incomplete', 'ip_reasons', 'ips', 'kind', 'not_blocked', 'problems', 'scripts', 'sender', 'senders', 'sources', 'sources_failed', 'summary', 'thresholds', 'window'];

interface Verdict {
  kind: string;
  sender: string;
  problems: string[];
  sources_failed: string[];
  incomplete: boolean;
  [k: string]: unknown;
}
interface Entry {
  host: string | null;
  ok: boolean;
  incomplete: boolean;
  error: string | null;
  verdict: Verdict | null;
}
interface Doc {
  ok: boolean;
  incomplete: boolean;
  source: { kind: 'files'; mainlog: string[]; spool: string | null; domlogs: string | null } | { kind: 'host'; hosts: string[] };
  auditLog: string | null;
  verdict: Verdict | null;
  hosts: Entry[];
}

const sorted = (o: object): string[] => Object.keys(o).sort();

function expectShape(doc: Doc): void {
  expect(sorted(doc)).toEqual(TOP_KEYS);
  expect(Array.isArray(doc.hosts)).toBe(true);
  for (const e of doc.hosts) {
    expect(sorted(e)).toEqual(ENTRY_KEYS);
    if (e.verdict !== null) expect(sorted(e.verdict)).toEqual(VERDICT_KEYS);
    expect(e.ok).toBe(e.error === null && !e.incomplete);
  }
  if (doc.verdict !== null) expect(sorted(doc.verdict)).toEqual(VERDICT_KEYS);
  // One source: the top-level verdict is that source's verdict, as a plain copy.
  expect(doc.verdict).toEqual(doc.hosts.length === 1 ? doc.hosts[0]!.verdict : null);
  expect(doc.incomplete).toBe(doc.hosts.some((e) => e.incomplete));
}

async function demo() {
  const base = mkdtempSync(join(tmpdir(), 'runbook-investigate-json-'));
  const root = join(base, 'state', 'runbook', 'demo');
  await resetDemoHost(root);
  return { base, root, env: { XDG_STATE_HOME: join(base, 'state') }, auditDir: join(base, 'audit') };
}

/** A sim host whose Exim cannot be asked anything: detection fails on it. */
function breakExim(root: string): void {
  writeFileSync(simHostInfo(root).tools.exim, '#!/bin/sh\necho "exim: broken for the test" >&2\nexit 1\n', { mode: 0o755 });
}

describe('investigate --json has one shape for files and hosts', () => {
  it('a host (--host demo): source host, one entry, the verdict also at the top, exit 0', async () => {
    const d = await demo();
    const r = await runCli(['investigate', '--host', 'demo', '--json', '--audit-dir', d.auditDir], { env: d.env });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as Doc;
    expectShape(doc);
    expect(doc).toMatchObject({ ok: true, incomplete: false, source: { kind: 'host', hosts: ['demo'] } });
    expect(doc.auditLog).toMatch(/investigate.*\.jsonl$/);
    expect(doc.hosts[0]).toMatchObject({ host: 'demo', ok: true, incomplete: false, error: null });
    expect(doc.verdict).toMatchObject({ kind: 'mailbox', sender: demoManifest(d.root)!.mailbox, sources_failed: [], incomplete: false });
  });

  it('files (--mainlog, --spool): the same keys, source files, host null, the same verdict fields', async () => {
    const d = await demo();
    const info = simHostInfo(d.root);
    const hostRun = await runCli(['investigate', '--host', 'demo', '--json', '--audit-dir', d.auditDir], { env: d.env });
    const r = await runCli(['investigate', '--mainlog', info.mainlog, '--spool', info.spoolDir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as Doc;
    expectShape(doc);
    expect(doc).toMatchObject({ ok: true, incomplete: false, auditLog: null, source: { kind: 'files', mainlog: [info.mainlog], spool: info.spoolDir, domlogs: null } });
    expect(doc.hosts).toHaveLength(1);
    expect(doc.hosts[0]).toMatchObject({ host: null, ok: true, incomplete: false, error: null });
    expect(doc.verdict).toMatchObject({ kind: 'mailbox', sender: demoManifest(d.root)!.mailbox, sources_failed: [], incomplete: false });
    // Same shape as a host run, key for key.
    const hostDoc = JSON.parse(hostRun.stdout) as Doc;
    expect(sorted(doc)).toEqual(sorted(hostDoc));
    expect(sorted(doc.verdict!)).toEqual(sorted(hostDoc.verdict!));
    expect(sorted(doc.hosts[0]!)).toEqual(sorted(hostDoc.hosts[0]!));
  });

  it('files with an unreadable main log or spool: incomplete, the failed source named, exit 1', async () => {
    const d = await demo();
    const info = simHostInfo(d.root);
    const missing = join(d.base, 'no-such-mainlog');
    const r = await runCli(['investigate', '--mainlog', missing, '--spool', info.spoolDir, '--json']);
    expect(r.code, r.stdout).toBe(1);
    const doc = JSON.parse(r.stdout) as Doc;
    expectShape(doc);
    expect(doc).toMatchObject({ ok: false, incomplete: true });
    expect(doc.hosts[0]).toMatchObject({ host: null, ok: false, incomplete: true, error: null });
    expect(doc.verdict?.sources_failed).toEqual(['mainlog']);
    expect(doc.verdict?.problems.join('\n')).toContain(missing);

    const noSpool = join(d.base, 'no-such-spool');
    const s = await runCli(['investigate', '--mainlog', info.mainlog, '--spool', noSpool, '--json']);
    expect(s.code, s.stdout).toBe(1);
    const spoolDoc = JSON.parse(s.stdout) as Doc;
    expectShape(spoolDoc);
    expect(spoolDoc).toMatchObject({ ok: false, incomplete: true, verdict: { sources_failed: ['spool'], incomplete: true } });
  });

  it('a host where detection fails: entry with an error and no verdict, exit 1; the text report names it too', async () => {
    const d = await demo();
    breakExim(d.root);
    const r = await runCli(['investigate', '--host', 'demo', '--json', '--audit-dir', d.auditDir], { env: d.env });
    expect(r.code, r.stdout).toBe(1);
    const doc = JSON.parse(r.stdout) as Doc;
    expectShape(doc);
    expect(doc).toMatchObject({ ok: false, incomplete: false, verdict: null, source: { kind: 'host', hosts: ['demo'] } });
    expect(doc.hosts[0]).toMatchObject({ host: 'demo', ok: false, verdict: null });
    expect(doc.hosts[0]!.error).toEqual(expect.any(String));

    const text = await runCli(['investigate', '--host', 'demo', '--audit-dir', d.auditDir], { env: d.env });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/could not investigate/);
  });

  it('a fleet (--inventory): one entry per host in order, no top-level verdict, exit 1 when one host fails', async () => {
    const good = await demo();
    const bad = await demo();
    breakExim(bad.root);
    const hostOf = (root: string) => {
      const info = simHostInfo(root);
      return { hostname: 'local', tools: info.tools, layout: { ...info.layout, lockDir: join(root, 'var/sim/runbook.lock') }, vars: { allow_documentation_ips: true } };
    };
    const inventory = join(good.base, 'inventory.yml');
    writeFileSync(inventory, JSON.stringify({ hosts: { mail1: hostOf(good.root), mail2: hostOf(bad.root) } }));
    const r = await runCli(['investigate', '-i', inventory, '--json', '--audit-dir', good.auditDir]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const doc = JSON.parse(r.stdout) as Doc;
    expectShape(doc);
    expect(doc).toMatchObject({ ok: false, verdict: null, source: { kind: 'host', hosts: ['mail1', 'mail2'] } });
    expect(doc.hosts.map((e) => e.host)).toEqual(['mail1', 'mail2']);
    expect(doc.hosts[0]).toMatchObject({ ok: true, error: null, verdict: { kind: 'mailbox', sender: demoManifest(good.root)!.mailbox } });
    expect(doc.hosts[1]).toMatchObject({ ok: false, verdict: null });
  });
});
