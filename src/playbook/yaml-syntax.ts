import { isAlias, isCollection, isMap, isNode, isPair, isScalar, parseDocument, type Alias, type Document, type Node as YamlNode } from 'yaml';
import type { SourceText } from './source-text.js';

/** A problem at an offset of the playbook's text. */
export interface SourceProblem {
  start: number;
  length: number;
  message: string;
}

/**
 * Aliases may add this many nodes beyond those written in the file. A playbook reuses a map or
 * a list a few times; a billion-laughs document asks for billions. Counting stops at the cap, so
 * the check itself is linear in the file.
 */
export const MAX_ALIAS_NODES = 100_000;

/** Lists and maps inside each other; a playbook uses about five levels. */
export const MAX_DEPTH = 64;

export const TOO_DEEP = 'invalid YAML: nested too deeply; a playbook needs a few levels of lists and maps';

/** The parser's words where they would send the operator to the library's documentation. */
const OWN_WORDS: Record<string, string> = {
  DUPLICATE_KEY: 'map keys must be unique: this key is given twice',
  MULTIPLE_DOCS: "a second document starts here; a playbook is one YAML document (remove the '---' line, or split the file)",
};

/** Errors after which the parsed tree still is the written one, so later checks may run. */
const STRUCTURE_KEEPING = new Set(['DUPLICATE_KEY']);

interface Unclosed {
  kind: 'quote-double' | 'quote-single' | 'seq' | 'map';
  start: number;
  end: number;
}

const OPENER: Record<Unclosed['kind'], string> = { 'quote-double': '"', 'quote-single': "'", seq: '[', map: '{' };
const CLOSER: Record<Unclosed['kind'], string> = { 'quote-double': '"', 'quote-single': "'", seq: ']', map: '}' };

/** The last non-blank character before `end`, found without copying the node's text. */
function lastChar(text: string, start: number, end: number): { ch: string; at: number } {
  let at = end - 1;
  while (at > start && /\s/.test(text[at] ?? '')) at -= 1;
  return { ch: text[at] ?? '', at };
}

function unclosedKind(node: YamlNode, text: string): Unclosed['kind'] | undefined {
  const [start, end] = node.range ?? [0, 0];
  if (isScalar(node) && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE')) {
    const quote = node.type === 'QUOTE_DOUBLE' ? '"' : "'";
    const last = lastChar(text, start, end);
    let closed = last.at > start && last.ch === quote;
    if (closed && quote === '"') {
      let backslashes = 0;
      while (text[last.at - 1 - backslashes] === '\\') backslashes += 1;
      closed = backslashes % 2 === 0;
    }
    return closed ? undefined : quote === '"' ? 'quote-double' : 'quote-single';
  }
  if (isCollection(node) && node.flow && (text[start] === '[' || text[start] === '{')) {
    const seq = text[start] === '[';
    return lastChar(text, start, end).ch === (seq ? ']' : '}') ? undefined : seq ? 'seq' : 'map';
  }
  return undefined;
}

/** Which opening an end-of-input error is about, from the parser's message. */
function errorKind(message: string): Unclosed['kind'] | undefined {
  if (/closing "quote/.test(message)) return 'quote-double';
  if (/closing 'quote/.test(message)) return 'quote-single';
  if (/end with a \]/.test(message)) return 'seq';
  if (/end with a \}/.test(message)) return 'map';
  return undefined;
}

function describeUnclosed(u: Unclosed): string {
  const what = u.kind === 'seq' ? 'list' : u.kind === 'map' ? 'map' : 'quote';
  return `invalid YAML: unclosed '${OPENER[u.kind]}': this ${what} is never closed (add the matching '${CLOSER[u.kind]}')`;
}

/** Undefined aliases and alias expansion past MAX_ALIAS_NODES, each at the alias. */
function checkAliases(aliases: { alias: Alias; target: YamlNode | undefined }[]): SourceProblem[] {
  const problems: SourceProblem[] = [];
  const sizes = new Map<YamlNode, number>();
  const cap = MAX_ALIAS_NODES + 1;
  const targets = new Map(aliases.map((a) => [a.alias, a.target]));
  const sizeOf = (node: unknown, depth: number): number => {
    if (node === null || typeof node !== 'object') return 0;
    const cached = sizes.get(node as YamlNode);
    if (cached !== undefined) return cached;
    if (depth > 10_000) return cap;
    sizes.set(node as YamlNode, cap); // a cycle counts as unbounded
    let size = 1;
    if (isAlias(node)) size = sizeOf(targets.get(node), depth + 1);
    else if (isCollection(node)) {
      for (const item of node.items as unknown[]) {
        if (size >= cap) break;
        if (item !== null && typeof item === 'object' && 'key' in item && 'value' in item) {
          size += 1 + sizeOf(item.key, depth + 1) + sizeOf(item.value, depth + 1);
        } else size += sizeOf(item, depth + 1);
      }
    }
    size = Math.min(size, cap);
    sizes.set(node as YamlNode, size);
    return size;
  };
  let added = 0;
  for (const { alias, target } of aliases) {
    const [start, end] = alias.range ?? [0, 1];
    if (target === undefined) {
      problems.push({ start, length: end - start, message: `invalid YAML: alias '*${alias.source}' has no anchor '&${alias.source}' before it` });
      continue;
    }
    added += sizeOf(alias, 0);
    if (added > MAX_ALIAS_NODES) {
      problems.push({
        start,
        length: end - start,
        message: `invalid YAML: aliases expand to more than ${MAX_ALIAS_NODES} nodes here (an alias bomb?); write the values out or reuse fewer`,
      });
      break;
    }
  }
  return problems;
}

