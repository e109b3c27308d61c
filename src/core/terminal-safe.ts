/**
 * The one place that decides which characters may not reach a terminal from data (log lines,
 * subjects, paths, playbook text): C0 controls but newline and tab, DEL, C1 controls (a lone
 * U+009B is CSI on many terminals, U+009D is OSC: clipboard writes, hyperlinks) and the bidi
 * controls that make text read differently from what it is (U+202E and friends).
 */
// eslint-disable-next-line no-control-regex
export const TERMINAL_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Characters JSON.stringify leaves raw although a terminal acts on them. */
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function codePoint(ch: string): string {
  return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

function visible(ch: string): string {
  const code = ch.charCodeAt(0);
  if (code === 0x1b) return '\\e';
  if (code === 0x0d) return '\\r';
  return codePoint(ch);
}

/** Text on one line: controls, newlines and tabs shown escaped. */
export function safeForTerminal(text: string): string {
  return text.replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(TERMINAL_CONTROL, visible);
}

/** Multi-line text: newlines and tabs kept, other controls shown escaped. */
export function safeMultilineForTerminal(text: string): string {
  return text.replace(TERMINAL_CONTROL, visible);
}

/**
 * JSON text whose strings carry no character a terminal acts on. JSON.stringify already writes
 * C0 as \u00XX; these are the rest, written the same way, so the result parses to the same value.
 */
export function terminalSafeJson(json: string): string {
  return json.replace(JSON_UNSAFE, codePoint);
}
