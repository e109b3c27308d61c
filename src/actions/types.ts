import type { Static, TSchema } from '@sinclair/typebox';
import type { Secret } from '../core/secret.js';
import type { HostTarget } from '../hosts/types.js';
import type { ExecResult, StdinInput, Transport } from '../transport/types.js';

/** One command an action runs or would run: always an argv array. */
export interface CommandSpec {
  argv: string[];
  stdin?: StdinInput;
  timeoutMs?: number;
  /** Exit codes that are not a failure of the command itself (default [0]). */
  okExitCodes?: number[];
  /** Receives stdout as it arrives (large outputs). */
  onStdout?: (chunk: Buffer) => void;
  /** Keep at most this much of each output in memory (default 8 MiB). */
  maxOutputBytes?: number;
}

/**
 * The host as an action sees it: names, tools, layout and variables, and which kind of
 * connection it has, but not the connection itself: commands go through `exec`, recorded.
 */
export type ActionHost = Omit<HostTarget, 'transport'> & { transport: Pick<Transport, 'kind' | 'host'> };

/** What the engine gives an action. Actions never print and never write the audit log. */
export interface ActionContext {
  host: ActionHost;
  /**
   * Runs a command on the host through the engine, which records it in the audit log. For a
   * mutating action in its run phase, the intent is on disk before the command starts.
   * Never throws for a non-zero exit: the action judges the result.
   */
  exec(command: CommandSpec): Promise<ExecResult>;
  signal: AbortSignal;
  /** Progress for the terminal ("scanned 40%"); not an audit record. */
  progress(message: string): void;
  /** A note worth keeping in the audit log for this step (evidence, decisions). */
  note(message: string, data?: Record<string, unknown>): Promise<void>;
  /** Hand a secret to the operator exactly once (TTY or a 0600 file), never to a log. */
  deliverSecret(label: string, secret: Secret): Promise<string>;
  dryRun: boolean;
}

/** A reversal an action can describe for `runbook undo`: another action invocation. */
export interface UndoRecord {
  action: string;
  params: Record<string, unknown>;
  description: string;
}

/**
 * What a changed step did to a host, written into its `step.finish` record. Reports describe
 * changes from these fields instead of guessing from action names or output shapes.
 */
export type ChangeRecord =
  | { kind: 'password-reset'; mailbox: string }
  /** `until`: the deadline (ISO 8601) after which `runbook expire` lifts the suspension, if one was set. */
  | { kind: 'mailbox-suspension'; mailbox: string; scope: string; suspended: boolean; until?: string }
  | { kind: 'account-outgoing'; account: string; suspended: boolean; until?: string }
  /** A configuration value (`where`: the file or panel holding it); `from` is '' when it was unset. */
  | { kind: 'setting'; where: string; key: string; from: string; to: string }
  | { kind: 'services-restarted'; services: string[] }
  /** Modes in octal text ("0644"); `from` is empty when an old log did not say. */
  | { kind: 'file-mode'; path: string; from: string; to: string }
  | { kind: 'ip-deny'; ip: string; comment?: string }
  | { kind: 'ip-deny-removed'; ip: string }
  /** A temporary deny csf lifts by itself after `ttlSeconds`; `until` is that deadline (ISO 8601). */
  | { kind: 'ip-temp-deny'; ip: string; ttlSeconds: number; until: string; comment?: string }
  | { kind: 'ip-temp-deny-removed'; ip: string }
  /** `quarantine`: the host directory holding the removed messages' spool files and manifest. */
  | { kind: 'messages-removed'; count: number; ids: string[]; sender?: string; authId?: string; quarantine?: string }
  | { kind: 'messages-frozen'; count: number; ids: string[]; sender?: string; authId?: string }
  | { kind: 'messages-thawed'; count: number; ids: string[] }
  /** Messages put back into the queue from a quarantine directory. */
  | { kind: 'messages-restored'; count: number; ids: string[]; quarantine: string }
  /** A quarantine directory deleted (its purge can no longer be undone). */
  | { kind: 'quarantine-removed'; quarantine: string; count: number };

/**
 * What a finished step of a holding action (or of its release) says about one hold, whether it
 * changed the host or found it already so. `runbook expire` reads it: the newest such step of a
 * target decides whether a deadline still stands.
 */
export interface HoldEffect {
  /** The held thing, the same for the hold and its release: `mailbox-outgoing:a@b.test`. */
  target: string;
  /** Held after the step. */
  held: boolean;
  /** The step set a deadline: a hold that found the target already held leaves the earlier one standing. */
  timed: boolean;
}

