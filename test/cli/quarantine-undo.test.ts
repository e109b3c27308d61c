import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireExim, startEximHost, type EximTestHost } from '../support/exim.js';
import { runCli } from './run-cli.js';

/** Each message's `exim -bp` entry without its age column (which moves with the clock), by ID. */
function entries(listing: string): Map<string, string> {
  const byId = new Map<string, string>();
  for (const block of listing.split(/\n\n+/)) {
    const m = /^\s*\d+[mhd]\s+(\S+\s+(\S+) <[\s\S]*)$/.exec(block);
    if (m !== null) byId.set(m[2] ?? '', (m[1] ?? '').trimEnd());
  }
  return byId;
}

/** The acceptance of the quarantine, as an operator runs it: remove with quarantine, then runbook undo on the log. */
describe.runIf(requireExim())('runbook undo of a quarantining purge on a real Exim queue', () => {
  let host: EximTestHost;
  let base: string;
  let inventory: string;

  beforeAll(async () => {
    host = await startEximHost({ sizes: { spam: 12, script: 2, legit: 2, bounces: 1, frozen: 1 } });
    base = mkdtempSync(join(tmpdir(), 'runbook-quarantine-'));
    inventory = join(base, 'inventory.yml');
    writeFileSync(inventory, JSON.stringify({ hosts: { mail1: { hostname: 'local', tools: host.info.tools, layout: { ...host.info.layout, lockDir: join(host.root, 'var/sim/runbook.lock') } } } }));
  });
  afterAll(async () => {
    await host?.stop();
    if (base !== undefined) rmSync(base, { recursive: true, force: true });
  });

  it('puts every removed message back, listed by exim -bp with the same ID, sender, recipients and state', async () => {
    const sender = host.manifest!.mailbox;
    const before = entries((await host.exim(['-bp'])).stdout);
    const spam = [...before].filter(([, text]) => text.includes(`<${sender}>`)).map(([id]) => id);
    expect(spam.length).toBeGreaterThanOrEqual(12);
    // One of them frozen: it must come back frozen.
    const frozen = spam[0]!;
    await host.exim(['-Mf', frozen]);
    before.set(frozen, entries((await host.exim(['-bp'])).stdout).get(frozen)!);
    expect(before.get(frozen)).toMatch(/\*\*\* frozen \*\*\*/);

    const auditDir = join(base, 'audit');
    const purge = await runCli(['run', 'exim.queue.quarantine', '-i', inventory, '--with', `sender=${sender}`, '--yes', '--audit-dir', auditDir], { timeoutMs: 170_000 });
    expect(purge.code, purge.stdout + purge.stderr).toBe(0);
    const during = entries((await host.exim(['-bp'])).stdout);
    for (const id of spam) expect(during.has(id)).toBe(false);

    const log = join(auditDir, readdirSync(auditDir).find((f) => f.endsWith('.jsonl'))!);
    const undo = await runCli(['undo', log, '-i', inventory, '--yes', '--audit-dir', join(base, 'undo')], { timeoutMs: 170_000 });
    expect(undo.code, undo.stdout + undo.stderr).toBe(0);
    expect(undo.stdout).not.toMatch(/Cannot be undone/);
    const after = entries((await host.exim(['-bp'])).stdout);
    expect(after.size).toBe(before.size);
    for (const [id, text] of before) expect(after.get(id), id).toBe(text);
  }, 180_000);
});
