import type { Action, ActionPlan, ActionResult } from '../actions/types.js';
import type { HostStatus, StepStatus } from '../audit/records.js';
import type { HostTarget } from '../hosts/types.js';
import type { StepSpec } from '../playbook/schema.js';

export interface StepItem {
  index: number;
  value: unknown;
}

/** One step (or one foreach item of a step) on one host, as planned. */
export interface PlannedStep {
  host: string;
  spec: StepSpec;
  stepIndex: number;
  action: Action;
  item?: StepItem;
  title: string;
  /** Resolved parameters; undefined when deferred. */
  params?: Record<string, unknown>;
  state:
    | 'ready' // mutating, planned; runs in the execute phase
    | 'ran' // read-only, already ran during planning
    | 'later' // read-only `dryRun: 'plan'`: runs in the execute phase
    | 'deferred' // needs outputs of an earlier mutating step
    | 'skipped' // `when` was false
    | 'failed'; // planning failed
  plan?: ActionPlan;
  result?: ActionResult;
  /** Why skipped / deferred / failed. */
  reason?: string;
  /** This step is a confirmation gate, with its question. */
  gate?: string;
  /** Why this host's execution must stop after this step failed. */
  aborts?: boolean;
  /** Skipped in an unattended run: the action is not reversible, so it waits for a human. */
  waitsForHuman?: boolean;
}

export interface HostPlan {
  target: HostTarget;
  steps: PlannedStep[];
  /** steps.<id> values so far. */
  outputs: Record<string, unknown>;
  /** Planning stopped on this host (unreachable, or an aborting failure). */
  stopped?: { status: HostStatus; error: string };
}

export interface HostOutcome {
  host: string;
  status: HostStatus;
  error?: string;
  counts: Record<string, number>;
  steps: { id: string; item?: number; status: StepStatus; summary?: string; error?: string }[];
}

/** Where gates get their answers. */
export interface Gatekeeper {
  /** Returns who accepted, or throws GateRefused / returns declined. */
  ask(question: GateQuestion): Promise<GateAnswer>;
}

export interface GateQuestion {
  gate: string;
  /** Per host: the rendered question. */
  messages: { host: string; message: string }[];
  /** The mutations this gate lets through, for display. */
  mutations: number;
  /** The plan being approved, repeated at the prompt so the operator knows which one. */
  planHash: string;
  /** Changes in the whole plan. */
  plannedChanges: number;
}

export interface GateAnswer {
  answer: 'accepted' | 'declined' | 'refused';
  by: string;
  reason?: string;
}

export type EngineEvent =
  | { type: 'plan.host'; host: string; status: 'started' | 'done' | 'failed'; error?: string }
  | { type: 'step.start'; host: string; step: string; title: string; mutates: boolean }
  | { type: 'step.progress'; host: string; step: string; message: string }
  | { type: 'step.finish'; host: string; step: string; title: string; status: StepStatus; summary?: string; error?: string }
  | { type: 'host.finish'; outcome: HostOutcome };

export type EngineObserver = (event: EngineEvent) => void;
