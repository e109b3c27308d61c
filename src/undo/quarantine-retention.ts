import { createHash } from 'node:crypto';
import type { ActionRegistry } from '../actions/registry.js';
import { pairSteps } from '../audit/read.js';
import type { AuditRecord, HeaderRecord, NoteRecord } from '../audit/records.js';
import type { LoadedPlaybook } from '../playbook/load.js';
import { readAuditRuns, type ExpiryScan } from './expire.js';
import { undoPlaybook, type UndoPlan } from './plan.js';

/*
 * Quarantine retention: a purge with quarantine leaves a copy of every removed message on the
 * host so that `runbook undo` can put it back; nothing else ever deletes those copies. They are
 * kept for a retention (30 days by default) counted from the purge, then an explicit, audited
 * `runbook quarantine prune` deletes them. The rule, over every audit log of one directory, in
 * the manner of the expiry of holds:
 *
 *   a quarantine is what a purge recorded (the note with its directory and manifest sha256,
 *   written whether the purge finished or stopped part-way); the newest finished step about its
 *   directory decides what it is now: deleted (a step of an action that declares `removes`),
 *   or restored (`messages-restored` changes from it that asked back every message its purge
 *   removed: the purge was undone, the copy is spare; after a restore of some, it is kept).
 *
 * A kept copy is due once its retention has passed; a restored one at once. A copy within its
 * retention is the only undo of its purge: it is deleted only when the operator says so.
 */

export const DEFAULT_RETENTION_SECONDS = 30 * 86_400;

export type QuarantineState = 'kept' | 'restored' | 'deleted';

export interface KeptQuarantine {
  host: string;
  dir: string;
  /** When the purge wrote it (its note), ISO 8601. */
  created: string;
  /** Messages in it, when the purge's step said. */
  messages: number | undefined;
  manifestSha256: string | undefined;
  /** The audit log and step of the purge. */
  log: string;
  step: string;
  state: QuarantineState;
  /** When the newest step made it `restored` or `deleted`. */
  since?: string;
  /** The end of its retention: created + retention. */
  expires: string;
  /** Deleting it now needs no override: retention passed, its messages were put back, or a prune began it. */
  due: boolean;
  /**
   * A prune began deleting it and stopped part-way (its write-ahead intents are on record, its
   * step did not finish): some copies may be gone, so its purge can no longer be fully undone.
   */
  prunedPartly?: { at: string; log: string };
}

export interface QuarantineScan {
  quarantines: KeptQuarantine[];
  skipped: ExpiryScan['skipped'];
  logs: number;
}

/** Retention text (`30d`, `12h`, `90m`, `3600s`, `2w`) in seconds, or null. Pure. */
export function parseRetention(text: string): number | null {
  const m = /^(\d+)([smhdw])$/.exec(text.trim());
  if (m === null) return null;
  const unit = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}

