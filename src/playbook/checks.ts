import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { suggestAction, type ActionRegistry } from '../actions/registry.js';
import type { Action } from '../actions/types.js';
import { compileExpression, compileTemplate, ExpressionError, findTemplateStrings, type ExpressionReference } from './expressions.js';
import { coerce } from './inputs.js';
import { allowTemplates, IDENTIFIER_PATTERN, INPUT_TYPES, PlaybookSpec, type InputSpec } from './schema.js';
import type { Path, PathProblem } from './source-map.js';

/**
 * The checks after YAML, each run on whatever part of the playbook has the shape it needs, so
 * one run reports schema errors, bad expressions, unknown references and bad input defaults
 * together. A part the schema rejects is skipped by the checks that need it (no cascades).
 * Every check is linear in the playbook's size.
 */

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv;
}

const structural = newAjv().compile(PlaybookSpec);
const paramValidators = new WeakMap<Action, ValidateFunction>();

/** The action's parameter schema, with templates allowed where values are typed. */
function paramValidator(action: Action): ValidateFunction {
  let validate = paramValidators.get(action);
  if (!validate) {
    validate = newAjv().compile(allowTemplates(JSON.parse(JSON.stringify(action.params)) as Record<string, unknown>));
    paramValidators.set(action, validate);
  }
  return validate;
}

function pointerToPath(pointer: string): Path {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function describeAjvError(error: ErrorObject, where: string): { message: string; key?: string } {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperty':
    case 'additionalProperties':
      return { message: `unknown field '${String(params.additionalProperty)}' in ${where}`, key: String(params.additionalProperty) };
    case 'required':
      return { message: `${where} is missing required field '${String(params.missingProperty)}'` };
    case 'pattern':
      return { message: `${where} ${error.message ?? 'has the wrong form'}` };
    case 'enum':
    case 'const':
      return { message: `${where} must be one of: ${JSON.stringify(params.allowedValues ?? params.allowedValue)}` };
    default:
      return { message: `${where} ${error.message ?? 'is invalid'}` };
  }
}

