// The retention rule over hand-written audit records: what makes a quarantine spare at once.
import { describe, expect, it } from 'vitest';
import { builtinActions } from '../../src/actions/registry.js';
import type { AuditRecord } from '../../src/audit/records.js';
import { DEFAULT_RETENTION_SECONDS, findQuarantines } from '../../src/undo/quarantine-retention.js';

const registry = builtinActions();
const DIR = '/var/spool/exim/runbook-quarantine/20261207T101500Z-a1b2c3';
const IDS = ['1vAbCd-000Aaa-01', '1vAbCd-000Aaa-02', '1vAbCd-000Aaa-03'];

let seq = 0;
const rec = (r: Record<string, unknown>): AuditRecord => ({ seq: seq++, prev: '0'.repeat(64), ...r }) as unknown as AuditRecord;
const header = (ts: string, mode: 'apply' | 'undo'): AuditRecord => rec({ type: 'run.header', ts, mode, runId: `r${seq}` });

function purgeRun(): { log: string; records: AuditRecord[] } {
  const ts = '2026-12-07T10:15:00.000Z';
  return {
    log: 'purge.jsonl',
    records: [
      header(ts, 'apply'),
      rec({ type: 'step.start', ts, host: 'mx1', step: 'purge', action: 'exim.queue.quarantine', mutates: true, params: {} }),
      rec({ type: 'note', ts, host: 'mx1', step: 'purge', message: 'quarantine', data: { quarantine: DIR } }),
      rec({ type: 'step.finish', ts, host: 'mx1', step: 'purge', action: 'exim.queue.quarantine', status: 'changed', durationMs: 1, changes: [{ kind: 'messages-removed', count: IDS.length, ids: IDS, quarantine: DIR }] }),
    ],
  };
}

function restoreRun(params: Record<string, unknown>, ids: string[]): { log: string; records: AuditRecord[] } {
  const ts = '2026-12-07T11:00:00.000Z';
  return {
    log: 'restore.jsonl',
    records: [
      header(ts, 'apply'),
      rec({ type: 'step.start', ts, host: 'mx1', step: 'restore', action: 'exim.queue.restore', mutates: true, params: { quarantine: DIR, ...params } }),
      rec({ type: 'step.finish', ts, host: 'mx1', step: 'restore', action: 'exim.queue.restore', status: 'changed', durationMs: 1, changes: [{ kind: 'messages-restored', count: ids.length, ids, quarantine: DIR }] }),
    ],
  };
}

const NOW = new Date('2026-12-08T00:00:00Z');

describe('findQuarantines', () => {
  it('a quarantine whose every message was put back is spare at once', () => {
    const [q] = findQuarantines([purgeRun(), restoreRun({}, IDS)], registry, NOW, DEFAULT_RETENTION_SECONDS);
    expect(q).toMatchObject({ dir: DIR, state: 'restored', due: true });
    // As the undo of the purge asks: every removed message by its ID.
    const [u] = findQuarantines([purgeRun(), restoreRun({ ids: IDS }, IDS)], registry, NOW, DEFAULT_RETENTION_SECONDS);
    expect(u).toMatchObject({ dir: DIR, state: 'restored', due: true });
  });

  it('restores of chosen messages that together asked back every one make it spare', () => {
    const [q] = findQuarantines([purgeRun(), restoreRun({ ids: [IDS[0]] }, [IDS[0]!]), restoreRun({ ids: IDS.slice(1) }, IDS.slice(1))], registry, NOW, DEFAULT_RETENTION_SECONDS);
    expect(q).toMatchObject({ dir: DIR, state: 'restored', due: true });
  });

  it('a restore of some of its messages leaves the copy kept for its retention: it is still the only undo of the others', () => {
    const [q] = findQuarantines([purgeRun(), restoreRun({ ids: [IDS[0]] }, [IDS[0]!])], registry, NOW, DEFAULT_RETENTION_SECONDS);
    expect(q).toMatchObject({ dir: DIR, state: 'kept', due: false });
  });

  it('a prune that began deleting and stopped part-way (or never finished) makes the copy partly deleted and due; one that changed nothing does not', () => {
    const ts = '2026-12-07T12:00:00.000Z';
    const prune = (finish: 'failed' | 'unfinished', began: boolean): { log: string; records: AuditRecord[] } => ({
      log: `prune-${finish}-${began}.jsonl`,
      records: [
        header(ts, 'apply'),
        rec({ type: 'step.start', ts, host: 'mx1', step: 'prune_1', action: 'exim.quarantine.prune', mutates: true, params: { quarantine: DIR } }),
        ...(began ? [rec({ type: 'command.intent', ts, host: 'mx1', step: 'prune_1', argv: ['rm', '-f', '--', `${DIR}/${IDS[0]}-D`], stdin: 'none', mutates: true })] : []),
        ...(finish === 'failed' ? [rec({ type: 'step.finish', ts, host: 'mx1', step: 'prune_1', action: 'exim.quarantine.prune', status: 'failed', durationMs: 1, error: 'connection lost' })] : []),
      ],
    });
    for (const finish of ['failed', 'unfinished'] as const) {
      const [q] = findQuarantines([purgeRun(), prune(finish, true)], registry, NOW, DEFAULT_RETENTION_SECONDS);
      expect(q, finish).toMatchObject({ dir: DIR, state: 'kept', due: true, prunedPartly: { at: ts, log: `prune-${finish}-true.jsonl` } });
      const [untouched] = findQuarantines([purgeRun(), prune(finish, false)], registry, NOW, DEFAULT_RETENTION_SECONDS);
      expect(untouched, finish).toMatchObject({ state: 'kept', due: false });
      expect(untouched!.prunedPartly).toBeUndefined();
    }
  });
});