export interface ParsedYaml {
  doc: Document;
  problems: SourceProblem[];
  /** The tree is not what was written (or would not expand safely): skip the checks after YAML. */
  fatal: boolean;
}

/** Parses YAML and pins every syntax problem where the operator has to fix it. */
export function parseYaml(source: SourceText): ParsedYaml {
  const { text } = source;
  // The parser's own duplicate-key check compares each key with all before it (quadratic in a
  // map's size); the walk below does it with a set.
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: false });
  const unclosed: Unclosed[] = [];
  const aliases: { alias: Alias; target: YamlNode | undefined }[] = [];
  const anchors = new Map<string, YamlNode>();
  const problems: SourceProblem[] = [];
  let fatal = false;
  let deepest: YamlNode | undefined;
  const duplicates: SourceProblem[] = [];
  // Document order, so an alias sees only the anchors before it, as YAML resolves them.
  const walk = (node: unknown, depth: number): void => {
    if (node === null || typeof node !== 'object' || deepest) return;
    if (isPair(node)) {
      walk(node.key, depth);
      walk(node.value, depth);
      return;
    }
    if (isAlias(node)) {
      aliases.push({ alias: node, target: anchors.get(node.source) });
      return;
    }
    if (!isNode(node)) return;
    if (node.anchor) anchors.set(node.anchor, node);
    const kind = doc.errors.length > 0 ? unclosedKind(node, text) : undefined;
    if (kind) unclosed.push({ kind, start: node.range?.[0] ?? 0, end: node.range?.[1] ?? 0 });
    if (!isCollection(node)) return;
    if (depth + 1 > MAX_DEPTH) {
      deepest = node;
      return;
    }
    if (isMap(node)) {
      const keys = new Set<unknown>();
      for (const pair of node.items) {
        if (!isScalar(pair.key)) continue;
        if (keys.has(pair.key.value)) {
          const [start, end] = pair.key.range ?? [0, 1];
          duplicates.push({ start, length: Math.max(1, end - start), message: `invalid YAML: ${OWN_WORDS.DUPLICATE_KEY}` });
        }
        keys.add(pair.key.value);
      }
    }
    for (const item of node.items as unknown[]) walk(item, depth + 1);
  };
  walk(doc.contents, 0);
  if (deepest) {
    const start = deepest.range?.[0] ?? 0;
    return { doc, problems: [{ start, length: 1, message: `invalid YAML: lists and maps nested more than ${MAX_DEPTH} levels deep here; a playbook needs a few` }], fatal: true };
  }
  const reported = new Set<Unclosed>();
  let tooDeep = false;
  /** The first unclosed quote: it swallows the rest of the file. */
  let swallowing: SourceProblem | undefined;
  for (const error of doc.errors) {
    if (!STRUCTURE_KEEPING.has(error.code)) fatal = true;
    const kind = errorKind(error.message);
    const [start, end] = error.pos;
    // Innermost opening of that kind that the error position lies in (the parser reports the
    // end of the file, where the operator has nothing to fix).
    let opening: Unclosed | undefined;
    if (kind) for (const u of unclosed) if (u.kind === kind && u.start <= start && (!opening || u.start > opening.start)) opening = u;
    if (opening) {
      if (!reported.has(opening)) {
        const problem = { start: opening.start, length: 1, message: describeUnclosed(opening) };
        problems.push(problem);
        const quote = opening.kind === 'quote-double' || opening.kind === 'quote-single';
        if (quote && (!swallowing || problem.start < swallowing.start)) swallowing = problem;
      }
      reported.add(opening);
      continue;
    }
    // The parser turns a stack overflow on deep nesting into one error per level: keep the first.
    if (/call stack/i.test(error.message)) {
      if (!tooDeep) problems.push({ start, length: 1, message: TOO_DEEP });
      tooDeep = true;
      continue;
    }
    const message = OWN_WORDS[error.code] ?? error.message.split('\n')[0] ?? error.code;
    problems.push({ start, length: Math.max(1, end - start), message: `invalid YAML: ${message}` });
  }
  // An unclosed quote swallows the rest of the file: what the parser says after it follows from it.
  if (swallowing) {
    const from = swallowing.start;
    const kept = problems.filter((p) => p.start < from || p === swallowing);
    problems.length = 0;
    problems.push(...kept);
  }
  // A repeated key keeps the tree as written (the last value wins), so later checks still run.
  problems.push(...duplicates);
  for (const warning of doc.warnings) {
    // `%YAML 9.9` parses as 1.2 with a warning; a file written for another YAML is refused.
    if (warning.code === 'BAD_DIRECTIVE') {
      fatal = true;
      const [start, end] = warning.pos;
      problems.push({ start, length: Math.max(1, end - start), message: `invalid YAML: ${warning.message.split('\n')[0]}; runbook reads YAML 1.1 and 1.2 (write '%YAML 1.2' or drop the line)` });
    }
  }
  if (!fatal) {
    const aliasProblems = checkAliases(aliases);
    if (aliasProblems.length > 0) {
      fatal = true;
      problems.push(...aliasProblems);
    }
  }
  return { doc, problems, fatal };
}
