import type {
  AuditRecord,
  CommandIntentRecord,
  CommandResultRecord,
  GateRecord,
  HeaderRecord,
  PlanRecord,
  StepFinishRecord,
  StepStartRecord,
  SummaryRecord,
} from '../records.js';
import { legacyChanges } from '../../actions/legacy-changes.js';
import { declaredAction } from '../../actions/registry.js';
import { describeChange } from '../../actions/describe-change.js';
import type { ChangeRecord } from '../../actions/types.js';

/**
 * The incident report as data, built from audit records alone. Pure: the renderers (Markdown,
 * HTML, JSON) only lay this out. Values stay as logged (hostile); renderers escape them.
 */
export interface IncidentReport {
  run: {
    runId: string | undefined;
    mode: HeaderRecord['mode'] | undefined;
    status: SummaryRecord['status'] | 'incomplete';
    exitCode: number | undefined;
    reason: string | undefined;
    dryRun: boolean;
    startedAt: string | undefined;
    finishedAt: string | undefined;
    planHash: string | undefined;
    counts: Record<string, number>;
  };
  trigger: {
    playbook: HeaderRecord['playbook'] | undefined;
    inputs: Record<string, unknown>;
    incident: string | undefined;
    hosts: string[];
  };
  origin: {
    operator: string | undefined;
    uid: number | null | undefined;
    controlHost: string | undefined;
    toolVersion: string | undefined;
    argv: string[];
  };
  hosts: HostRow[];
  findings: Finding[];
  gates: GateRow[];
  steps: StepRow[];
  changes: ChangeRow[];
  failures: FailureRow[];
  undo: UndoRow[];
  irreversible: IrreversibleRow[];
  notes: NoteRow[];
  audit: AuditStatus;
}

export interface HostRow {
  host: string;
  status: string;
  error: string | undefined;
  counts: Record<string, number>;
}

/** What a detection step found on one host. Known fields are lifted out; the rest kept raw. */
export interface Finding {
  host: string;
  step: string;
  action: string;
  summary: string | undefined;
  kind: string | undefined;
  sender: string | undefined;
  counts: Record<string, unknown>;
  scripts: { path: string; count: unknown; ips: unknown[] }[];
  ips: unknown[];
  /** Top senders, subjects and other ranked lists: name → rows. */
  tables: { title: string; rows: Record<string, unknown>[] }[];
  evidence: unknown[];
  /** Outputs not covered above. */
  other: Record<string, unknown>;
}

export interface GateRow {
  ts: string;
  gate: string;
  message: string;
  hosts: string[];
  answer: GateRecord['answer'];
  by: string;
  reason: string | undefined;
}

export interface CommandRow {
  argv: string[];
  stdin: string | undefined;
  mutates: boolean | undefined;
  /** `ok`, `exit N`, `timed out`, `signal X`, `no result` (crash between intent and result). */
  outcome: string;
  ok: boolean;
  exitCode: number | null | undefined;
  durationMs: number | undefined;
  stdoutExcerpt: string | undefined;
  stderrExcerpt: string | undefined;
  error: string | undefined;
}

export interface StepRow {
  host: string;
  step: string;
  action: string;
  item: unknown;
  mutates: boolean | undefined;
  status: string;
  summary: string | undefined;
  error: string | undefined;
  durationMs: number | undefined;
  commands: CommandRow[];
}

export type ChangeKind = ChangeRecord['kind'] | 'other';

export interface ChangeRow {
  host: string;
  step: string;
  action: string;
  kind: ChangeKind;
  /** What changed, in words built from typed fields ("2 messages removed"). */
  what: string;
  /** The subject of the change (path, IP, mailbox). */
  target: unknown;
  /** Old state, when the log has it (a file's previous mode). */
  before: unknown;
  summary: string | undefined;
}

export interface FailureRow {
  host: string;
  step: string | undefined;
  error: string;
}

export interface UndoRow {
  host: string;
  step: string;
  action: string;
  params: Record<string, unknown>;
  description: string;
}

