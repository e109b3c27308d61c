import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionRegistry } from '../actions/registry.js';
import type { UndoRecord } from '../actions/types.js';
import { checkChain, pairSteps, parseAuditLog } from '../audit/read.js';
import type { AuditRecord, HeaderRecord } from '../audit/records.js';
import { runPlaybook, type RunOptions, type RunReport } from '../engine/run.js';
import type { Gatekeeper } from '../engine/types.js';
import type { LoadedPlaybook } from '../playbook/load.js';
import { undoPlaybook, type UndoPlan } from './plan.js';

/*
 * Expiry: holds and temporary denies set with a deadline are lifted once it has passed, unless
 * a later run decided otherwise. The rule, over every audit log of one directory:
 *
 *   for each host and held thing (a mailbox's outgoing mail, an account, an address), the
 *   NEWEST finished step that says something about it decides. If that step set a hold whose
 *   deadline is past, its recorded undo runs; anything else (a release, an undo, an expiry run,
 *   a hold without deadline, a permanent deny of the address, a new hold with a later deadline)
 *   means there is nothing to expire.
 *
 * What a step says about a hold is its action's `hold` declaration: this module names no action.
 * A hold that found the thing already held ("already done") confirms it only when it sets no
 * deadline; a release that found nothing to release still ends the hold (csf lifts a temporary
 * deny by itself at its deadline). The expiry is a run of its own, planned and audited like an
 * undo, so the next scan sees its releases and never lifts the same hold twice.
 */

/** One finished step that says something about a hold. */
interface HoldEvent {
  log: string;
  runId: string | undefined;
  host: string;
  step: string;
  action: string;
  at: string;
  /** Order within the scan, for steps finished in the same millisecond. */
  seq: number;
  target: string;
  held: boolean;
  /** The deadline this step set (ISO 8601); undefined for no deadline. */
  until: string | undefined;
  undo: UndoRecord[];
}

/** A hold whose deadline has passed and that no later step confirmed or released. */
export interface DueHold {
  host: string;
  target: string;
  until: string;
  /** The audit log and step that set it. */
  log: string;
  runId: string | undefined;
  step: string;
  action: string;
  /** What lifts it: the undo the step recorded. */
  undo: UndoRecord[];
}

export interface ExpiryScan {
  /** Past their deadline: to be lifted now. */
  due: DueHold[];
  /** Still running: deadline in the future. */
  pending: DueHold[];
  /** Logs not read, and why (a broken hash chain: runbook acts on no log that may have been altered). */
  skipped: { log: string; reason: string }[];
  /** How many audit logs were read. */
  logs: number;
}

/** The deadline a changed step recorded in its typed changes, if any. */
function deadlineOf(changes: readonly object[] | undefined): string | undefined {
  for (const change of changes ?? []) {
    const until = (change as { until?: unknown }).until;
    if (typeof until === 'string' && !Number.isNaN(Date.parse(until))) return until;
  }
  return undefined;
}

/** The hold events of one run's records, in order. Pure. */
export function holdEvents(records: readonly AuditRecord[], log: string, registry: ActionRegistry, firstSeq = 0): HoldEvent[] {
  const header = records.find((r): r is HeaderRecord => r.type === 'run.header');
  if (header === undefined || header.mode === 'dry-run') return [];
  const events: HoldEvent[] = [];
  for (const { start, finish: record } of pairSteps(records).finished) {
    if (start === undefined || (record.status !== 'changed' && record.status !== 'ok')) continue;
    const action = registry.get(record.action);
    if (action === undefined || !action.mutates || action.hold === undefined) continue;
    const effect = action.hold(start.params as never);
    if (effect === undefined) continue;
    const changed = record.status === 'changed';
    // An "already held" step that would have set a deadline leaves the standing one alone.
    if (!changed && effect.held && effect.timed) continue;
    const until = changed && effect.held && effect.timed ? deadlineOf(record.changes) : undefined;
    events.push({
      log,
      runId: header.runId,
      host: record.host,
      step: record.step,
      action: record.action,
      at: record.ts,
      seq: firstSeq + events.length,
      target: effect.target,
      held: effect.held,
      until,
      undo: (record.undo ?? []).map((u) => ({ action: u.action, params: u.params, description: u.description })),
    });
  }
  return events;
}

/** Which holds are due at `now`, from runs' records. Pure: the clock is a parameter. */
export function findDueHolds(runs: readonly { log: string; records: readonly AuditRecord[] }[], registry: ActionRegistry, now: Date): Pick<ExpiryScan, 'due' | 'pending'> {
  const latest = new Map<string, HoldEvent>();
  let seq = 0;
  for (const run of runs) {
    const events = holdEvents(run.records, run.log, registry, seq);
    seq += events.length;
    for (const event of events) {
      const key = `${event.host}\u0000${event.target}`;
      const before = latest.get(key);
      if (before === undefined || event.at > before.at || (event.at === before.at && event.seq > before.seq)) latest.set(key, event);
    }
  }
  const due: DueHold[] = [];
  const pending: DueHold[] = [];
  for (const event of latest.values()) {
    if (!event.held || event.until === undefined || event.undo.length === 0) continue;
    const hold: DueHold = { host: event.host, target: event.target, until: event.until, log: event.log, runId: event.runId, step: event.step, action: event.action, undo: event.undo };
    (Date.parse(event.until) <= now.getTime() ? due : pending).push(hold);
  }
  const byDeadline = (a: DueHold, b: DueHold) => (a.until < b.until ? -1 : a.until > b.until ? 1 : 0);
  return { due: due.sort(byDeadline), pending: pending.sort(byDeadline) };
}

