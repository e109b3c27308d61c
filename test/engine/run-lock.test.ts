import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditRecord, CommandIntentRecord, CommandResultRecord } from '../../src/audit/records.js';
import { AuditWriter } from '../../src/audit/writer.js';
import { runPlaybook } from '../../src/engine/run.js';
import { acquireHostLock } from '../../src/fleet/lock.js';
import { CPANEL_LAYOUT, CPANEL_TOOL_PATHS } from '../../src/hosts/types.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { LocalTransport } from '../../src/transport/local.js';
import { testRegistry } from './test-actions.js';

const registry = testRegistry();
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the host lock', () => {
  it('takes and releases the lock through the recorded exec: its commands are in the audit log, intent first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runbook-lock-'));
    dirs.push(dir);
    const lockDir = join(dir, 'runbook.lock');
    const auditPath = join(dir, 'audit', 'run.jsonl');
    const audit = AuditWriter.create(auditPath);
    let heldDuringRun = false;
    const report = await runPlaybook({
      playbook: parsePlaybook(join(dir, 'pb.yml'), `name: lock\nsteps:\n  - id: write\n    action: test.write\n    with: { path: "${join(dir, 'out.txt')}", content: "x" }\n`, registry),
      inputs: {},
      targets: [{ name: 'local', connect: async () => ({ name: 'local', transport: new LocalTransport(), tools: CPANEL_TOOL_PATHS, layout: { ...CPANEL_LAYOUT, lockDir }, vars: {} }) }],
      registry,
      dryRun: false,
      gatekeeper: { ask: async () => ({ answer: 'accepted', by: 'tty:tester' }) },
      audit,
      argv: ['apply', 'pb.yml'],
      toolVersion: 'test',
      observer: (event) => {
        if (event.type === 'step.finish') heldDuringRun = existsSync(join(lockDir, 'owner'));
      },
      signal: new AbortController().signal,
      deliverSecret: async () => 'nowhere',
      lockHost: async (target) => {
        const lock = await acquireHostLock(target, { runId: 'lock-test' });
        return () => lock.release();
      },
    });
    audit.close();
    expect(report.status).toBe('ok');
    expect(heldDuringRun).toBe(true);
    expect(existsSync(lockDir)).toBe(false);
    const records = readFileSync(auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    const intents = records.filter((r): r is CommandIntentRecord => r.type === 'command.intent' && r.step === '-');
    const results = records.filter((r): r is CommandResultRecord => r.type === 'command.result' && r.step === '-');
    expect(intents.map((r) => r.argv[0])).toEqual(['mkdir', 'tee', 'cat', 'rm']);
    expect(results.map((r) => [r.argv[0], r.exitCode])).toEqual([['mkdir', 0], ['tee', 0], ['cat', 0], ['rm', 0]]);
    // Write-ahead: the mkdir's intent is on record before its result.
    expect(records.indexOf(intents[0]!)).toBeLessThan(records.indexOf(results[0]!));
  });
});