export interface IrreversibleRow {
  host: string;
  step: string;
  text: string;
}

export interface NoteRow {
  ts: string;
  host: string;
  step: string;
  message: string;
  data: Record<string, unknown> | undefined;
}

/** Chain and signature status, filled in by whoever verified the file (records alone cannot). */
export interface AuditStatus {
  /** sha256 of the file's last line: the anchor to keep off the host. */
  head: string | undefined;
  /** The chain head the run.summary closes (and the signature signs). */
  closedHead: string | undefined;
  chain: 'verified' | 'broken' | 'not checked';
  complete: boolean | undefined;
  signed: boolean;
  publicKey: string | undefined;
  signature: 'verified' | 'invalid' | 'not checked' | 'absent';
  problems: string[];
}

export interface ReportVerification {
  /** sha256 of the last line of the file. */
  head?: string;
  chainOk?: boolean;
  complete?: boolean;
  signatureOk?: boolean;
  problems?: string[];
}

const FINDING_KEYS = new Set(['kind', 'sender', 'scripts', 'ips', 'counts', 'evidence', 'summary']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function key(host: string, step: string): string {
  return `${host}\u0000${step}`;
}

/** A detection step: its action declares it finds the source, or its outputs look like findings. */
function looksLikeFindings(finish: StepFinishRecord, mutates: boolean | undefined): boolean {
  if (mutates === true || finish.outputs === undefined) return false;
  if (declaredAction(finish.action)?.finds === true) return true;
  return ['sender', 'scripts', 'ips', 'evidence'].some((k) => finish.outputs !== undefined && k in finish.outputs);
}

function buildFinding(finish: StepFinishRecord): Finding {
  const outputs = finish.outputs ?? {};
  const scripts = Array.isArray(outputs.scripts)
    ? outputs.scripts.map((s) =>
        isObject(s)
          ? { path: String(s.path ?? ''), count: s.count, ips: Array.isArray(s.ips) ? s.ips : [] }
          : { path: String(s), count: undefined, ips: [] },
      )
    : [];
  const tables: Finding['tables'] = [];
  const other: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(outputs)) {
    if (FINDING_KEYS.has(name)) continue;
    if (Array.isArray(value) && value.length > 0 && value.every(isObject)) {
      tables.push({ title: name, rows: value });
    } else {
      other[name] = value;
    }
  }
  return {
    host: finish.host,
    step: finish.step,
    action: finish.action,
    summary: asString(outputs.summary) ?? finish.summary,
    kind: asString(outputs.kind),
    sender: asString(outputs.sender),
    counts: isObject(outputs.counts) ? outputs.counts : {},
    scripts,
    ips: Array.isArray(outputs.ips) ? outputs.ips : [],
    tables,
    evidence: Array.isArray(outputs.evidence) ? outputs.evidence : outputs.evidence === undefined ? [] : [outputs.evidence],
    other,
  };
}

/**
 * Describes a changed step in words from the typed changes its action recorded; logs of older
 * versions carry none and are read by the legacy reader.
 */
function buildChanges(finish: StepFinishRecord, start: StepStartRecord | undefined): ChangeRow[] {
  const params = start?.params ?? {};
  const outputs = finish.outputs ?? {};
  const item = finish.item?.value;
  const base = { host: finish.host, step: finish.step, action: finish.action, summary: finish.summary };
  const typed = finish.changes ?? legacyChanges({ action: finish.action, params, outputs, item, undo: finish.undo ?? [] });
  if (typed !== undefined && typed.length > 0) return typed.map((change) => ({ ...base, kind: change.kind, ...describeChange(change) }));
  return [{ ...base, kind: 'other', what: finish.summary ?? `${finish.action} changed the host`, target: item ?? params.email ?? params.user ?? params.services, before: undefined }];
}

