// Types for score.mjs.
import type { ScenarioTruth } from '../../fixtures/scenarios/generate.mjs';

export interface LegitTarget {
  what: 'ip' | 'sender' | 'auth_id' | 'script' | 'source';
  id: string;
  why: string;
}

export interface Score {
  sources: { total: number; found: string[]; missed: string[]; kind_mismatch: string[] };
  legit_targets: LegitTarget[];
  attackers: { total: number; blocked: number };
  contract: { sources: boolean; auth_ids: boolean };
}

export declare function score(truth: Pick<ScenarioTruth, 'sources' | 'attackers' | 'hostile_ips' | 'purge' | 'legit'>, verdict: unknown): Score;
