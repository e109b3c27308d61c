// runbook quarantine on the demo host's real files: a quarantining purge leaves copies; they are
// listed, kept within retention, deleted past it by an audited run (measured with --now, never
// by waiting), and a deletion never touches anything its manifest does not list.
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { demoManifest, resetDemoHost } from '../../src/hosts/demo.js';
import type { KeptQuarantine } from '../../src/undo/quarantine-retention.js';
import { runCli } from './run-cli.js';

let base: string;
let env: Record<string, string>;
let auditDir: string;
let mailbox: string;

beforeEach(async () => {
  base = mkdtempSync(join(tmpdir(), 'runbook-qprune-'));
  const root = join(base, 'state', 'runbook', 'demo');
  await resetDemoHost(root);
  env = { XDG_STATE_HOME: join(base, 'state') };
  auditDir = join(base, 'audit');
  mailbox = demoManifest(root)!.mailbox;
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

const days = (n: number): string => new Date(Date.now() + n * 86_400_000).toISOString();

async function purge(): Promise<{ dir: string; log: string }> {
  const r = await runCli(['run', 'exim.queue.quarantine', '--host', 'demo', '--with', `sender=${mailbox}`, '--yes', '--audit-dir', auditDir], { env });
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const list = await runCli(['quarantine', 'list', '--audit-dir', auditDir, '--json'], { env });
  const q = (JSON.parse(list.stdout) as { quarantines: KeptQuarantine[] }).quarantines;
  const log = join(auditDir, readdirSync(auditDir).find((f) => f.includes('exim-queue-quarantine'))!);
  return { dir: q.at(-1)!.dir, log };
}

async function quarantines(now?: string): Promise<KeptQuarantine[]> {
  const r = await runCli(['quarantine', 'list', '--audit-dir', auditDir, '--json', ...(now ? ['--now', now] : [])], { env });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { quarantines: KeptQuarantine[] }).quarantines;
}

describe('runbook quarantine', () => {
  it('keeps a copy within its retention, deletes it past it as an audited run, and only once', async () => {
    const { dir } = await purge();
    expect(existsSync(join(dir, 'manifest.json'))).toBe(true);
    const [q] = await quarantines();
    expect(q).toMatchObject({ host: 'demo', dir, state: 'kept', due: false, messages: expect.any(Number) });
    expect(Date.parse(q!.expires) - Date.parse(q!.created)).toBe(30 * 86_400_000);

    // Within retention: refused without the override, nothing deleted, no run.
    const early = await runCli(['quarantine', 'prune', '--audit-dir', auditDir, '--yes', '--json'], { env });
    expect(early.code, early.stderr).toBe(0);
    expect(JSON.parse(early.stdout)).toMatchObject({ status: 'nothing-due', kept: [{ dir }] });
    expect(existsSync(dir)).toBe(true);

    // Past it: a dry-run deletes nothing; without --yes and a terminal, the gate stops it.
    const later = days(31);
    const dry = await runCli(['quarantine', 'prune', '--audit-dir', auditDir, '--now', later, '--dry-run'], { env });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/rmdir/);
    expect(existsSync(join(dir, 'manifest.json'))).toBe(true);
    const ungated = await runCli(['quarantine', 'prune', '--audit-dir', auditDir, '--now', later], { env });
    expect(ungated.code).toBe(3);
    expect(existsSync(join(dir, 'manifest.json'))).toBe(true);

    const pruned = await runCli(['quarantine', 'prune', '--audit-dir', auditDir, '--now', later, '--yes', '--json'], { env });
    expect(pruned.code, pruned.stdout + pruned.stderr).toBe(0);
    const out = JSON.parse(pruned.stdout) as { status: string; auditLog: string; due: KeptQuarantine[] };
    expect(out.status).toBe('ok');
    expect(out.due.map((d) => d.dir)).toEqual([dir]);
    expect(existsSync(dir)).toBe(false);
    // Recorded: the typed change in a log whose chain verifies.
    expect(readFileSync(out.auditLog, 'utf8')).toContain('"kind":"quarantine-removed"');
    const verified = await runCli(['audit', 'verify', out.auditLog], { env });
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);

    expect((await quarantines(later)).map((x) => [x.dir, x.state])).toEqual([[dir, 'deleted']]);
    const again = await runCli(['quarantine', 'prune', '--audit-dir', auditDir, '--now', later, '--yes', '--json'], { env });
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'nothing-due', due: [] });
  }, 180_000);

  it('a copy whose purge was undone is spare at once; one within retention goes only with --within-retention', async () => {
    const first = await purge();
    const undo = await runCli(['undo', first.log, '--host', 'demo', '--yes', '--audit-dir', auditDir], { env });
    expect(undo.code, undo.stdout + undo.stderr).toBe(0);
    const second = await purge();
    expect(second.dir).not.toBe(first.dir);
    const states = Object.fromEntries((await quarantines()).map((q) => [q.dir, [q.state, q.due]]));
    expect(states).toEqual({ [first.dir]: ['restored', true], [second.dir]: ['kept', false] });

    const spare = await runCli(['quarantine', 'prune', '--audit-dir', auditDir, '--yes', '--json'], { env });
    expect(spare.code, spare.stdout + spare.stderr).toBe(0);
    expect(existsSync(first.dir)).toBe(false);
    expect(existsSync(second.dir)).toBe(true);

    const forced = await runCli(['quarantine', 'prune', second.dir, '--within-retention', '--audit-dir', auditDir, '--yes', '--json'], { env });
    expect(forced.code, forced.stdout + forced.stderr).toBe(0);
    expect(existsSync(second.dir)).toBe(false);
  }, 180_000);

  it('deletes nothing from a quarantine holding files its manifest does not list, or whose manifest changed', async () => {
    const { dir } = await purge();
    const later = days(31);
    writeFileSync(join(dir, 'notes.txt'), 'kept by hand\n');
    const extra = await runCli(['quarantine', 'prune', '--audit-dir', auditDir, '--now', later, '--yes', '--json'], { env });
    expect(extra.code).toBe(1);
    expect(extra.stdout).toMatch(/does not list/);
    expect(existsSync(join(dir, 'manifest.json'))).toBe(true);
    expect(readdirSync(dir).length).toBeGreaterThan(2);

    rmSync(join(dir, 'notes.txt'));
    appendFileSync(join(dir, 'manifest.json'), ' ');
    const changed = await runCli(['quarantine', 'prune', '--audit-dir', auditDir, '--now', later, '--yes', '--json'], { env });
    expect(changed.code).toBe(1);
    expect(changed.stdout).toMatch(/sha256 differs/);
    expect(existsSync(join(dir, 'manifest.json'))).toBe(true);

    const unknown = await runCli(['quarantine', 'prune', '/var/spool/exim/runbook-quarantine/20990101T000000Z-abcdef', '--audit-dir', auditDir, '--yes'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no purge .* recorded the quarantine/);
  }, 180_000);
});
