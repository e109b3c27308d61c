/**
 * The one call for showing host-supplied text (subjects, paths, senders) on a terminal: ANSI
 * escapes and other control characters become visible text instead of acting on the terminal.
 */
import { safeLine } from './text.js';

export function safeForTerminal(text: string): string {
  return safeLine(text);
}
