/**
 * Text that came from a host (log lines, subjects, paths) may hold terminal escapes written by
 * a spammer. Before it reaches a terminal every control character is made visible.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function visible(ch: string): string {
  const code = ch.charCodeAt(0);
  if (code === 0x1b) return '\\e';
  if (code === 0x0d) return '\\r';
  return `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One line safe for a terminal: control characters and newlines shown escaped. */
export function safeLine(text: string): string {
  return text.replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(CONTROL, visible);
}

/** Multi-line text safe for a terminal: newlines kept, other controls escaped. */
export function safeText(text: string): string {
  return text.replace(CONTROL, visible);
}
