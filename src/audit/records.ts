/**
 * The audit log's record types. One JSON object per line; every record carries the sha256 of
 * the previous line (`prev`), so an edit, deletion, reordering or truncation breaks the chain.
 */
import type { ChangeRecord } from '../actions/types.js';

export const GENESIS_HASH = '0'.repeat(64);
export const AUDIT_FORMAT = 'runbook-audit/1';

export interface RecordBase {
  /** Written by pino; always `audit`. */
  level?: 'audit';
  /** 0-based position in the file. */
  seq: number;
  /** ISO-8601 UTC. */
  ts: string;
  /** sha256 (hex) of the previous line's bytes, without its newline; GENESIS_HASH for the first. */
  prev: string;
  type: string;
}

export interface HeaderRecord extends RecordBase {
  type: 'run.header';
  format: typeof AUDIT_FORMAT;
  runId: string;
  mode: 'apply' | 'dry-run' | 'undo';
  operator: string;
  uid: number | null;
  controlHost: string;
  toolVersion: string;
  argv: string[];
  playbook: { path: string; sha256: string; name: string };
  inputs: Record<string, unknown>;
  hosts: string[];
  incident?: string;
  /** Started with no human present: only reversible steps could run. */
  unattended?: true;
}

export interface PlannedStepRecord {
  host: string;
  step: string;
  /** foreach position and value, when the step loops. */
  item?: { index: number; value: unknown };
  action: string;
  mutates: boolean;
  params: Record<string, unknown>;
  summary: string;
  commands: string[][];
  noop?: boolean;
  /** Why the step will not run (when false, an earlier failure...). */
  skipped?: string;
  /** Facts the plan was based on (current mode, message count...). */
  facts?: Record<string, unknown>;
  /** The step needs outputs of an earlier mutating step; its commands are known at apply time. */
  deferred?: string;
}

export interface PlanRecord extends RecordBase {
  type: 'plan';
  planHash: string;
  steps: PlannedStepRecord[];
}

export interface GateRecord extends RecordBase {
  type: 'gate';
  gate: string;
  message: string;
  hosts: string[];
  answer: 'accepted' | 'declined' | 'refused';
  /** Who or what answered: `tty:alice`, `--yes`, `--approve <hash>`, `no-tty`. */
  by: string;
  reason?: string;
}

export interface StepStartRecord extends RecordBase {
  type: 'step.start';
  host: string;
  step: string;
  action: string;
  item?: { index: number; value: unknown };
  mutates: boolean;
  params: Record<string, unknown>;
}

export interface OutputDigest {
  bytes: number;
  sha256: string;
  /** Bounded, secret-scrubbed head of the output. */
  excerpt: string;
  truncated: boolean;
}

export interface CommandIntentRecord extends RecordBase {
  type: 'command.intent';
  host: string;
  step: string;
  argv: string[];
  /** Never the content: `none`, `[redacted]` (a secret) or `N bytes`. */
  stdin: string;
  mutates: boolean;
}

export interface CommandResultRecord extends RecordBase {
  type: 'command.result';
  host: string;
  step: string;
  argv: string[];
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  timedOut: boolean;
  stdout: OutputDigest;
  stderr: OutputDigest;
  error?: string;
  /**
   * Set when the command did not run again: while planning, an identical read made earlier in
   * the same plan on this host, by the step named here, already gave the result recorded.
   */
  reusedFrom?: string;
  /** sha256 of what the command read on stdin (a scanner's script, a file's new content); never for secrets. */
  stdinSha256?: string;
}

export interface NoteRecord extends RecordBase {
  type: 'note';
  host: string;
  step: string;
  message: string;
  data?: Record<string, unknown>;
}

export type StepStatus = 'ok' | 'changed' | 'skipped' | 'failed' | 'interrupted';

export interface UndoRecordJson {
  action: string;
  params: Record<string, unknown>;
  description: string;
}

export interface StepFinishRecord extends RecordBase {
  type: 'step.finish';
  host: string;
  step: string;
  action: string;
  item?: { index: number; value: unknown };
  status: StepStatus;
  summary?: string;
  outputs?: Record<string, unknown>;
  error?: string;
  undo?: UndoRecordJson[];
  irreversible?: string[];
  /** What the step changed, typed by its action (absent in logs of older versions). */
  changes?: ChangeRecord[];
  /** A failed step: how many of its changing commands had run and exited 0 before it failed. */
  changingCommandsRun?: number;
  durationMs: number;
}

export type HostStatus = 'ok' | 'changed' | 'failed' | 'unreachable' | 'skipped';

export interface HostFinishRecord extends RecordBase {
  type: 'host.finish';
  host: string;
  status: HostStatus;
  error?: string;
  counts: Record<string, number>;
}

export type RunStatus = 'ok' | 'failed' | 'declined' | 'refused' | 'interrupted';

export interface SummaryRecord extends RecordBase {
  type: 'run.summary';
  status: RunStatus;
  exitCode: number;
  reason?: string;
  dryRun: boolean;
  planHash?: string;
  hosts: Record<string, HostStatus>;
  counts: Record<string, number>;
  /** sha256 of the record before this one: the chain head this summary closes. */
  head: string;
  /**
   * Ed25519 signature (base64), when the run was signed: of this record without its signature
   * (`covers: 'summary'`, see src/audit/sign.ts); logs of older versions signed `head` alone.
   */
  signature?: { alg: 'ed25519'; publicKey: string; value: string; covers?: string };
}

export type AuditRecord =
  | HeaderRecord
  | PlanRecord
  | GateRecord
  | StepStartRecord
  | CommandIntentRecord
  | CommandResultRecord
  | NoteRecord
  | StepFinishRecord
  | HostFinishRecord
  | SummaryRecord;

/** A record before the writer stamps seq, ts and prev. */
export type NewRecord = AuditRecord extends infer R
  ? R extends AuditRecord
    ? Omit<R, 'seq' | 'ts' | 'prev'>
    : never
  : never;
