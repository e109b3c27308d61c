import { isMap, isScalar, isSeq, type Document, type Node as YamlNode, type Pair, type YAMLMap } from 'yaml';
import { scalarOffsets, type ScalarStyle } from './scalar-offsets.js';
import type { SourceText } from './source-text.js';
import type { SourceProblem } from './yaml-syntax.js';

export type Path = (string | number)[];

/** A problem found in the parsed data, addressed by its path in the document. */
export interface PathProblem {
  path: Path;
  message: string;
  /** Point at the map key instead of its value (unknown fields). */
  key?: boolean;
  /** Offset inside the scalar's value (expressions), with the length to underline. */
  offset?: number;
  length?: number;
}

/** Turns paths in the parsed playbook back into offsets of the file. */
export class SourceMap {
  readonly #source: SourceText;
  readonly #doc: Document;
  /** Keys of each map looked up so far: a file with thousands of problems in one map stays linear. */
  readonly #index = new WeakMap<YAMLMap, Map<string, Pair>>();

  constructor(source: SourceText, doc: Document) {
    this.#source = source;
    this.#doc = doc;
  }

  #pairs(map: YAMLMap): Map<string, Pair> {
    let pairs = this.#index.get(map);
    if (!pairs) {
      pairs = new Map();
      for (const pair of map.items) {
        // The first of duplicate keys, as before; duplicates are reported by the YAML check.
        if (isScalar(pair.key) && !pairs.has(String(pair.key.value))) pairs.set(String(pair.key.value), pair as Pair);
      }
      this.#index.set(map, pairs);
    }
    return pairs;
  }

  /** The deepest node the path reaches; `key` prefers the last map key found. */
  #node(path: Path, key: boolean): YamlNode | undefined {
    let current: unknown = this.#doc.contents;
    let keyNode: YamlNode | undefined;
    for (const segment of path) {
      keyNode = undefined;
      if (isMap(current)) {
        const pair = this.#pairs(current).get(String(segment));
        if (!pair) break;
        keyNode = pair.key as YamlNode;
        current = pair.value;
      } else if (isSeq(current) && typeof segment === 'number') {
        current = current.items[segment];
      } else {
        break;
      }
    }
    return (key && keyNode ? keyNode : (current as YamlNode | undefined)) ?? keyNode;
  }

  locate(problem: PathProblem): SourceProblem {
    const target = this.#node(problem.path, problem.key === true);
    const [start, end] = target?.range ?? [0, 1];
    if (problem.offset !== undefined && isScalar(target) && typeof target.value === 'string' && target.type) {
      const toSource = scalarOffsets(this.#source.text.slice(start, end), start, target.type as ScalarStyle, target.value);
      if (toSource) {
        const from = toSource(problem.offset);
        const to = toSource(problem.offset + Math.max(1, problem.length ?? 1) - 1) + 1;
        return { start: from, length: Math.max(1, to - from), message: problem.message };
      }
    }
    return { start, length: Math.max(1, end - start), message: problem.message };
  }
}
