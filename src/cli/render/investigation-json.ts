/**
 * The one JSON shape of `runbook investigate --json`, whether the evidence came from files
 * copied off a server or from hosts (demo, local, SSH, an inventory). Scripts consume it, so
 * both sources fill the same fields; README "investigate --json" documents it.
 *
 *   { ok, incomplete, source, auditLog, verdict, hosts: [{ host, ok, incomplete, error, verdict }] }
 *
 * Pure: the command gathers the results, this shapes them.
 */
import type { Investigation } from '../../investigate/report.js';
import type { Verdict } from '../../investigate/verdict.js';

/** A primary evidence source whose failure makes a verdict incomplete. */
export type EvidenceSource = 'queue' | 'mainlog' | 'spool';

/** The verdict of one source, the same fields for files and hosts. */
export type InvestigationVerdict = Verdict & {
  /** Everything that could not be read or understood, as messages. */
  problems: string[];
  /** Primary sources that could not be read. */
  sources_failed: EvidenceSource[];
  /** True when the verdict may miss the sender because evidence was missing. */
  incomplete: boolean;
};

/** One investigated source: a host, or (host null) the files given on the command line. */
export interface InvestigationEntry {
  host: string | null;
  /** Investigated, with every primary source read. */
  ok: boolean;
  incomplete: boolean;
  /** Why there is no verdict at all (host unreachable, detection failed); null when there is one. */
  error: string | null;
  verdict: InvestigationVerdict | null;
}

export type InvestigationSource =
  | { kind: 'files'; mainlog: string[]; spool: string | null; domlogs: string | null }
  | { kind: 'host'; hosts: string[] };

export interface InvestigationJson {
  /** Every source investigated and none incomplete: the same condition as exit code 0. */
  ok: boolean;
  /** Some evidence could not be read on at least one source. */
  incomplete: boolean;
  source: InvestigationSource;
  /** The audit log of a host investigation; null for files (nothing runs on a host). */
  auditLog: string | null;
  /** The verdict when exactly one source was investigated (files, or one host); else null. */
  verdict: InvestigationVerdict | null;
  /** One entry per source, in order: each host, or a single entry with host null for files. */
  hosts: InvestigationEntry[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The verdict as the JSON carries it: every field of the Verdict, whole (a field added to
 * Verdict reaches the JSON without a change here), with the completeness fields set from what
 * was read. Nothing is picked by name, so nothing can be forgotten.
 */
function withCompleteness(verdict: Verdict, completeness: Omit<InvestigationVerdict, keyof Verdict>): InvestigationVerdict {
  return { ...verdict, ...completeness };
}

/**
 * The offline report: investigate() finishes the verdict as the detection action does on a
 * host (src/investigate/gather.ts verdictOf), completeness fields included.
 */
export function verdictFromFiles(inv: Investigation): InvestigationVerdict {
  const { problems, sources_failed, incomplete, ...verdict } = inv;
  return withCompleteness(verdict, { problems: [...problems], sources_failed: [...sources_failed], incomplete });
}

/**
 * The outputs of the detection step on a host, or null when the step produced no verdict
 * (the engine leaves `{status: 'failed'}` or `{status: 'skipped'}` there).
 */
export function verdictFromHost(outputs: unknown): InvestigationVerdict | null {
  if (!isRecord(outputs) || typeof outputs.kind !== 'string') return null;
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const sources = strings(outputs.sources_failed).filter((s): s is EvidenceSource => s === 'queue' || s === 'mainlog' || s === 'spool');
  // The detection action's outputs are its Verdict plus the completeness fields (src/actions/exim/detect.ts);
  // the engine adds the step's `status` to every step's outputs (registerOutputs), not a verdict field.
  const { status: _stepStatus, ...verdict } = outputs;
  return withCompleteness(verdict as unknown as Verdict, { problems: strings(outputs.problems), sources_failed: sources, incomplete: outputs.incomplete === true });
}

/** One entry from a verdict (or the error that stopped it). */
export function investigationEntry(host: string | null, verdict: InvestigationVerdict | null, error?: string): InvestigationEntry {
  const incomplete = verdict?.incomplete === true;
  const err = verdict === null ? (error ?? 'no verdict was produced') : null;
  return { host, ok: err === null && !incomplete, incomplete, error: err, verdict };
}

/**
 * The whole document. `runOk` is false when the run itself failed beyond the entries (a host
 * plan that stopped, an engine exit code other than 0).
 */
export function investigationJson(source: InvestigationSource, entries: InvestigationEntry[], auditLog: string | null, runOk = true): InvestigationJson {
  const incomplete = entries.some((e) => e.incomplete);
  return {
    ok: runOk && entries.every((e) => e.ok),
    incomplete,
    source,
    auditLog,
    // A copy, not a second reference: serialisers that cut cycles would print it as one.
    verdict: entries.length === 1 && entries[0]!.verdict !== null ? structuredClone(entries[0]!.verdict) : null,
    hosts: entries,
  };
}
