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
  /** The offending source line. */
  lineText: string;
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
  const text = safeForTerminal(d.lineText);
  // Escaping widens the line (a tab shows as \t): measure the caret on the escaped text.
  const start = Math.max(0, d.col - 1);
  const caretPad = ' '.repeat(safeForTerminal(d.lineText.slice(0, start)).length);
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
