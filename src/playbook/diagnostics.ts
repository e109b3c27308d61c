import { safeForTerminal } from '../core/terminal-safe.js';

/** One problem in a playbook, pinned to file:line:col. */
export interface Diagnostic {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
  /** Characters to underline. */
  length: number;
  message: string;
  /** The offending source line, or the part of a very long line around the problem. */
  lineText: string;
  /** Where lineText starts in its line (0-based), when it is only part of the line. */
  lineTextStart?: number;
}

/** Characters of a line shown around a problem: a minified file can be one 2 MB line. */
export const LINE_WINDOW = 240;

/** The part of a line a diagnostic shows: the whole line, or a window around the column. */
export function lineExcerpt(line: string, col: number): { lineText: string; lineTextStart?: number } {
  if (line.length <= LINE_WINDOW) return { lineText: line };
  const start = Math.max(0, Math.min(col - 1 - LINE_WINDOW / 2, line.length - LINE_WINDOW));
  return { lineText: line.slice(start, start + LINE_WINDOW), lineTextStart: start };
}

export class PlaybookError extends Error {
  readonly diagnostics: Diagnostic[];
  /** Problems found but not listed (past the report cap). */
  readonly omitted: number;
  constructor(diagnostics: Diagnostic[], omitted = 0) {
    const more = omitted > 0 ? `\n${moreProblems(omitted)}` : '';
    super(`${diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`).join('\n')}${more}`);
    this.name = 'PlaybookError';
    this.diagnostics = diagnostics;
    this.omitted = omitted;
  }
}

export function moreProblems(omitted: number): string {
  return `... and ${omitted} more problem${omitted === 1 ? '' : 's'} not shown (fix these and validate again)`;
}

/**
 * `file:line:col: error: message`, the source line, and a caret under the problem. Messages quote
 * the playbook (field names, values), so every part is made safe for a terminal here.
 */
export function formatDiagnostic(d: Diagnostic): string {
  const gutter = String(d.line).length;
  const shownFrom = d.lineTextStart ?? 0;
  const before = shownFrom > 0 ? '…' : '';
  const text = `${before}${safeForTerminal(d.lineText)}`;
  // Escaping widens the line (a tab shows as \t): measure the caret on the escaped text.
  const start = Math.max(0, d.col - 1 - shownFrom);
  const caretPad = ' '.repeat(before.length + safeForTerminal(d.lineText.slice(0, start)).length);
  const carets = '^'.repeat(Math.max(1, safeForTerminal(d.lineText.slice(start, start + Math.max(1, d.length))).length));
  return [
    `${safeForTerminal(d.file)}:${d.line}:${d.col}: error: ${safeForTerminal(d.message)}`,
    ` ${d.line} | ${text}`,
    ` ${' '.repeat(gutter)} | ${caretPad}${carets}`,
  ].join('\n');
}

/** Every diagnostic of an error, then how many were left out. */
export function formatPlaybookError(error: PlaybookError): string[] {
  return [...error.diagnostics.map(formatDiagnostic), ...(error.omitted > 0 ? [moreProblems(error.omitted)] : [])];
}
