/**
 * The rules a watcher trips on: a key to count by, limits (a metric, a threshold, a window)
 * and per-key overrides. A rule trips when any of its limits is reached. The three shipped
 * rules are written out in packaging/watch.example.yml, where an operator reads and changes
 * them; SHIPPED_RULES is the same text's meaning, used when a config gives no `rules`.
 */
import { parseWindow } from '../parsers/log-time.js';
import { METRICS_OF, type Metric } from './signals.js';
import type { WatchKeyKind } from './types.js';

export interface RuleLimit {
  metric: Metric;
  threshold: number;
  /** `2m`, `1h`: how far back the count reaches, in log time. */
  window: string;
}

/** `off`: never trips for this key; else thresholds by metric replacing the rule's. */
export type RuleOverride = 'off' | Partial<Record<Metric, number>>;

export interface RuleSpec {
  name: string;
  description?: string;
  key: WatchKeyKind;
  limits: RuleLimit[];
  /** By key value (a mailbox, a directory, an address), as the rule's key is written in the log. */
  overrides?: Record<string, RuleOverride>;
}

/**
 * Why these numbers: a 500-an-hour run (cPanel's default unique-recipient threshold) sends a
 * message every 7 s, so 8 in 2 minutes trips in under a minute; a slower run (50 an hour)
 * trips on 40 in the hour; cPanel's own 500 unique recipients an hour stays as the backstop;
 * a sender whose mail mostly bounces trips on failures. A script: the same as a mailbox (CSF's
 * script alert is 100 an hour). Credential stuffing: one address trying 5 mailboxes that turn
 * it away, or getting into 10, in an hour (an office reading several mailboxes from one
 * address stays under; allow-list it when it does not).
 */
export const SHIPPED_RULES: RuleSpec[] = [
  {
    name: 'compromised-mailbox',
    description: 'A mailbox sending through SMTP AUTH far faster than a person does',
    key: 'auth_id',
    limits: [
      { metric: 'messages', threshold: 8, window: '2m' },
      { metric: 'messages', threshold: 40, window: '1h' },
      { metric: 'unique_recipients', threshold: 500, window: '1h' },
      { metric: 'failures', threshold: 25, window: '1h' },
    ],
  },
  {
    name: 'spamming-script',
    description: 'A directory under a home (a PHP script) submitting mail through sendmail in a burst',
    key: 'directory',
    limits: [
      { metric: 'submissions', threshold: 8, window: '2m' },
      { metric: 'submissions', threshold: 40, window: '1h' },
      { metric: 'unique_recipients', threshold: 500, window: '1h' },
    ],
  },
  {
    name: 'credential-stuffing',
    description: 'One client address logging in, or trying to, as many mailboxes',
    key: 'client_ip',
    limits: [
      { metric: 'failed_login_mailboxes', threshold: 5, window: '1h' },
      { metric: 'login_mailboxes', threshold: 10, window: '1h' },
    ],
  },
];

/** A limit ready to evaluate. */
export interface CompiledLimit {
  rule: string;
  metric: Metric;
  seconds: number;
  threshold: number;
}

export interface CompiledRule {
  spec: RuleSpec;
  /** Trips of this rule for one key are one trigger per this many seconds (its longest window). */
  quietSeconds: number;
  limits: CompiledLimit[];
  /** Overrides by key as the watcher counts it (mailboxes and senders lower-cased). */
  overrides: Map<string, RuleOverride>;
}

/** Problems with a rule as `path: message` pairs (the config loader pins them to file:line:col). */
export function checkRule(spec: RuleSpec): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const allowed = METRICS_OF[spec.key];
  spec.limits.forEach((l, i) => {
    if (!allowed.includes(l.metric)) problems.push({ path: ['limits', i, 'metric'], message: `metric '${l.metric}' is not counted per ${spec.key} (per ${spec.key}: ${allowed.join(', ')})` });
    const s = parseWindow(l.window);
    if (s === null || s <= 0) problems.push({ path: ['limits', i, 'window'], message: `window '${l.window}' is not a duration such as 2m, 1h or 1h30m` });
    else if (s > 86_400) problems.push({ path: ['limits', i, 'window'], message: `window '${l.window}' is longer than a day; the watcher keeps a day at most` });
  });
  for (const [key, o] of Object.entries(spec.overrides ?? {})) {
    if (o === 'off') continue;
    for (const metric of Object.keys(o)) {
      if (!spec.limits.some((l) => l.metric === metric)) problems.push({ path: ['overrides', key, metric], message: `rule '${spec.name}' has no limit on '${metric}' to override (its limits: ${[...new Set(spec.limits.map((l) => l.metric))].join(', ')})` });
    }
  }
  return problems;
}

export function compileRules(specs: RuleSpec[]): CompiledRule[] {
  return specs.map((spec) => {
    const limits = spec.limits.map((l) => ({ rule: spec.name, metric: l.metric, seconds: parseWindow(l.window)!, threshold: l.threshold }));
    const fold = spec.key === 'sender' || spec.key === 'auth_id';
    const overrides = new Map(Object.entries(spec.overrides ?? {}).map(([k, o]) => [fold ? k.toLowerCase() : k, o]));
    return { spec, limits, overrides, quietSeconds: Math.max(...limits.map((l) => l.seconds)) };
  });
}

/** The threshold of a limit for one key, or null when the key is exempt. */
export function thresholdFor(rule: CompiledRule, limit: CompiledLimit, key: string): number | null {
  const o = rule.overrides.get(key);
  if (o === undefined) return limit.threshold;
  if (o === 'off') return null;
  return o[limit.metric] ?? limit.threshold;
}
