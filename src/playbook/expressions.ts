import { parse, type ASTNode } from '@marcbachmann/cel-js';
import { isSecret } from '../core/secret.js';

/**
 * Expressions in `when`, `foreach` and `${{ }}` templates are CEL (Common Expression Language):
 * side-effect free, not Turing complete, no access to anything but the variables given.
 */

/** Variables an expression may name at its root. */
export const EXPRESSION_ROOTS = ['inputs', 'steps', 'item', 'host'] as const;
export type ExpressionRoot = (typeof EXPRESSION_ROOTS)[number];

export interface ExpressionReference {
  root: string;
  /** Member names after the root: `steps.detect.sender` → ['detect', 'sender']. */
  path: string[];
  /** Offsets inside the expression source. */
  start: number;
  end: number;
}

export class ExpressionError extends Error {
  /** Offset of the problem inside the expression source. */
  readonly offset: number;
  readonly length: number;
  constructor(message: string, offset: number, length = 1) {
    super(message);
    this.name = 'ExpressionError';
    this.offset = offset;
    this.length = length;
  }
}

export interface CompiledExpression {
  source: string;
  references: ExpressionReference[];
  evaluate(context: ExpressionContext): unknown;
}

export interface ExpressionContext {
  inputs: Record<string, unknown>;
  steps: Record<string, unknown>;
  item?: unknown;
  host?: { name: string; vars: Record<string, unknown> };
}

const MACROS_WITH_BOUND_VARIABLE = new Set(['map', 'filter', 'all', 'exists', 'exists_one']);

interface Node {
  op: string;
  args: unknown;
  start?: number;
  end?: number;
}

function asNode(value: unknown): Node | undefined {
  return value !== null && typeof value === 'object' && 'op' in value ? (value as Node) : undefined;
}

/** Walks the AST collecting root references (`steps.x.y`) and names bound by macros. */
function collectReferences(root: ASTNode): { references: ExpressionReference[]; bound: Set<string> } {
  const references: ExpressionReference[] = [];
  const bound = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(visit);
      return;
    }
    const node = asNode(value);
    if (node === undefined) return;
    if (node.op === '.' || node.op === '.?') {
      const path: string[] = [];
      let current: Node | undefined = node;
      while (current !== undefined && (current.op === '.' || current.op === '.?')) {
        const [object, key] = current.args as [unknown, unknown];
        path.unshift(String(key));
        current = asNode(object);
      }
      if (current?.op === 'id') {
        references.push({ root: String(current.args), path, start: node.start ?? 0, end: node.end ?? 0 });
        return;
      }
      visit(current);
      return;
    }
    if (node.op === 'id') {
      references.push({ root: String(node.args), path: [], start: node.start ?? 0, end: node.end ?? 0 });
      return;
    }
    if (node.op === 'rcall') {
      const [name, target, args] = node.args as [string, unknown, unknown[]];
      if (MACROS_WITH_BOUND_VARIABLE.has(name) && Array.isArray(args)) {
        const variable = asNode(args[0]);
        if (variable?.op === 'id') bound.add(String(variable.args));
        visit(target);
        args.slice(1).forEach(visit);
        return;
      }
    }
    visit(node.args);
  };
  visit(root);
  return { references: references.filter((r) => !bound.has(r.root)), bound };
}

/** CEL distinguishes int from double; playbook data uses JS numbers. Integers become int. */
export function toCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (isSecret(value)) return value.toString();
  if (Array.isArray(value)) return value.map(toCel);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toCel(v);
    return out;
  }
  return value;
}

export function fromCel(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(fromCel);
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) out[String(k)] = fromCel(v);
    return out;
  }
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fromCel(v);
    return out;
  }
  return value;
}

function describeCelError(error: unknown): { message: string; offset: number; length: number } {
  const e = error as { message?: string; range?: { start: number; end: number } };
  // cel-js appends a source excerpt after a blank line; we render our own with file context.
  const message = String(e.message ?? error).split('\n')[0] ?? 'invalid expression';
  const start = e.range?.start ?? 0;
  const end = e.range?.end ?? start + 1;
  return { message, offset: start, length: Math.max(1, end - start) };
}