/** Every audit log (`*.jsonl`) of a directory, oldest name first; those whose hash chain does not verify are skipped. */
export function readAuditRuns(auditDir: string): { runs: { log: string; records: AuditRecord[] }[]; skipped: ExpiryScan['skipped'] } {
  let names: string[];
  try {
    names = readdirSync(auditDir).filter((n) => n.endsWith('.jsonl')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { runs: [], skipped: [] };
    throw error;
  }
  const runs: { log: string; records: AuditRecord[] }[] = [];
  const skipped: ExpiryScan['skipped'] = [];
  for (const name of names) {
    const path = join(auditDir, name);
    const log = parseAuditLog(readFileSync(path, 'utf8'));
    const chain = checkChain(log);
    if (!chain.linksHold) {
      skipped.push({ log: path, reason: `its hash chain does not verify (${chain.problems.join('; ')})` });
      continue;
    }
    runs.push({ log: path, records: log.records });
  }
  return { runs, skipped };
}

/** Reads every audit log of a directory and finds the holds due at `now`. */
export function scanAuditDir(auditDir: string, registry: ActionRegistry, now: Date): ExpiryScan {
  const { runs, skipped } = readAuditRuns(auditDir);
  return { ...findDueHolds(runs, registry, now), skipped, logs: runs.length };
}

/** The expiry as a playbook: the due holds' undo steps, newest deadline last. */
export function expiryPlaybook(due: readonly DueHold[], auditDir: string, now: Date): { playbook: LoadedPlaybook; inputs: Record<string, unknown>; plan: UndoPlan } {
  const plan: UndoPlan = {
    source: { runId: undefined, playbook: 'expire', mode: 'apply' },
    entries: due.flatMap((d) => d.undo.map((u) => ({ host: d.host, step: d.step, action: u.action, params: u.params, description: `${u.description} (deadline ${d.until} passed)` }))),
    irreversible: [],
    manual: [],
    hosts: [...new Set(due.map((d) => d.host))],
  };
  const sha256 = createHash('sha256').update(JSON.stringify({ now: now.toISOString(), due })).digest('hex');
  const { playbook, inputs } = undoPlaybook(plan, { path: auditDir, sha256 });
  return {
    playbook: { ...playbook, spec: { ...playbook.spec, name: 'expire', description: `Lift holds and temporary denies whose deadline passed by ${now.toISOString()}` } },
    inputs,
    plan,
  };
}

/** Accepts the expiry's gate: lifting a hold at its deadline is what the approved hold said would happen. */
export const deadlineGatekeeper: Gatekeeper = {
  ask: async () => ({ answer: 'accepted', by: 'expiry: the deadline set when the hold was approved has passed' }),
};

export interface ExpireOptions extends Omit<RunOptions, 'playbook' | 'inputs' | 'mode' | 'gatekeeper'> {
  auditDir: string;
  /** The clock: what "past its deadline" is measured against. */
  now: Date;
  /** Default: deadlineGatekeeper. */
  gatekeeper?: Gatekeeper;
}

export interface ExpireResult {
  scan: ExpiryScan;
  /** Absent when nothing was due (no run, no audit log written). */
  report?: RunReport;
}

/**
 * Finds the holds due at `options.now` in `options.auditDir` and lifts them as one run, audited
 * in `options.audit` (which the caller should create after this scan's directory read, or
 * elsewhere: a log still being written is read like any other).
 */
export async function expireHolds(options: ExpireOptions): Promise<ExpireResult> {
  const scan = scanAuditDir(options.auditDir, options.registry, options.now);
  if (scan.due.length === 0) return { scan };
  const report = await runExpiry(scan, options);
  return { scan, report };
}

/** Runs the undo of every due hold through the engine: planned, gated, executed and audited. */
export async function runExpiry(scan: ExpiryScan, options: ExpireOptions): Promise<RunReport> {
  const { playbook, inputs, plan } = expiryPlaybook(scan.due, options.auditDir, options.now);
  const wanted = new Set(plan.hosts);
  const { auditDir: _dir, now: _now, gatekeeper, ...run } = options;
  return runPlaybook({ ...run, targets: options.targets.filter((t) => wanted.has(t.name)), playbook, inputs, mode: 'undo', gatekeeper: gatekeeper ?? deadlineGatekeeper });
}
