// The write-ahead promise on a full disk: the audit directory is a small tmpfs, sized so that
// space runs out inside a chosen record of a real run of playbooks/spam-incident.yml against the
// simulated cPanel host. No changing command may reach the host unless its whole intent record
// is on disk, and `verify` must call a torn last line incomplete, not tampered.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { builtinActions } from '../../src/actions/registry.js';
import type { AuditRecord } from '../../src/audit/records.js';
import { TORN_LAST_RECORD, verifyAuditText } from '../../src/audit/verify.js';
import { AuditWriteError, AuditWriter } from '../../src/audit/writer.js';
import { runPlaybook } from '../../src/engine/run.js';
import { acquireHostLock } from '../../src/fleet/lock.js';
import { createDemoHost, demoManifest } from '../../src/hosts/demo.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { resolveInputs } from '../../src/playbook/inputs.js';

const PAGE = 4096;
const MIN_SIZE = 32 * 1024;
// Room for the whole spam playbook run (about 200 KiB of log with its detection and blocklist steps).
const MAX_SIZE = 512 * 1024;
const isRoot = process.getuid?.() === 0;
const inCi = (process.env.CI ?? '') !== '';

/** A simulator call or a logged command, as the same key: tool name and arguments. */
function callKey(tool: string, args: readonly string[]): string {
  const name = tool.startsWith('restartsrv_') ? 'restartsrv' : tool;
  // maldet names a scan by the time it ran (`-E 261207-1436.18074`): one call, whatever the clock.
  const stable = name === 'maldet' ? args.map((a) => a.replace(/^\d{6}-\d{4}\.\d+$/, 'SCANID')) : args;
  return `${name} ${JSON.stringify(stable)}`;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

interface RunResult {
  text: string;
  error: unknown;
  /** Simulator calls made during the run. */
  calls: string[];
  scriptPath: string;
  scriptMode: number;
  /** The host's run lock is still there after the run. */
  lockLeft: boolean;
}

describe.skipIf(!isRoot && !inCi)('audit log on a full disk (tmpfs)', () => {
  let base: string;
  let mountDir: string;
  let mounted = false;
  const registry = builtinActions();

  beforeAll(() => {
    // Under CI a missing part fails the test; mounting needs root.
    expect(isRoot, 'mounting a tmpfs for the audit directory needs root').toBe(true);
    base = mkdtempSync(join(tmpdir(), 'runbook-fulldisk-'));
    mountDir = join(base, 'audit');
    execFileSync('mkdir', [mountDir]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${MAX_SIZE},mode=0700`, 'tmpfs', mountDir]);
    mounted = true;
  });

  afterAll(() => {
    if (mounted) execFileSync('umount', [mountDir]);
    if (base) rmSync(base, { recursive: true, force: true });
  });

  /** One apply of the spam playbook with the audit tmpfs limited to `size` bytes. */
  async function applyWithin(size: number, padding: number, lock = false): Promise<RunResult> {
    const auditPath = join(mountDir, 'run.jsonl');
    if (existsSync(auditPath)) unlinkSync(auditPath);
    execFileSync('mount', ['-o', `remount,size=${size}`, mountDir]);
    // One staged incident, copied to the same path for every run: paths are in the records.
    const root = join(base, 'host');
    const template = join(base, 'template');
    if (!existsSync(template)) {
      await createDemoHost({ root, reset: true });
      execFileSync('cp', ['-a', root, template]);
    }
    rmSync(root, { recursive: true, force: true });
    execFileSync('cp', ['-a', template, root]);
    const target = await createDemoHost({ root });
    const manifest = demoManifest(root)!;
    const callLog = join(root, 'var/log/sim-calls.log');
    const callsBefore = existsSync(callLog) ? readFileSync(callLog, 'utf8').split('\n').filter(Boolean).length : 0;
    const playbook = await loadPlaybook('playbooks/spam-incident.yml', registry);
    const audit = AuditWriter.create(auditPath);
    let error: unknown;
    // Frozen for the run so every record has the same length each time (durationMs is the one
    // field that varies): the page where the disk fills then lands inside the record aimed at.
    const clock = vi.spyOn(performance, 'now').mockReturnValue(0);
    try {
      await runPlaybook({
        playbook,
        inputs: resolveInputs(playbook.spec, { watch_for: '1s' }, {}),
        targets: [{ name: 'demo', connect: async () => target }],
        registry,
        dryRun: false,
        gatekeeper: { ask: async () => ({ answer: 'accepted', by: 'test' }) },
        audit,
        // The header records argv: its length moves every later record across page boundaries.
        argv: ['apply', 'playbooks/spam-incident.yml', 'x'.repeat(padding)],
        toolVersion: 'test',
        observer: () => {},
        signal: new AbortController().signal,
        deliverSecret: async () => 'test sink',
        ...(lock
          ? {
              lockHost: async (locked: typeof target) => {
                const held = await acquireHostLock(locked, { runId: 'full-disk' });
                return () => held.release();
              },
            }
          : {}),
      });
    } catch (caught) {
      error = caught;
    } finally {
      clock.mockRestore();
      audit.close();
    }
    const calls = readFileSync(callLog, 'utf8').split('\n').filter(Boolean).slice(callsBefore).map((l) => {
      const call = JSON.parse(l) as { tool: string; argv: string[] };
      return callKey(call.tool, call.argv);
    });
    return { text: readFileSync(auditPath, 'utf8'), error, calls, scriptPath: manifest.script.path, scriptMode: statSync(manifest.script.path).mode & 0o7777, lockLeft: existsSync(target.layout.lockDir!) };
  }

  function intentKey(record: AuditRecord): string | undefined {
    if (record.type !== 'command.intent') return undefined;
    return callKey(basename(record.argv[0]!), record.argv.slice(1));
  }

  it('never lets a changing command run without its whole intent on disk, and verify calls the cut line incomplete', async () => {
    // A run with room for everything: where each record lies, and which simulator calls are reads.
    const reference = await applyWithin(MAX_SIZE, 0);
    expect(reference.error).toBeUndefined();
    expect(verifyAuditText(reference.text).ok).toBe(true);
    const lines = reference.text.trimEnd().split('\n');
    const records = lines.map((l) => JSON.parse(l) as AuditRecord);
    const offsets: number[] = [];
    lines.reduce((at, line) => (offsets.push(at), at + Buffer.byteLength(line) + 1), 0);
    expect(reference.text.length).toBeLessThan(MAX_SIZE);
    // A read is a call the reference run made more often than it recorded intents for it: a
    // mutating step's run may repeat a planning read (`exim -bP`) under an intent of its own.
    const referenceIntents = records.map(intentKey).filter((k) => k !== undefined);
    const timesIn = (list: readonly string[], k: string) => list.filter((x) => x === k).length;
    const reads = new Set(reference.calls.filter((k) => timesIn(reference.calls, k) > timesIn(referenceIntents, k)));
    expect(reference.calls.some((k) => k.startsWith('exim ["-Mrm"'))).toBe(true);

    // Where to cut: inside one record of every type, and the first purge intent at every edge.
    const firstOf = (predicate: (r: AuditRecord) => boolean) => records.findIndex(predicate);
    const mrm = firstOf((r) => r.type === 'command.intent' && r.argv.includes('-Mrm'));
    const mrmLine = lines[mrm]!;
    type Cut = { label: string; seq: number; at: number; exact?: 'missing' | 'no-newline' };
    const cuts: Cut[] = [...new Set(records.map((r) => r.type))].map((type) => {
      const seq = firstOf((r) => r.type === type);
      return { label: `inside the first ${type}`, seq, at: Math.floor(lines[seq]!.length / 2) };
    });
    cuts.push(
      { label: 'exim -Mrm intent: none of it written', seq: mrm, at: 0, exact: 'missing' },
      { label: 'exim -Mrm intent: cut before the command name', seq: mrm, at: Math.floor(mrmLine.indexOf('"argv"') / 2) },
      { label: 'exim -Mrm intent: cut mid-argv', seq: mrm, at: mrmLine.indexOf('-Mrm') + 200 },
      { label: 'exim -Mrm intent: all but its newline', seq: mrm, at: mrmLine.length, exact: 'no-newline' },
    );

    const seen: string[] = [];
    for (const cut of cuts) {
      // The header grows with the padding itself; every later record moves by it.
      let size: number;
      let padding: number;
      if (cut.seq === 0) {
        size = MIN_SIZE;
        padding = MIN_SIZE;
      } else {
        size = Math.max(MIN_SIZE, Math.ceil((offsets[cut.seq]! + cut.at) / PAGE) * PAGE);
        padding = size - offsets[cut.seq]! - cut.at;
      }
      let result: RunResult | undefined;
      // Should a record still differ in length from the reference run, aim again from where this cut fell.
      for (let attempt = 0; attempt < 3; attempt += 1) {
        result = await applyWithin(size, padding);
        const got = result.text.split('\n');
        const complete = got.length - 1;
        const torn = got.at(-1)!;
        const landed = complete === cut.seq && (cut.exact === undefined ? torn !== '' : cut.exact === 'missing' ? torn === '' : isJson(torn));
        if (landed) break;
        // Move the cut by how far it fell from the aim: records differ by a byte or two per run.
        const startOf = (i: number) => got.slice(0, i).reduce((at, l) => at + Buffer.byteLength(l) + 1, 0);
        const shifted = (i: number) => offsets[i]! + (i === 0 ? 0 : padding);
        const targetStart = complete >= cut.seq ? startOf(cut.seq) : shifted(cut.seq) + startOf(complete) - shifted(complete);
        padding += size - targetStart - cut.at;
        if (padding < 0) {
          size += PAGE;
          padding += PAGE;
        }
      }
      const { text, error, calls } = result!;

      // 1. The run stopped with an audit error that says what did and did not happen.
      expect(error, cut.label).toBeInstanceOf(AuditWriteError);
      const message = (error as Error).message;
      expect(message).not.toMatch(/Nothing was changed after this point/);

      // 2. Every changing simulator call follows a complete intent for exactly that command.
      const logged = text.split('\n').slice(0, -1).map((l) => JSON.parse(l) as AuditRecord);
      const intents = logged.map(intentKey).filter((k) => k !== undefined);
      const changing = calls.filter((k) => !reads.has(k));
      for (const call of new Set(changing)) {
        expect(changing.filter((k) => k === call).length, `${cut.label}: ${call} ran without its intent on disk`).toBeLessThanOrEqual(intents.filter((k) => k === call).length);
      }
      const chmodLogged = logged.some((r) => r.type === 'command.intent' && r.argv[0] === 'chmod');
      if (!chmodLogged) expect(result!.scriptMode, `${cut.label}: the script was disabled without its intent on disk`).toBe(0o644);

      // 3. The error tells the truth about what changed.
      const changed = changing.length > 0 || result!.scriptMode !== 0o644;
      if (changed) expect(message).toMatch(/Changing commands that ran before \(their records are in the log\)/);
      else expect(message).toMatch(/nothing was changed/);
      const failedAt = records[logged.length];
      if (failedAt?.type === 'command.intent') expect(message).toMatch(/Stopped before running `\S+/);

      // 4. verify: a torn last line is an incomplete record, never tampering.
      const verdict = verifyAuditText(text);
      expect(verdict.ok).toBe(false);
      if (!text.endsWith('\n')) {
        expect(verdict.torn, cut.label).toBe(true);
        expect(verdict.problem?.message).toContain(TORN_LAST_RECORD);
        expect(verdict.records).toHaveLength(logged.length);
      } else {
        expect(verdict.torn).toBeUndefined();
        expect(verdict.problem?.message).toMatch(/no run summary/);
      }
      seen.push(`${cut.label}: ${text.endsWith('\n') ? 'missing' : 'torn'} ${failedAt?.type ?? '?'}`);
    }
    // Each cut landed where it was aimed: every record type was torn, and the purge intent at every edge.
    expect(seen).toEqual(cuts.map((c) => `${c.label}: ${c.exact === 'missing' ? 'missing' : 'torn'} ${records[c.seq]!.type}`));
  }, 900_000);

  it('releases the host lock when the log fills after the lock was taken, so the next run is not refused', async () => {
    const reference = await applyWithin(MAX_SIZE, 0, true);
    expect(reference.error).toBeUndefined();
    expect(reference.lockLeft).toBe(false);
    const lines = reference.text.trimEnd().split('\n');
    // Cut inside the first changing command after the lock, and inside the purge's intent.
    const lockAt = lines.findIndex((l) => l.includes('"command.intent"') && l.includes('"mkdir"'));
    const mrmAt = lines.findIndex((l) => l.includes('"command.intent"') && l.includes('-Mrm'));
    expect(lockAt).toBeGreaterThan(0);
    expect(mrmAt).toBeGreaterThan(lockAt);
    const startOf = (i: number) => lines.slice(0, i).reduce((at, l) => at + Buffer.byteLength(l) + 1, 0);
    for (const seq of [lockAt + 4, mrmAt]) {
      const size = Math.ceil((startOf(seq) + 10) / PAGE) * PAGE;
      const result = await applyWithin(size, size - startOf(seq) - 10, true);
      expect(result.error).toBeInstanceOf(AuditWriteError);
      // The lock was taken (its intent is on record) and is gone all the same.
      expect(result.text).toContain('runbook.lock');
      expect(result.lockLeft).toBe(false);
    }
  }, 300_000);
});