function lookupPath(context: ExpressionContext, root: string, path: string[]): { found: boolean; value: unknown } {
  let current: unknown = (context as unknown as Record<string, unknown>)[root];
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !(key in (current as object))) {
      return { found: false, value: undefined };
    }
    current = (current as Record<string, unknown>)[key];
  }
  return { found: current !== undefined, value: current };
}

export function compileExpression(source: string): CompiledExpression {
  let program: ReturnType<typeof parse>;
  try {
    program = parse(source);
  } catch (error) {
    const { message, offset, length } = describeCelError(error);
    throw new ExpressionError(message, offset, length);
  }
  const { references } = collectReferences(program.ast);
  // A bare path (`inputs.sender`) is looked up directly so that values CEL cannot carry
  // (secrets, large integers) pass through untouched.
  const simplePath = /^\s*([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*$/.exec(source);
  return {
    source,
    references,
    evaluate(context: ExpressionContext): unknown {
      if (simplePath) {
        const root = simplePath[1] as string;
        const path = (simplePath[2] ?? '').split('.').filter(Boolean);
        const hit = lookupPath(context, root, path);
        if (hit.found) return hit.value;
        throw new ExpressionError(`no value at ${source.trim()}`, 0, source.length);
      }
      try {
        return fromCel(program(toCel(context) as Record<string, unknown>));
      } catch (error) {
        const { message, offset, length } = describeCelError(error);
        throw new ExpressionError(message, offset, length);
      }
    },
  };
}

const TEMPLATE = /\$\{\{([\s\S]*?)\}\}/g;

export interface TemplatePart {
  expression: CompiledExpression;
  /** Offset of the expression source inside the template string. */
  offset: number;
}

export function hasTemplate(text: string): boolean {
  return text.includes('${{');
}

/** Compiles every `${{ }}` in a string; throws ExpressionError with the offset in the string. */
export function compileTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  for (const match of text.matchAll(TEMPLATE)) {
    const inner = match[1] ?? '';
    const offset = (match.index ?? 0) + 3;
    try {
      parts.push({ expression: compileExpression(inner), offset });
    } catch (error) {
      if (error instanceof ExpressionError) {
        throw new ExpressionError(error.message, offset + error.offset, error.length);
      }
      throw error;
    }
  }
  const unclosed = text.indexOf('${{', text.lastIndexOf('}}') + 1);
  if (unclosed !== -1 && !text.slice(unclosed).includes('}}')) {
    throw new ExpressionError("unclosed '${{': end the expression with '}}'", unclosed, 3);
  }
  return parts;
}

function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (isSecret(value)) return value.toString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * Resolves templates inside any value. A string that is exactly one `${{ expr }}` becomes the
 * expression's value with its type (a list stays a list); otherwise results are interpolated.
 */
export function renderTemplates(value: unknown, context: ExpressionContext): unknown {
  if (typeof value === 'string') {
    if (!hasTemplate(value)) return value;
    const whole = /^\s*\$\{\{([\s\S]*?)\}\}\s*$/.exec(value);
    if (whole && !(whole[1] ?? '').includes('}}')) return compileExpression(whole[1] ?? '').evaluate(context);
    return value.replace(TEMPLATE, (_m, inner: string) => stringify(compileExpression(inner).evaluate(context)));
  }
  if (Array.isArray(value)) return value.map((v) => renderTemplates(v, context));
  if (value !== null && typeof value === 'object' && !isSecret(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderTemplates(v, context);
    return out;
  }
  return value;
}

/** Every template string inside a value, with its path (for validation). */
export function findTemplateStrings(value: unknown, path: (string | number)[] = []): { path: (string | number)[]; text: string }[] {
  if (typeof value === 'string') return hasTemplate(value) ? [{ path, text: value }] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => findTemplateStrings(v, [...path, i]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => findTemplateStrings(v, [...path, k]));
  }
  return [];
}

export function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return Boolean(value);
}