function commandRow(intent: CommandIntentRecord | undefined, result: CommandResultRecord | undefined): CommandRow {
  const argv = result?.argv ?? intent?.argv ?? [];
  let outcome: string;
  let ok = false;
  if (result === undefined) outcome = 'no result recorded (interrupted?)';
  else if (result.timedOut) outcome = 'timed out';
  else if (result.error !== undefined && result.exitCode === null) outcome = 'did not run';
  else if (result.signal !== null) outcome = `killed by ${result.signal}`;
  else if (result.exitCode === 0) {
    outcome = 'ok';
    ok = true;
  } else outcome = `exit ${String(result.exitCode)}`;
  if (result?.reusedFrom !== undefined) outcome += `, the result of the same read in step ${result.reusedFrom} (not run again)`;
  return {
    argv,
    stdin: intent?.stdin,
    mutates: intent?.mutates,
    outcome,
    ok,
    exitCode: result?.exitCode,
    durationMs: result?.durationMs,
    stdoutExcerpt: result?.stdout.excerpt || undefined,
    stderrExcerpt: result?.stderr.excerpt || undefined,
    error: result?.error,
  };
}

function sameArgv(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function buildReport(records: readonly AuditRecord[], verification: ReportVerification = {}): IncidentReport {
  const header = records.find((r): r is HeaderRecord => r.type === 'run.header');
  const summary = [...records].reverse().find((r): r is SummaryRecord => r.type === 'run.summary');
  const plan = records.find((r): r is PlanRecord => r.type === 'plan');
  const plannedMutates = new Map<string, boolean>();
  for (const p of plan?.steps ?? []) plannedMutates.set(key(p.host, p.step), p.mutates);

  const steps: StepRow[] = [];
  const findings: Finding[] = [];
  const changes: ChangeRow[] = [];
  const failures: FailureRow[] = [];
  const undo: UndoRow[] = [];
  const irreversible: IrreversibleRow[] = [];
  const notes: NoteRow[] = [];
  const gates: GateRow[] = [];
  const hosts: HostRow[] = [];

  // Steps are open from step.start until step.finish, per host; commands between belong to
  // the open step of their host (foreach items run one after another per host).
  const open = new Map<string, { start: StepStartRecord; intents: CommandIntentRecord[]; commands: CommandRow[] }>();
  // Reads a mutating step made while it was planned, one row per host and step.
  const planning = new Map<string, StepRow>();
  const planningRow = (record: CommandResultRecord): StepRow => {
    const k = key(record.host, record.step);
    let row = planning.get(k);
    if (row === undefined) {
      const planned = plan?.steps.find((p) => p.host === record.host && p.step === record.step);
      // Step "-" is the run's own: the host lock it takes and releases around the steps.
      const own = planned === undefined && record.step === '-';
      row = {
        host: record.host, step: record.step, action: planned?.action ?? (own ? '-' : 'unknown'), item: undefined, mutates: own ? true : plannedMutates.get(k),
        status: own ? 'lock' : 'planned', summary: own ? 'the run lock on this host, taken and released' : 'reads made while planning this step', error: undefined, durationMs: undefined, commands: [],
      };
      planning.set(k, row);
      steps.push(row);
    }
    return row;
  };

  for (const record of records) {
    switch (record.type) {
      case 'gate':
        gates.push({ ts: record.ts, gate: record.gate, message: record.message, hosts: record.hosts, answer: record.answer, by: record.by, reason: record.reason });
        break;
      case 'step.start':
        open.set(key(record.host, record.step), { start: record, intents: [], commands: [] });
        break;
      case 'command.intent':
        open.get(key(record.host, record.step))?.intents.push(record);
        break;
      case 'command.result': {
        const current = open.get(key(record.host, record.step));
        if (current === undefined) {
          // A read made while a mutating step was planned (no step.start: nothing ran yet).
          planningRow(record).commands.push(commandRow(undefined, record));
          break;
        }
        const at = current.intents.findIndex((i) => sameArgv(i.argv, record.argv));
        const intent = at >= 0 ? current.intents.splice(at, 1)[0] : undefined;
        current.commands.push(commandRow(intent, record));
        break;
      }
      case 'note':
        notes.push({ ts: record.ts, host: record.host, step: record.step, message: record.message, data: record.data });
        break;
      case 'step.finish': {
        const k = key(record.host, record.step);
        const current = open.get(k);
        open.delete(k);
        const commands = current?.commands ?? [];
        for (const intent of current?.intents ?? []) commands.push(commandRow(intent, undefined));
        const mutates = current?.start.mutates ?? plannedMutates.get(k);
        steps.push({
          host: record.host,
          step: record.step,
          action: record.action,
          item: record.item?.value,
          mutates,
          status: record.status,
          summary: record.summary,
          error: record.error,
          durationMs: record.durationMs,
          commands,
        });
        if (looksLikeFindings(record, mutates)) findings.push(buildFinding(record));
        if (record.status === 'changed') {
          changes.push(...buildChanges(record, current?.start));
          for (const u of record.undo ?? []) undo.push({ host: record.host, step: record.step, action: u.action, params: u.params, description: u.description });
          for (const text of record.irreversible ?? []) irreversible.push({ host: record.host, step: record.step, text });
        }
        if (record.status === 'failed' || record.status === 'interrupted') {
          failures.push({ host: record.host, step: record.step, error: record.error ?? `step ${record.status}` });
        }
        break;
      }
      case 'host.finish':
        hosts.push({ host: record.host, status: record.status, error: record.error, counts: record.counts });
        if ((record.status === 'failed' || record.status === 'unreachable') && !failures.some((f) => f.host === record.host && f.error === record.error)) {
          failures.push({ host: record.host, step: undefined, error: record.error ?? `host ${record.status}` });
        }
        break;
      default:
        break;
    }
  }
  // Steps that started and never finished: the run stopped while they were in flight.
  for (const { start, intents, commands } of open.values()) {
    for (const intent of intents) commands.push(commandRow(intent, undefined));
    steps.push({
      host: start.host, step: start.step, action: start.action, item: start.item?.value, mutates: start.mutates,
      status: 'unfinished', summary: undefined, error: 'no step.finish record: the run stopped during this step; check the host', durationMs: undefined, commands,
    });
    failures.push({ host: start.host, step: start.step, error: 'step did not finish (run interrupted or crashed); its commands may or may not have taken effect' });
  }
  // Hosts named in the header with no host.finish record still appear, as unknown.
  for (const name of summary ? Object.keys(summary.hosts) : header?.hosts ?? []) {
    if (!hosts.some((h) => h.host === name)) hosts.push({ host: name, status: summary?.hosts[name] ?? 'unknown', error: undefined, counts: {} });
  }

  const chain: AuditStatus['chain'] = verification.chainOk === undefined ? 'not checked' : verification.chainOk ? 'verified' : 'broken';
  const signature: AuditStatus['signature'] =
    summary?.signature === undefined ? 'absent' : verification.signatureOk === undefined ? 'not checked' : verification.signatureOk ? 'verified' : 'invalid';

  return {
    run: {
      runId: header?.runId,
      mode: header?.mode,
      status: summary?.status ?? 'incomplete',
      exitCode: summary?.exitCode,
      reason: summary?.reason,
      dryRun: summary?.dryRun ?? header?.mode === 'dry-run',
      startedAt: records[0]?.ts,
      finishedAt: summary?.ts,
      planHash: summary?.planHash ?? plan?.planHash,
      counts: summary?.counts ?? {},
    },
    trigger: {
      playbook: header?.playbook,
      inputs: header?.inputs ?? {},
      incident: header?.incident,
      hosts: header?.hosts ?? [],
    },
    origin: {
      operator: header?.operator,
      uid: header?.uid,
      controlHost: header?.controlHost,
      toolVersion: header?.toolVersion,
      argv: header?.argv ?? [],
    },
    hosts,
    findings,
    gates,
    steps,
    changes,
    failures,
    undo,
    irreversible,
    notes,
    audit: {
      head: verification.head,
      closedHead: summary?.head,
      chain,
      complete: verification.complete,
      signed: summary?.signature !== undefined,
      publicKey: summary?.signature?.publicKey,
      signature,
      problems: verification.problems ?? [],
    },
  };
}