function stringField(data: Record<string, unknown> | undefined, key: string): string | undefined {
  const v = data?.[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The quarantines runs recorded and what became of them, at `now`. Pure: the clock is a parameter. */
export function findQuarantines(runs: readonly { log: string; records: readonly AuditRecord[] }[], registry: ActionRegistry, now: Date, retentionSeconds: number): KeptQuarantine[] {
  const byKey = new Map<string, KeptQuarantine>();
  const key = (host: string, dir: string): string => `${host}\u0000${dir}`;
  const later: { host: string; dir: string; at: string; state: 'restored' | 'deleted'; wanted?: readonly string[] }[] = [];
  /** The messages each purge removed into a quarantine (by key). */
  const removed = new Map<string, readonly string[]>();
  const partly: { host: string; dir: string; at: string; log: string }[] = [];
  for (const run of runs) {
    const header = run.records.find((r): r is HeaderRecord => r.type === 'run.header');
    if (header === undefined || header.mode === 'dry-run') continue;
    const counts = new Map<string, number>();
    const steps = pairSteps(run.records);
    // Deletions that stopped after they began: their first changing command may have run.
    const stopped = [
      ...steps.finished.filter(({ finish }) => finish.status !== 'changed' && finish.status !== 'ok').map(({ start, finish }) => ({ start, at: finish.ts })),
      ...steps.unfinished.map((start) => ({ start, at: start.ts })),
    ];
    for (const { start, at } of stopped) {
      const action = start === undefined ? undefined : registry.get(start.action);
      if (start === undefined || action === undefined || !action.mutates || action.removes === undefined) continue;
      if (!run.records.some((r) => r.type === 'command.intent' && r.host === start.host && r.step === start.step)) continue;
      const dir = action.removes(start.params as never);
      if (dir !== undefined) partly.push({ host: start.host, dir, at, log: run.log });
    }
    for (const { start, finish } of steps.finished) {
      for (const change of finish.changes ?? []) {
        if (change.kind === 'messages-removed' && change.quarantine !== undefined) {
          counts.set(key(finish.host, change.quarantine), change.count);
          removed.set(key(finish.host, change.quarantine), change.ids);
        }
        if (change.kind === 'messages-restored' && finish.status === 'changed') {
          // The messages the restore was asked for (`ids`, else every one in the manifest).
          const ids = start?.params.ids;
          const wanted = Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : start === undefined ? [] : undefined;
          later.push({ host: finish.host, dir: change.quarantine, at: finish.ts, state: 'restored', ...(wanted !== undefined ? { wanted } : {}) });
        }
      }
      if (start === undefined || (finish.status !== 'changed' && finish.status !== 'ok')) continue;
      const action = registry.get(finish.action);
      if (action === undefined || !action.mutates || action.removes === undefined) continue;
      const dir = action.removes(start.params as never);
      if (dir !== undefined) later.push({ host: finish.host, dir, at: finish.ts, state: 'deleted' });
    }
    for (const r of run.records) {
      if (r.type !== 'note') continue;
      const note = r as NoteRecord;
      const dir = stringField(note.data, 'quarantine');
      if (dir === undefined || byKey.has(key(note.host, dir))) continue;
      const created = note.ts;
      const expires = new Date(Date.parse(created) + retentionSeconds * 1000).toISOString();
      byKey.set(key(note.host, dir), {
        host: note.host,
        dir,
        created,
        messages: counts.get(key(note.host, dir)),
        manifestSha256: stringField(note.data, 'manifest_sha256'),
        log: run.log,
        step: note.step,
        state: 'kept',
        expires,
        due: false,
      });
    }
  }
  // The newest step about a directory decides (a restore after a deletion cannot have worked).
  later.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  // Restores of chosen messages: the copy is spare only once every message its purge removed was asked back.
  const asked = new Map<string, Set<string>>();
  for (const event of later) {
    const k = key(event.host, event.dir.replace(/\/+$/, ''));
    const q = byKey.get(k);
    if (q === undefined || q.state === 'deleted') continue;
    if (event.state === 'restored' && event.wanted !== undefined) {
      const set = asked.get(k) ?? new Set<string>();
      asked.set(k, set);
      for (const id of event.wanted) set.add(id);
      const all = removed.get(k);
      if (all === undefined || !all.every((id) => set.has(id))) continue;
    }
    q.state = event.state;
    q.since = event.at;
  }
  for (const p of partly) {
    const q = byKey.get(key(p.host, p.dir.replace(/\/+$/, '')));
    if (q === undefined || q.state === 'deleted' || (q.prunedPartly !== undefined && q.prunedPartly.at > p.at)) continue;
    q.prunedPartly = { at: p.at, log: p.log };
  }
  const out = [...byKey.values()];
  for (const q of out) q.due = q.prunedPartly !== undefined || q.state === 'restored' || (q.state === 'kept' && Date.parse(q.expires) <= now.getTime());
  return out.sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : 0));
}

/** Reads every audit log of a directory and finds the quarantines they recorded. */
export function scanQuarantines(auditDir: string, registry: ActionRegistry, now: Date, retentionSeconds: number): QuarantineScan {
  const { runs, skipped } = readAuditRuns(auditDir);
  return { quarantines: findQuarantines(runs, registry, now, retentionSeconds), skipped, logs: runs.length };
}

/** The deletion as a playbook: one prune step per quarantine, values passed as inputs (never as template text). */
export function prunePlaybook(chosen: readonly KeptQuarantine[], auditDir: string, now: Date, pruneAction: string): { playbook: LoadedPlaybook; inputs: Record<string, unknown>; plan: UndoPlan } {
  const plan: UndoPlan = {
    source: { runId: undefined, playbook: 'quarantine-prune', mode: 'apply' },
    entries: chosen.map((q) => ({
      host: q.host,
      step: q.step,
      action: pruneAction,
      params: { quarantine: q.dir, ...(q.manifestSha256 !== undefined ? { manifest_sha256: q.manifestSha256 } : {}) },
      description: `delete ${q.dir} (${q.prunedPartly !== undefined ? `finish the prune that stopped part-way at ${q.prunedPartly.at}` : q.state === 'restored' ? 'its messages were put back' : Date.parse(q.expires) <= now.getTime() ? `retention ended ${q.expires}` : `WITHIN retention until ${q.expires}: its purge can no longer be undone`})`,
    })),
    irreversible: [],
    manual: [],
    hosts: [...new Set(chosen.map((q) => q.host))],
  };
  const sha256 = createHash('sha256').update(JSON.stringify({ now: now.toISOString(), chosen })).digest('hex');
  const { playbook, inputs } = undoPlaybook(plan, { path: auditDir, sha256 });
  const steps = playbook.spec.steps.map((s, i) => ({ ...s, id: `prune_${i + 1}`, name: `${pruneAction} (purge in ${chosen[i]!.step})`, when: s.when?.replace(/undo_/g, 'prune_') ?? '', with: Object.fromEntries(Object.entries(s.with ?? {}).map(([k, v]) => [k, String(v).replace(/undo_/g, 'prune_')])) }));
  const renamed = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k.replace(/^undo_/, 'prune_'), v]));
  return {
    playbook: { ...playbook, spec: { ...playbook.spec, name: 'quarantine-prune', description: `Delete quarantine copies past their retention at ${now.toISOString()}`, steps } },
    inputs: renamed,
    plan,
  };
}
