import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { suggestAction, type ActionRegistry } from '../actions/registry.js';
import type { Action } from '../actions/types.js';
import { compileExpression, compileTemplate, ExpressionError, findTemplateStrings, type ExpressionReference } from './expressions.js';
import { PlaybookError, type Diagnostic } from './diagnostics.js';
import { allowTemplates, PlaybookSpec, type StepSpec } from './schema.js';
import { FileReadError } from '../core/read-error.js';

export interface LoadedPlaybook {
  path: string;
  sha256: string;
  spec: PlaybookSpec;
}

type Path = (string | number)[];

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

/** Maps positions in the YAML source back to line, column and line text. */
class SourceMap {
  readonly #lines: LineCounter;
  readonly #text: string;
  readonly #file: string;
  readonly #doc: Document;

  constructor(file: string, text: string, doc: Document, lines: LineCounter) {
    this.#file = file;
    this.#text = text;
    this.#doc = doc;
    this.#lines = lines;
  }

  at(offset: number, length: number, message: string): Diagnostic {
    const { line, col } = this.#lines.linePos(Math.min(offset, this.#text.length));
    const lineText = this.#text.split('\n')[line - 1] ?? '';
    return { file: this.#file, line, col, length, message, lineText: lineText.replace(/\r$/, '') };
  }

  /** The node at a path; `key: true` points at the map key instead of its value. */
  node(path: Path, key = false): { start: number; end: number; quoted: boolean } {
    let current: unknown = this.#doc.contents;
    let keyNode: YamlNode | undefined;
    for (const segment of path) {
      keyNode = undefined;
      if (isMap(current)) {
        const pair = current.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
        if (!pair) break;
        keyNode = pair.key as YamlNode;
        current = pair.value;
      } else if (isSeq(current) && typeof segment === 'number') {
        current = current.items[segment];
      } else {
        break;
      }
    }
    const target = (key && keyNode ? keyNode : (current as YamlNode | undefined)) ?? keyNode;
    const range = target?.range ?? [0, 1];
    const quoted = isScalar(target) && (target.type === 'QUOTE_DOUBLE' || target.type === 'QUOTE_SINGLE');
    return { start: range[0], end: Math.max(range[0] + 1, range[1]), quoted };
  }

  atPath(path: Path, message: string, options: { key?: boolean; offset?: number; length?: number } = {}): Diagnostic {
    const { start, end, quoted } = this.node(path, options.key);
    if (options.offset !== undefined) {
      return this.at(start + (quoted ? 1 : 0) + options.offset, options.length ?? 1, message);
    }
    return this.at(start, end - start, message);
  }
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
    if (error.keyword === 'const') choices.set(error.instancePath, [...(choices.get(error.instancePath) ?? []), (error.params as { allowedValue: unknown }).allowedValue]);
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

function describePath(path: Path, spec: unknown): string {
  if (path.length === 0) return 'the playbook';
  if (path[0] === 'steps' && typeof path[1] === 'number') {
    const step = (spec as { steps?: { id?: unknown }[] }).steps?.[path[1]];
    const name = typeof step?.id === 'string' ? `step '${step.id}'` : `step ${path[1] + 1}`;
    return path.length > 2 ? `${path.slice(2).join('.')} of ${name}` : name;
  }
  return path.join('.');
}

interface Scope {
  inputs: Set<string>;
  /** Step ids that run before this one, with their action. */
  earlier: Map<string, Action | undefined>;
  later: Set<string>;
  hasItem: boolean;
}

function checkReferences(references: ExpressionReference[], scope: Scope): { message: string; start: number; end: number }[] {
  const problems: { message: string; start: number; end: number }[] = [];
  for (const ref of references) {
    const [first, second] = ref.path;
    if (ref.root === 'inputs') {
      if (first !== undefined && !scope.inputs.has(first)) {
        const known = [...scope.inputs].join(', ') || 'none declared';
        problems.push({ message: `unknown input '${first}' (inputs: ${known})`, start: ref.start, end: ref.end });
      }
    } else if (ref.root === 'steps') {
      if (first === undefined) continue;
      if (scope.later.has(first)) {
        problems.push({ message: `step '${first}' runs later; a step can only use outputs of earlier steps`, start: ref.start, end: ref.end });
      } else if (!scope.earlier.has(first)) {
        problems.push({ message: `unknown step '${first}'`, start: ref.start, end: ref.end });
      } else {
        const outputs = scope.earlier.get(first)?.outputs;
        if (second !== undefined && outputs && !(second in outputs)) {
          problems.push({
            message: `step '${first}' has no output '${second}' (outputs: ${Object.keys(outputs).join(', ')})`,
            start: ref.start,
            end: ref.end,
          });
        }
      }
    } else if (ref.root === 'item') {
      if (!scope.hasItem) problems.push({ message: "'item' is only defined in a step with 'foreach'", start: ref.start, end: ref.end });
    } else if (ref.root !== 'host') {
      problems.push({ message: `unknown variable '${ref.root}' (use inputs.*, steps.*, item or host)`, start: ref.start, end: ref.end });
    }
  }
  return problems;
}

/** Parses, validates and checks a playbook; every problem is reported at file:line:col. */
export function parsePlaybook(file: string, text: string, registry: ActionRegistry): LoadedPlaybook {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const map = new SourceMap(file, text, doc, lines);
  const diagnostics: Diagnostic[] = [];

  for (const error of doc.errors) {
    const [start, end] = error.pos;
    diagnostics.push(map.at(start, Math.max(1, end - start), `invalid YAML: ${error.message.split('\n')[0]}`));
  }
  if (diagnostics.length > 0) throw new PlaybookError(diagnostics);

  const spec = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (spec === null || spec === undefined) {
    throw new PlaybookError([map.at(0, 1, 'the playbook is empty: it needs at least a name and steps')]);
  }
  if (!structural(spec)) {
    for (const error of dedupeAjvErrors(structural.errors ?? [])) {
      const path = pointerToPath(error.instancePath);
      const { message, key } = describeAjvError(error, describePath(path, spec));
      diagnostics.push(key ? map.atPath([...path, key], message, { key: true }) : map.atPath(path, message));
    }
    throw new PlaybookError(diagnostics);
  }
  const playbook = spec as PlaybookSpec;

  const inputs = new Set(Object.keys(playbook.inputs ?? {}));
  const earlier = new Map<string, Action | undefined>();
  const allIds = new Map<string, number>();
  playbook.steps.forEach((step, index) => {
    const first = allIds.get(step.id);
    if (first !== undefined) {
      diagnostics.push(map.atPath(['steps', index, 'id'], `duplicate step id '${step.id}' (first used by step ${first + 1})`));
    } else {
      allIds.set(step.id, index);
    }
  });

  playbook.steps.forEach((step: StepSpec, index) => {
    const at = (field: Path) => ['steps', index, ...field];
    const action = registry.get(step.action);
    if (!action) {
      const hint = suggestAction(registry, step.action);
      diagnostics.push(
        map.atPath(at(['action']), `unknown action '${step.action}'${hint ? ` (did you mean '${hint}'?)` : ''}; 'runbook actions' lists them`),
      );
    } else {
      const validate = paramValidator(action);
      if (!validate(step.with ?? {})) {
        for (const error of dedupeAjvErrors(validate.errors ?? [])) {
          const path = pointerToPath(error.instancePath);
          const where = path.length > 0 ? `parameter '${path.join('.')}' of ${step.action}` : `'with' of ${step.action}`;
          const { message, key } = describeAjvError(error, where);
          const known = Object.keys((action.params as { properties?: object }).properties ?? {}).join(', ');
          if (key) {
            diagnostics.push(map.atPath(at(['with', ...path, key]), `unknown parameter '${key}' for ${step.action} (parameters: ${known})`, { key: true }));
          } else if (step.with === undefined) {
            diagnostics.push(map.atPath(at(['action']), message));
          } else {
            diagnostics.push(map.atPath(at(['with', ...path]), message));
          }
        }
      }
    }

    const laterIds = new Set(playbook.steps.slice(index).map((s) => s.id));
    const scope: Scope = { inputs, earlier, later: laterIds, hasItem: step.foreach !== undefined };
    const checkExpression = (field: Path, source: string, asTemplate: boolean, itemScope: boolean) => {
      const localScope = { ...scope, hasItem: itemScope };
      try {
        const parts = asTemplate ? compileTemplate(source) : [{ expression: compileExpression(source), offset: 0 }];
        for (const part of parts) {
          for (const problem of checkReferences(part.expression.references, localScope)) {
            diagnostics.push(
              map.atPath(at(field), problem.message, { offset: part.offset + problem.start, length: Math.max(1, problem.end - problem.start) }),
            );
          }
        }
      } catch (error) {
        if (!(error instanceof ExpressionError)) throw error;
        diagnostics.push(map.atPath(at(field), `bad expression: ${error.message}`, { offset: error.offset, length: error.length }));
      }
    };
    if (step.when !== undefined) checkExpression(['when'], step.when, false, scope.hasItem);
    if (step.foreach !== undefined) checkExpression(['foreach'], step.foreach, false, false);
    if (typeof step.confirm === 'string') checkExpression(['confirm'], step.confirm, true, scope.hasItem);
    if (step.name !== undefined) checkExpression(['name'], step.name, true, scope.hasItem);
    for (const { path, text } of findTemplateStrings(step.with ?? {})) {
      checkExpression(['with', ...path], text, true, scope.hasItem);
    }
    earlier.set(step.id, action);
  });

  if (diagnostics.length > 0) {
    diagnostics.sort((a, b) => a.line - b.line || a.col - b.col);
    throw new PlaybookError(diagnostics);
  }
  return { path: file, sha256: createHash('sha256').update(text).digest('hex'), spec: playbook };
}

export async function loadPlaybook(path: string, registry: ActionRegistry): Promise<LoadedPlaybook> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new FileReadError('playbook', path, error);
  }
  return parsePlaybook(path, text, registry);
}