/** ajv reports every branch of an anyOf; keep the most specific error per location. */
function dedupeAjvErrors(errors: ErrorObject[]): ErrorObject[] {
  const byPath = new Map<string, ErrorObject>();
  // `on_error: contine` fails each literal of the union: report them as one list of choices.
  const choices = new Map<string, unknown[]>();
  for (const error of errors) {
    if (error.keyword !== 'const') continue;
    const list = choices.get(error.instancePath) ?? [];
    list.push((error.params as { allowedValue: unknown }).allowedValue);
    choices.set(error.instancePath, list);
  }
  for (const error of errors) {
    if (error.keyword === 'anyOf') continue;
    if (error.keyword === 'const') {
      const allowed = choices.get(error.instancePath) ?? [];
      if (!byPath.has(`${error.instancePath}|`)) byPath.set(`${error.instancePath}|`, { ...error, keyword: 'enum', params: { allowedValues: allowed } });
      continue;
    }
    const key = `${error.instancePath}|${error.keyword === 'additionalProperties' ? String((error.params as Record<string, unknown>).additionalProperty) : ''}`;
    if (!byPath.has(key)) byPath.set(key, error);
  }
  return [...byPath.values()];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describePath(path: Path, spec: unknown): string {
  if (path.length === 0) return 'the playbook';
  if (path[0] === 'steps' && typeof path[1] === 'number') {
    const step = isRecord(spec) && Array.isArray(spec.steps) ? (spec.steps[path[1]] as unknown) : undefined;
    const name = isRecord(step) && typeof step.id === 'string' ? `step '${step.id}'` : `step ${path[1] + 1}`;
    return path.length > 2 ? `${path.slice(2).join('.')} of ${name}` : name;
  }
  return path.join('.');
}

const IDENTIFIER_RULE = `a lowercase identifier (${IDENTIFIER_PATTERN}: a letter a-z, then a-z, 0-9 or _), so that inputs.<name> is an expression`;

function checkStructure(spec: unknown): PathProblem[] {
  if (structural(spec)) return [];
  const problems: PathProblem[] = [];
  for (const error of dedupeAjvErrors(structural.errors ?? [])) {
    const path = pointerToPath(error.instancePath);
    const { message, key } = describeAjvError(error, describePath(path, spec));
    if (key !== undefined && path.length === 1 && path[0] === 'inputs') {
      problems.push({ path: [...path, key], key: true, message: `input name '${key}' must be ${IDENTIFIER_RULE}` });
    } else if (key !== undefined) {
      problems.push({ path: [...path, key], key: true, message });
    } else {
      problems.push({ path, message });
    }
  }
  return problems;
}

/** Words the expression parser reads as operators or literals: `inputs.in` would not parse. */
const RESERVED_WORDS = new Set(['in', 'true', 'false', 'null']);

function reservedWord(name: string, what: string): string {
  return `${what} '${name}' is a reserved word in expressions (${what === 'input name' ? 'inputs' : 'steps'}.${name} would not parse); choose another name`;
}

function checkInputNames(inputs: unknown): PathProblem[] {
  if (!isRecord(inputs)) return [];
  return Object.keys(inputs)
    .filter((name) => RESERVED_WORDS.has(name))
    .map((name) => ({ path: ['inputs', name], key: true, message: reservedWord(name, 'input name') }));
}

/** Each input's default must be a value `apply` would accept for it. */
function checkInputDefaults(inputs: unknown): PathProblem[] {
  if (!isRecord(inputs)) return [];
  const problems: PathProblem[] = [];
  for (const [name, spec] of Object.entries(inputs)) {
    if (!isRecord(spec) || spec.default === undefined || spec.default === null) continue;
    if (!(INPUT_TYPES as readonly unknown[]).includes(spec.type)) continue;
    const { problem } = coerce(name, spec as InputSpec, spec.default);
    if (problem) problems.push({ path: ['inputs', name, 'default'], message: `default of ${problem}` });
  }
  return problems;
}

interface Scope {
  inputs: Set<string>;
  /** The declared inputs as a message lists them (made once: a playbook may declare thousands). */
  knownInputs: string;
  /** Step ids that run before this one, with their action. */
  earlier: Map<string, Action | undefined>;
  /** Every step id, with the index of its first step. */
  firstIndex: Map<string, number>;
  hasItem: boolean;
}

function checkReferences(references: ExpressionReference[], scope: Scope): { message: string; start: number; end: number }[] {
  const problems: { message: string; start: number; end: number }[] = [];
  for (const ref of references) {
    const [first, second] = ref.path;
    if (ref.root === 'inputs') {
      if (first !== undefined && !scope.inputs.has(first)) {
        const known = scope.knownInputs;
        problems.push({ message: `unknown input '${first}' (inputs: ${known})`, start: ref.start, end: ref.end });
      }
    } else if (ref.root === 'steps') {
      if (first === undefined) continue;
      if (scope.earlier.has(first)) {
        const outputs = scope.earlier.get(first)?.outputs;
        if (second !== undefined && outputs && !(second in outputs)) {
          problems.push({
            message: `step '${first}' has no output '${second}' (outputs: ${Object.keys(outputs).join(', ')})`,
            start: ref.start,
            end: ref.end,
          });
        }
      } else if (scope.firstIndex.has(first)) {
        problems.push({ message: `step '${first}' runs later; a step can only use outputs of earlier steps`, start: ref.start, end: ref.end });
      } else {
        problems.push({ message: `unknown step '${first}'`, start: ref.start, end: ref.end });
      }
    } else if (ref.root === 'item') {
      if (!scope.hasItem) problems.push({ message: "'item' is only defined in a step with 'foreach'", start: ref.start, end: ref.end });
    } else if (ref.root !== 'host') {
      problems.push({ message: `unknown variable '${ref.root}' (use inputs.*, steps.*, item or host)`, start: ref.start, end: ref.end });
    }
  }
  return problems;
}

function checkExpression(path: Path, source: string, asTemplate: boolean, scope: Scope, problems: PathProblem[]): void {
  try {
    const parts = asTemplate ? compileTemplate(source) : [{ expression: compileExpression(source), offset: 0 }];
    for (const part of parts) {
      for (const problem of checkReferences(part.expression.references, scope)) {
        problems.push({ path, message: problem.message, offset: part.offset + problem.start, length: Math.max(1, problem.end - problem.start) });
      }
    }
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    problems.push({ path, message: `bad expression: ${error.message}`, offset: error.offset, length: error.length });
  }
}

function checkParams(step: Record<string, unknown>, action: Action, at: (field: Path) => Path, problems: PathProblem[]): void {
  const name = String(step.action);
  const validate = paramValidator(action);
  if (validate(step.with ?? {})) return;
  const known = Object.keys((action.params as { properties?: object }).properties ?? {}).join(', ');
  for (const error of dedupeAjvErrors(validate.errors ?? [])) {
    const path = pointerToPath(error.instancePath);
    const where = path.length > 0 ? `parameter '${path.join('.')}' of ${name}` : `'with' of ${name}`;
    const { message, key } = describeAjvError(error, where);
    if (key !== undefined) problems.push({ path: at(['with', ...path, key]), key: true, message: `unknown parameter '${key}' for ${name} (parameters: ${known})` });
    else if (step.with === undefined) problems.push({ path: at(['action']), message });
    else problems.push({ path: at(['with', ...path]), message });
  }
}

function checkSteps(spec: Record<string, unknown>, registry: ActionRegistry): PathProblem[] {
  if (!Array.isArray(spec.steps)) return [];
  const steps = spec.steps as unknown[];
  const problems: PathProblem[] = [];
  const inputs = new Set(isRecord(spec.inputs) ? Object.keys(spec.inputs) : []);
  const names = [...inputs].slice(0, 10);
  const knownInputs = inputs.size === 0 ? 'none declared' : `${names.join(', ')}${inputs.size > names.length ? `, … ${inputs.size - names.length} more` : ''}`;
  const firstIndex = new Map<string, number>();
  steps.forEach((step, index) => {
    if (!isRecord(step) || typeof step.id !== 'string') return;
    if (RESERVED_WORDS.has(step.id)) problems.push({ path: ['steps', index, 'id'], message: reservedWord(step.id, 'step id') });
    const first = firstIndex.get(step.id);
    if (first !== undefined) problems.push({ path: ['steps', index, 'id'], message: `duplicate step id '${step.id}' (first used by step ${first + 1})` });
    else firstIndex.set(step.id, index);
  });

  const earlier = new Map<string, Action | undefined>();
  const hints = new Map<string, string | undefined>();
  steps.forEach((step, index) => {
    if (!isRecord(step)) return;
    const at = (field: Path): Path => ['steps', index, ...field];
    const action = typeof step.action === 'string' ? registry.get(step.action) : undefined;
    if (typeof step.action === 'string' && !action) {
      // One suggestion per misspelling: a generated file may repeat it thousands of times.
      if (!hints.has(step.action)) hints.set(step.action, suggestAction(registry, step.action));
      const hint = hints.get(step.action);
      problems.push({ path: at(['action']), message: `unknown action '${step.action}'${hint ? ` (did you mean '${hint}'?)` : ''}; 'runbook actions' lists them` });
    }
    if (action && (step.with === undefined || isRecord(step.with))) checkParams(step, action, at, problems);

    const hasItem = step.foreach !== undefined;
    const scope: Scope = { inputs, knownInputs, earlier, firstIndex, hasItem };
    if (typeof step.when === 'string') checkExpression(at(['when']), step.when, false, scope, problems);
    if (typeof step.foreach === 'string') checkExpression(at(['foreach']), step.foreach, false, { ...scope, hasItem: false }, problems);
    if (typeof step.confirm === 'string') checkExpression(at(['confirm']), step.confirm, true, scope, problems);
    if (typeof step.name === 'string') checkExpression(at(['name']), step.name, true, scope, problems);
    if (isRecord(step.with)) {
      for (const { path, text } of findTemplateStrings(step.with)) checkExpression(at(['with', ...path]), text, true, scope, problems);
    }
    if (typeof step.id === 'string' && !earlier.has(step.id)) earlier.set(step.id, action);
  });
  return problems;
}

/** Every problem after YAML parsing, each addressed by its path in the playbook. */
export function checkPlaybook(spec: unknown, registry: ActionRegistry): PathProblem[] {
  if (spec === null || spec === undefined) return [{ path: [], message: 'the playbook is empty: it needs at least a name and steps' }];
  const problems = checkStructure(spec);
  if (isRecord(spec)) problems.push(...checkInputNames(spec.inputs), ...checkInputDefaults(spec.inputs), ...checkSteps(spec, registry));
  return problems;
}
