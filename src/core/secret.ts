import { inspect } from 'node:util';

export const REDACTED = '[redacted]';

/**
 * Every secret ever constructed in this process. Sinks (audit log, terminal, --json, error
 * messages) scrub these values from free text they did not build themselves, such as a tool's
 * stdout that echoed a password back. Kept process-wide on purpose: a secret must be scrubbed
 * from every sink, including ones created after it.
 */
const knownSecretValues = new Set<string>();

/**
 * A value that must never be shown. It renders as `[redacted]` through String(), JSON and
 * util.inspect; only `reveal()` gives the value, and only transports call it (to write stdin).
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    // Very short values would make scrubbing destroy unrelated text; real secrets are long.
    if (value.length >= 6) knownSecretValues.add(value);
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

export function isSecret(value: unknown): value is Secret {
  return value instanceof Secret;
}

/** Replace every known secret value inside free text. */
export function scrubSecrets(text: string): string {
  if (knownSecretValues.size === 0 || text.length === 0) return text;
  let out = text;
  for (const value of knownSecretValues) {
    if (out.includes(value)) out = out.split(value).join(REDACTED);
  }
  return out;
}

/**
 * Deep copy of a value fit for any sink: Secrets become `[redacted]`, strings are scrubbed,
 * bigints become numbers or strings. Cycles are cut.
 */
export function redactDeep(value: unknown, seen = new WeakSet<object>()): unknown {
  if (value instanceof Secret) return REDACTED;
  if (typeof value === 'string') return scrubSecrets(value);
  if (typeof value === 'bigint') {
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  }
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, seen));
  if (value instanceof Error) {
    return { name: value.name, message: scrubSecrets(value.message) };
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, seen);
  return out;
}