/**
 * Counters a changed step adds to its host's outcome (`host.finish` counts, the fleet table),
 * keyed in snake_case: `passwords_reset`. The engine sums them without knowing what they mean.
 */
export type Counts = Record<string, number>;

/** What a mutating action would do, computed from the host's current state. */
export interface ActionPlan<D = unknown> {
  /** One line for the plan view: "chmod 000 /home/u/public_html/x.php (now 0644)". */
  summary: string;
  /** The exact commands the run phase will execute, values resolved. */
  commands: CommandSpec[];
  /**
   * What the plan hash covers. Defaults to the commands' argv. Actions whose commands carry
   * volatile detail (queue IDs that arrive every second) hash the intent instead.
   */
  hashed?: unknown;
  /** The host is already in the desired state: nothing will run. */
  noop?: boolean;
  /** Private data the run phase needs (current mode, matched IDs, ...). Not shown. */
  data?: D;
  /** Facts worth showing in the plan (current mode, messages matched). */
  facts?: Record<string, unknown>;
}

export interface ActionResult {
  changed: boolean;
  /** Registered under steps.<id> for later expressions. */
  outputs: Record<string, unknown>;
  summary?: string;
  undo?: UndoRecord[];
  /** Changes that cannot be reversed (purged messages, a reset password). */
  irreversible?: string[];
  /** What changed on the host, typed, for the audit record and the reports. */
  changes?: ChangeRecord[];
}

/** Raised by an action for a failure the operator must read; the message says what to do. */
export class ActionError extends Error {
  readonly details: Record<string, unknown> | undefined;
  constructor(message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ActionError';
    this.details = details;
  }
}

interface ActionBase<S extends TSchema> {
  /** Dotted name used in playbooks: `exim.queue.purge`. */
  name: string;
  description: string;
  params: S;
  /** Documentation of what the step registers under steps.<id>. */
  outputs?: Record<string, string>;
  /** The `--with` arguments of an example `runbook run` of it, for the help text. */
  example?: string;
  /**
   * A confirmation gate: the engine asks the operator this question (from the resolved
   * params) before any later step changes a host, and the action itself never runs.
   */
  gate?(params: Static<S>): string;
  /**
   * The read that finds the spam source: its outputs (sender, scripts, IPs, evidence) are the
   * findings of a report.
   */
  finds?: true;
}

/**
 * Reads state only. Runs for real in a dry-run unless `dryRun: 'plan'` (for example a queue
 * watch, which only means something after the mutations before it).
 */
export interface ReadOnlyAction<S extends TSchema = TSchema> extends ActionBase<S> {
  mutates: false;
  dryRun?: 'run' | 'plan';
  /** Shown in a dry-run for `dryRun: 'plan'` actions. */
  describe?(params: Static<S>, host: ActionHost): string;
  run(ctx: ActionContext, params: Static<S>): Promise<ActionResult>;
}

/** Changes a host. The engine plans it (probing state), gates it, then runs the plan. */
export interface MutatingAction<S extends TSchema = TSchema, D = unknown> extends ActionBase<S> {
  mutates: true;
  /**
   * Whether `runbook undo` can reverse it: a reversible action returns `undo` records naming
   * the action that reverses it; an irreversible one says why in `irreversible`.
   */
  reversible: boolean;
  plan(ctx: ActionContext, params: Static<S>): Promise<ActionPlan<D>>;
  run(ctx: ActionContext, params: Static<S>, plan: ActionPlan<D>): Promise<ActionResult>;
  /** The counters it may add, key → what one counts in plural words ("IPs blocked"). */
  counters?: Readonly<Record<string, string>>;
  /** What a changed run of it adds to the host's counters, keys from `counters`. */
  counts?(result: ActionResult): Counts;
  /**
   * For an action that holds something until a deadline, or releases such a hold: what a step
   * with these (resolved) params does to the hold; undefined when the params name nothing valid.
   */
  hold?(params: Static<S>): HoldEffect | undefined;
  /**
   * For an action that deletes a purge's quarantine: the directory a finished step with these
   * params leaves deleted (changed, or found already gone). `runbook quarantine` reads it.
   */
  removes?(params: Static<S>): string | undefined;
}

export type Action<S extends TSchema = TSchema> = ReadOnlyAction<S> | MutatingAction<S>;

/** Identity helper that keeps the params type of an action literal. */
export function defineAction<S extends TSchema>(action: ReadOnlyAction<S>): Action<S>;
/** A mutating action, its plan data typed between its plan and run phases. */
export function defineAction<S extends TSchema, D>(action: MutatingAction<S, D>): Action<S>;
export function defineAction<S extends TSchema>(action: Action<S>): Action<S> {
  return action;
}
