import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { parseDuration } from '../core/duration.js';
import { Secret } from '../core/secret.js';
import type { InputSpec, PlaybookSpec } from './schema.js';

export class InputError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.name = 'InputError';
    this.problems = problems;
  }
}

/** `--var k=v` pairs; the value is everything after the first '='. */
export function parseVarFlags(flags: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new InputError([`--var ${flag}: expected NAME=VALUE`]);
    out[flag.slice(0, eq)] = flag.slice(eq + 1);
  }
  return out;
}

export async function readVarsFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError([`--vars-file ${path}: ${(error as Error).message}`]);
  }
  let data: unknown;
  try {
    data = parseYaml(text) as unknown;
  } catch (error) {
    const pos = (error as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    const where = pos ? `${path}:${pos.line}:${pos.col}` : path;
    throw new InputError([`--vars-file ${where}: invalid YAML: ${String((error as Error).message).split('\n')[0]}`]);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new InputError([`--vars-file ${path}: expected a map of input names to values`]);
  return data as Record<string, unknown>;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** One input value against its declaration; the same check for --var, --vars-file and defaults. */
export function coerce(name: string, spec: InputSpec, raw: unknown): { value?: unknown; problem?: string } {
  const fromFlag = typeof raw === 'string';
  switch (spec.type) {
    case 'integer':
    case 'number': {
      const n = fromFlag ? Number(raw) : raw;
      if (typeof n !== 'number' || Number.isNaN(n) || (spec.type === 'integer' && !Number.isInteger(n))) {
        return { problem: `input '${name}' must be ${spec.type === 'integer' ? 'an integer' : 'a number'}, got ${JSON.stringify(raw)}` };
      }
      if (spec.minimum !== undefined && n < spec.minimum) return { problem: `input '${name}' must be at least ${spec.minimum}, got ${n}` };
      if (spec.maximum !== undefined && n > spec.maximum) return { problem: `input '${name}' must be at most ${spec.maximum}, got ${n}` };
      return { value: n };
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return { value: raw };
      if (raw === 'true' || raw === 'yes') return { value: true };
      if (raw === 'false' || raw === 'no') return { value: false };
      return { problem: `input '${name}' must be true or false, got ${JSON.stringify(raw)}` };
    }
    case 'array': {
      if (Array.isArray(raw)) return { value: raw };
      if (typeof raw === 'string') return { value: raw.split(',').map((s) => s.trim()).filter(Boolean) };
      return { problem: `input '${name}' must be a list (or comma-separated), got ${JSON.stringify(raw)}` };
    }
    case 'string': {
      if (typeof raw !== 'string') return { problem: `input '${name}' must be a string, got ${JSON.stringify(raw)}` };
      const formatProblem = checkFormat(spec.format, raw);
      if (formatProblem) return { problem: `input '${name}': ${formatProblem}` };
      return { value: spec.secret ? new Secret(raw) : raw };
    }
  }
}

function checkFormat(format: InputSpec['format'], value: string): string | undefined {
  switch (format) {
    case 'email':
      return EMAIL.test(value) ? undefined : `${JSON.stringify(value)} is not an email address`;
    case 'ip':
      return isIP(value) ? undefined : `${JSON.stringify(value)} is not an IP address`;
    case 'duration':
      return parseDuration(value) !== undefined ? undefined : `${JSON.stringify(value)} is not a duration (e.g. 30m, 24h, 2d)`;
    case 'hostname':
      return HOSTNAME.test(value) ? undefined : `${JSON.stringify(value)} is not a host name`;
    default:
      return undefined;
  }
}

/**
 * Resolves a playbook's inputs from --var flags (strongest), a vars file, then defaults.
 * Every problem is collected so the operator fixes them in one go.
 */
export function resolveInputs(
  playbook: PlaybookSpec,
  flags: Record<string, string>,
  file: Record<string, unknown> = {},
): Record<string, unknown> {
  const declared = playbook.inputs ?? {};
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const name of [...Object.keys(flags), ...Object.keys(file)]) {
    if (!(name in declared)) {
      const source = name in flags ? '--var' : '--vars-file';
      problems.push(`unknown input '${name}' from ${source} (this playbook takes: ${Object.keys(declared).join(', ') || 'no inputs'})`);
    }
  }
  const missing: string[] = [];
  for (const [name, spec] of Object.entries(declared)) {
    const raw = name in flags ? flags[name] : name in file ? file[name] : spec.default;
    if (raw === undefined || raw === null) {
      if (spec.required) missing.push(name);
      else values[name] = null;
      continue;
    }
    const { value, problem } = coerce(name, spec, raw);
    if (problem) problems.push(problem);
    else values[name] = value;
  }
  if (missing.length > 0) {
    problems.unshift(
      `missing required input${missing.length > 1 ? 's' : ''}: ${missing.join(', ')} (pass --var ${missing[0]}=VALUE or --vars-file FILE)`,
    );
  }
  if (problems.length > 0) throw new InputError([...new Set(problems)]);
  return values;
}
