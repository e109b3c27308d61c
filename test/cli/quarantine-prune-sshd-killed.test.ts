// runbook quarantine prune over SSH when the host's sshd dies part-way: the audit log says which
// deletions ran (intent and exit 0), which one was running when the connection went (its result
// unknown, never "failed to start"), and which never started; a second prune finishes the job,
// asking to delete only what is still there, and the quarantine then reads as deleted.
// Real sshd on loopback (test/support/ssh-hosts.ts); the kill lands while a chosen `rm` runs on
// the host (test/support/held-command.ts), which then really runs to its end, as it would.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIncident, type IncidentManifest } from '../../fixtures/generator/incident.mjs';
import type { AuditRecord } from '../../src/audit/records.js';
import type { KeptQuarantine } from '../../src/undo/quarantine-retention.js';
import { holdCommand, type HeldCommand } from '../support/held-command.js';
import { startSshHosts, sshAvailable, type SshTestFleet, type SshTestHost } from '../support/ssh-hosts.js';
import { runCli } from './run-cli.js';

// Past one batch of 500 files per rm: the prune runs two file batches, then the manifest, then rmdir.
const SIZES = { spam: 300, script: 2, legit: 2, bounces: 1, frozen: 0 };

describe.runIf(sshAvailable || process.env.CI)('quarantine prune when sshd is killed part-way', () => {
  let fleet: SshTestFleet;
  let base: string;
  let held: HeldCommand;
  const inventories = new Map<string, string>();
  const manifests = new Map<string, IncidentManifest>();
  const env = (): Record<string, string> => ({ HOME: join(base, 'home'), SSH_AUTH_SOCK: '' });
  const later = new Date(Date.now() + 31 * 86_400_000).toISOString();

  beforeAll(async () => {
    expect(existsSync(join(process.cwd(), 'dist/cli/main.js')), 'run `npm run build` first (npm test does)').toBe(true);
    base = mkdtempSync(join(tmpdir(), 'runbook-qprune-kill-'));
    mkdirSync(join(base, 'home'));
    held = holdCommand(base, '/usr/bin/rm');
    // One host per case: each purges its own incident.
    fleet = await startSshHosts(2, {
      namePrefix: 'qk',
      prepare: async ({ name, root, index }) => {
        manifests.set(name, await generateIncident({ root, mode: 'synthetic', sizes: SIZES, seed: 300 + index }));
      },
      binds: () => [held.bind],
    });
    for (const h of fleet.hosts) {
      const m = manifests.get(h.name)!;
      const inventory = join(base, `${h.name}.json`);
      writeFileSync(inventory, JSON.stringify({ hosts: { [h.name]: { ssh_host: '127.0.0.1', port: h.port, user: 'root', identity_file: fleet.clientKey, tools: m.tools, layout: m.layout } } }));
      inventories.set(h.name, inventory);
    }
  }, 180_000);

  afterAll(async () => {
    held?.dispose();
    await fleet?.stop();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  const cli = (h: SshTestHost, args: string[]) => runCli([...args, '-i', inventories.get(h.name)!, '--known-hosts', fleet.knownHostsFile], { env: env(), timeoutMs: 170_000 });

  async function purge(h: SshTestHost, auditDir: string): Promise<string> {
    const m = manifests.get(h.name)!;
    const r = await cli(h, ['run', 'exim.queue.quarantine', '--with', `sender=${m.mailbox}`, '--yes', '--audit-dir', auditDir]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const list = await runCli(['quarantine', 'list', '--audit-dir', auditDir, '--json'], { env: env() });
    const q = (JSON.parse(list.stdout) as { quarantines: KeptQuarantine[] }).quarantines;
    expect(q).toHaveLength(1);
    return q[0]!.dir;
  }

  function records(auditDir: string, kind: string): AuditRecord[][] {
    // In the order the runs started (two may share a second in their file names).
    return readdirSync(auditDir)
      .filter((f) => f.includes(kind))
      .map((f) => readFileSync(join(auditDir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord))
      .sort((a, b) => (a[0]!.ts < b[0]!.ts ? -1 : 1));
  }

  const deletions = (log: AuditRecord[]) =>
    log.filter((r): r is Extract<AuditRecord, { type: 'command.intent' }> => r.type === 'command.intent' && (r.argv[0] === 'rm' || r.argv[0] === 'rmdir'));
  const resultOf = (log: AuditRecord[], argv: readonly string[]) =>
    log.find((r): r is Extract<AuditRecord, { type: 'command.result' }> => r.type === 'command.result' && JSON.stringify(r.argv) === JSON.stringify(argv));

  // 2: the second file batch is running; 3: the manifest's rm (the files are gone, the directory not).
  it.each([2, 3])('killed while rm call %i of the prune runs: the log tells what ran, a second prune finishes', async (nth) => {
    const h = fleet.hosts[nth - 2]!;
    const auditDir = join(base, `audit-${nth}`);
    const dir = await purge(h, auditDir);
    const listedFiles = readdirSync(dir).filter((n) => n !== 'manifest.json').map((n) => join(dir, n));
    expect(listedFiles.length).toBeGreaterThan(500);

    held.arm(nth);
    const first = cli(h, ['quarantine', 'prune', '--audit-dir', auditDir, '--now', later, '--yes', '--json']);
    await held.reached();
    h.kill();
    await held.release();
    // The rm goes on on the host with its connection gone, as it would: it really deletes.
    expect(await held.finished()).toBe(0);
    held.disarm();
    const r1 = await first;
    expect(r1.code).not.toBe(0);

    const [log1] = records(auditDir, 'quarantine-prune');
    const intents = deletions(log1!);
    // What never started has no intent; what ran has intent and exit 0; the one cut off says its result is unknown.
    expect(intents).toHaveLength(nth);
    for (const intent of intents.slice(0, -1)) expect(resultOf(log1!, intent.argv)).toMatchObject({ exitCode: 0 });
    const cut = resultOf(log1!, intents.at(-1)!.argv);
    expect(cut?.exitCode ?? null).toBeNull();
    if (cut !== undefined) expect(cut.error).not.toMatch(/failed to start/);
    if (cut !== undefined) expect(cut.error).toMatch(/unknown|may have run/);
    const finish = log1!.find((r) => r.type === 'step.finish');
    expect(finish).toMatchObject({ status: 'failed' });
    expect((finish as { error?: string }).error).toMatch(/may have run|result (is )?unknown/);
    // The files the log says were deleted are gone; the rest of the manifest's files are there.
    const removedByLog = new Set(intents.slice(0, -1).flatMap((i) => i.argv.slice(3)));
    for (const f of removedByLog) expect(existsSync(f), f).toBe(false);

    // The listing says a prune began it: its purge can no longer be fully undone.
    const between = await runCli(['quarantine', 'list', '--audit-dir', auditDir, '--json'], { env: env() });
    const [q] = (JSON.parse(between.stdout) as { quarantines: KeptQuarantine[] }).quarantines;
    expect(q).toMatchObject({ dir, state: 'kept', due: true, prunedPartly: { log: expect.stringContaining('quarantine-prune') } });

    await h.restart();
    const r2 = await cli(h, ['quarantine', 'prune', '--audit-dir', auditDir, '--now', later, '--yes', '--json']);
    expect(r2.code, r2.stdout + r2.stderr).toBe(0);
    expect(existsSync(dir)).toBe(false);
    const log2 = records(auditDir, 'quarantine-prune').at(-1)!;
    // Nothing is deleted twice: the second run asks only for what was still there.
    const again = deletions(log2).flatMap((i) => i.argv.slice(i.argv[0] === 'rm' ? 3 : 2));
    const cutOff = new Set(intents.at(-1)!.argv.slice(3));
    for (const f of again) {
      expect(removedByLog.has(f), `${f} deleted twice`).toBe(false);
      expect(cutOff.has(f), `${f} was deleted by the cut-off rm`).toBe(false);
    }
    expect(log2.some((r) => r.type === 'step.finish' && r.status === 'changed')).toBe(true);
    // Every file of the manifest is accounted for: deleted by an rm that exited 0 (first run),
    // found gone by the second (the cut-off rm had done its work), or deleted by the second.
    const foundGone = log2.flatMap((r) => (r.type === 'note' ? ((r.data as { already_gone?: string[] } | undefined)?.already_gone ?? []) : []));
    for (const f of cutOff) if (f !== join(dir, 'manifest.json')) expect(foundGone, f).toContain(f);
    const accounted = new Set([...removedByLog, ...foundGone, ...again]);
    for (const f of listedFiles) expect(accounted.has(f), f).toBe(true);
    const list = await runCli(['quarantine', 'list', '--audit-dir', auditDir, '--json', '--now', later], { env: env() });
    expect((JSON.parse(list.stdout) as { quarantines: KeptQuarantine[] }).quarantines.map((q) => q.state)).toEqual(['deleted']);
  }, 400_000);
});
