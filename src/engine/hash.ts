import { createHash } from 'node:crypto';
import { redactDeep } from '../core/secret.js';

/** JSON with object keys sorted, so equal plans serialize identically. */
export function canonicalJson(value: unknown): string {
  const normalize = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(normalize);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(v).sort()) {
        const inner = (v as Record<string, unknown>)[key];
        if (inner !== undefined) out[key] = normalize(inner);
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(normalize(redactDeep(value)));
}

/** Plan hashes are shown to operators and typed back: 16 hex digits of sha256 is plenty. */
export function planHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}
