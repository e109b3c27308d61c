// A host that goes away mid-run keeps the counts of what it already changed, and its outcome
// uses the same word everywhere. Real sshd hosts on loopback (test/support/ssh-hosts.ts); one
// is killed when its purge step starts, after its password reset and script disabling ran.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIncident, type IncidentManifest } from '../../fixtures/generator/incident.mjs';
import { builtinActions } from '../../src/actions/registry.js';
import type { AuditRecord, HostFinishRecord, StepFinishRecord, SummaryRecord } from '../../src/audit/records.js';
import { AuditWriter } from '../../src/audit/writer.js';
import { runPlaybook, type TargetHandle } from '../../src/engine/run.js';
import type { EngineEvent } from '../../src/engine/types.js';
import { acquireHostLock } from '../../src/fleet/lock.js';
import { renderOutcomeTable } from '../../src/fleet/outcome-table.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { resolveInputs } from '../../src/playbook/inputs.js';
import { startSshHosts, sshAvailable, type SshTestFleet, type SshTestHost } from '../support/ssh-hosts.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SIZES = { spam: 16, script: 12, legit: 4, bounces: 2, frozen: 1 };

describe.runIf(sshAvailable || process.env.CI)('counts of a host lost mid-run', () => {
  let fleet: SshTestFleet;
  const manifests = new Map<string, IncidentManifest>();

  beforeAll(async () => {
    fleet = await startSshHosts(2, {
      namePrefix: 'cx',
      prepare: async ({ name, root, index }) => {
        manifests.set(name, await generateIncident({ root, mode: 'synthetic', sizes: SIZES, seed: 700 + index }));
      },
    });
  });

  afterAll(async () => {
    await fleet?.stop();
  });

  /** Password resets the simulator really performed on a host. */
  function passwordResets(h: SshTestHost): number {
    const calls = join(manifests.get(h.name)!.root, 'var/log/sim-calls.log');
    return existsSync(calls) ? readFileSync(calls, 'utf8').split('\n').filter((l) => l.includes('"tool":"whmapi1"')).length : 0;
  }

  it('the host whose sshd dies during purge keeps its reset and disabled script in its counts and the run summary', async () => {
    const [healthy, dies] = fleet.hosts as [SshTestHost, SshTestHost];
    const targets: TargetHandle[] = fleet.hosts.map((h) => ({
      name: h.name,
      connect: async () => ({ name: h.name, transport: fleet.transport(h), tools: manifests.get(h.name)!.tools, layout: manifests.get(h.name)!.layout, vars: { allow_documentation_ips: true } }),
    }));
    const registry = builtinActions();
    const playbook = await loadPlaybook('playbooks/spam-incident.yml', registry);
    const auditPath = join(mkdtempSync(join(tmpdir(), 'runbook-counts-')), 'run.jsonl');
    const audit = AuditWriter.create(auditPath);
    const events: EngineEvent[] = [];
    let killed = false;
    const report = await runPlaybook({
      playbook,
      inputs: resolveInputs(playbook.spec, { min_messages: '8', watch_for: '1s' }, {}),
      targets,
      registry,
      dryRun: false,
      gatekeeper: { ask: async () => ({ answer: 'accepted', by: 'test' }) },
      audit,
      argv: ['apply'],
      toolVersion: 'test',
      observer: (event) => {
        events.push(event);
        // The event: purge starts on the host that dies; it was reached, its sshd goes now.
        if (!killed && event.type === 'step.start' && event.host === dies.name && event.step === 'purge') {
          killed = true;
          dies.kill();
        }
      },
      signal: new AbortController().signal,
      deliverSecret: async () => 'test sink',
      lockHost: async (target) => {
        const lock = await acquireHostLock(target, { runId: 'counts-test' });
        return () => lock.release();
      },
      forks: 2,
    });
    audit.close();
    expect(killed, 'the run reached the purge on the host that dies').toBe(true);

    // What really happened on the host that died: one reset, the script disabled.
    const diesManifest = manifests.get(dies.name)!;
    expect(passwordResets(dies)).toBe(1);
    expect(statSync(diesManifest.script.path).mode & 0o777).toBe(0);
    expect(passwordResets(healthy)).toBe(1);

    const outcome = report.outcomes.find((o) => o.host === dies.name)!;
    expect(outcome).toMatchObject({ status: 'unreachable', counts: { passwords_reset: 1, files_disabled: 1 } });
    expect(outcome.counts.messages_purged ?? 0).toBe(0);

    const records = readFileSync(auditPath, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    const finish = records.find((r): r is HostFinishRecord => r.type === 'host.finish' && r.host === dies.name)!;
    expect(finish).toMatchObject({ status: 'unreachable', counts: { passwords_reset: 1, files_disabled: 1 } });
    const summary = records.at(-1) as SummaryRecord;
    expect(summary).toMatchObject({ type: 'run.summary', hosts: { [healthy.name]: 'changed', [dies.name]: 'unreachable' } });
    // Two passwords were reset, one on each host.
    expect(summary.counts.passwords_reset).toBe(2);
    expect(summary.counts.files_disabled).toBe(2);
    // The lock it could not release is on record, and did not cost the outcome.
    expect(records.some((r) => r.type === 'note' && r.host === dies.name && /could not release the run lock/.test(r.message))).toBe(true);

    // One word for one state: the table, the progress events and the skipped steps all say unreachable.
    const row = renderOutcomeTable(report.outcomes, { color: false }).split('\n').find((l) => l.startsWith(dies.name))!;
    expect(row).toMatch(new RegExp(`^${dies.name}\\s+unreachable\\s`));
    const hostEvent = events.find((e): e is Extract<EngineEvent, { type: 'host.finish' }> => e.type === 'host.finish' && e.outcome.host === dies.name)!;
    expect(hostEvent.outcome.status).toBe('unreachable');
    // Steps skipped after the host was lost (a foreach with no items before it is skipped for that reason).
    const lostAt = records.find((r) => r.type === 'step.start' && r.host === dies.name && r.step === 'purge')!.seq;
    const after = records.filter((r): r is StepFinishRecord => r.type === 'step.finish' && r.host === dies.name && r.status === 'skipped' && r.seq > lostAt);
    expect(after.length).toBeGreaterThan(0);
    for (const step of after) expect(step.summary).toBe('not run: host unreachable');
    expect(JSON.stringify(events.filter((e) => 'host' in e && e.host === dies.name))).not.toMatch(/"status":"failed"[^}]*host unreachable/);
  }, 300_000);
});
