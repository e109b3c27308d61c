/**
 * Text that came from a host (log lines, subjects, paths) may hold terminal escapes written by
 * a spammer. Before it reaches a terminal every control character is made visible; which ones
 * is decided in terminal-safe.ts. safeLine: one line, newlines and tabs escaped too; safeText:
 * newlines and tabs kept.
 */
export { safeForTerminal as safeLine, safeMultilineForTerminal as safeText } from './terminal-safe.js';
