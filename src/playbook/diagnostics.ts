import { safeLine } from '../core/text.js';

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
  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`).join('\n'));
    this.name = 'PlaybookError';
    this.diagnostics = diagnostics;
  }
}

/** `file:line:col: error: message`, the source line, and a caret under the problem. */
export function formatDiagnostic(d: Diagnostic): string {
  const gutter = String(d.line).length;
  const text = safeLine(d.lineText);
  const caretPad = ' '.repeat(Math.max(0, d.col - 1));
  const carets = '^'.repeat(Math.max(1, Math.min(d.length, Math.max(1, text.length - d.col + 1))));
  return [
    `${d.file}:${d.line}:${d.col}: error: ${d.message}`,
    ` ${d.line} | ${text}`,
    ` ${' '.repeat(gutter)} | ${caretPad}${carets}`,
  ].join('\n');
}
