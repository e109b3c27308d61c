import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { ActionRegistry } from '../actions/registry.js';
import { checkPlaybook } from './checks.js';
import { lineExcerpt, PlaybookError, type Diagnostic } from './diagnostics.js';
import { MAX_PLAYBOOK_BYTES, MAX_REPORTED_PROBLEMS, tooLargeMessage } from './limits.js';
import type { PlaybookSpec } from './schema.js';
import { SourceMap } from './source-map.js';
import { SourceText } from './source-text.js';
import { parseYaml, TOO_DEEP, type SourceProblem } from './yaml-syntax.js';
import { FileReadError } from '../core/read-error.js';

export interface LoadedPlaybook {
  path: string;
  sha256: string;
  spec: PlaybookSpec;
}

/** The first problems in file order as diagnostics; the rest only counted (also for other YAML files: the watcher's config). */
export function playbookError(file: string, source: SourceText, problems: SourceProblem[]): PlaybookError {
  const shown = [...problems].sort((a, b) => a.start - b.start).slice(0, MAX_REPORTED_PROBLEMS);
  const diagnostics: Diagnostic[] = shown.map((p) => {
    const { line, col } = source.position(p.start);
    return { file, line, col, length: p.length, message: p.message, ...lineExcerpt(source.lineText(line), col) };
  });
  return new PlaybookError(diagnostics, problems.length - shown.length);
}

function tooLarge(file: string, bytes: number): PlaybookError {
  return new PlaybookError([{ file, line: 1, col: 1, length: 1, message: tooLargeMessage(bytes), lineText: '' }]);
}

/** Parses, validates and checks a playbook; every problem is reported at file:line:col. */
export function parsePlaybook(file: string, text: string, registry: ActionRegistry): LoadedPlaybook {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_PLAYBOOK_BYTES) throw tooLarge(file, bytes);
  const source = new SourceText(text);
  const { doc, problems, fatal } = parseYaml(source);
  if (fatal) throw playbookError(file, source, problems);

  // Aliases were bounded by parseYaml, so expanding them here is safe.
  let spec: unknown;
  try {
    spec = doc.toJS({ maxAliasCount: -1 }) as unknown;
    const map = new SourceMap(source, doc);
    for (const problem of checkPlaybook(spec, registry)) problems.push(map.locate(problem));
  } catch (error) {
    // Nesting the parser accepted can still be too deep for walking it.
    if (!(error instanceof RangeError)) throw error;
    problems.push({ start: 0, length: 1, message: TOO_DEEP });
  }
  if (problems.length > 0) throw playbookError(file, source, problems);
  return { path: file, sha256: createHash('sha256').update(text).digest('hex'), spec: spec as PlaybookSpec };
}

export async function loadPlaybook(path: string, registry: ActionRegistry): Promise<LoadedPlaybook> {
  let text: string;
  try {
    // Refuse before reading: a wrong path can name a multi-GB log.
    const { size } = await stat(path);
    if (size > MAX_PLAYBOOK_BYTES) throw tooLarge(path, size);
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof PlaybookError) throw error;
    throw new FileReadError('playbook', path, error);
  }
  return parsePlaybook(path, text, registry);
}
