/**
 * Escaping for report output. Everything in an audit log may have been written by a spammer
 * (subjects, paths, headers, senders), so every value goes through one of these before it
 * reaches a report: control characters and terminal escapes are neutralized first, then the
 * value is escaped for the target format.
 */

// CSI/OSC/other escape sequences a terminal would act on.
const ANSI_PATTERN =
  // eslint-disable-next-line no-control-regex
  /[\u001b\u009b](?:\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[[\]()#;?]*(?:\d{1,4}(?:;\d{0,4})*)?[\dA-PR-TZcf-nq-uy=><~])/g;

// C0/C1 controls except tab and newline, DEL, and the bidi overrides that can make text read
// differently from what it is.
const CONTROL_PATTERN =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Removes terminal escape sequences. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI_PATTERN, '');
}

/**
 * Makes hostile text inert for any display: ANSI sequences removed, other control and bidi
 * characters shown as `\uXXXX` so a reader sees they were there.
 */
export function neutralize(text: string): string {
  return stripAnsi(text).replace(CONTROL_PATTERN, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Any value as display text: strings as they are, the rest as compact JSON. */
export function displayText(value: unknown): string {
  if (value === undefined) return '';
  if (value === null) return 'null';
  if (typeof value === 'string') return neutralize(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return neutralize(JSON.stringify(value) ?? String(value));
}

export function escapeHtml(text: string): string {
  return neutralize(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * Markdown text that renders as written: every punctuation character Markdown (CommonMark,
 * GFM, Jira/GitLab flavours) could act on is backslash-escaped, newlines become spaces so the
 * value cannot start a new block, and `@`/`#` cannot mention users or link issues.
 */
export function escapeMarkdown(text: string): string {
  const inline = neutralize(text)
    .replace(/\r?\n|\r/g, ' ')
    .replace(/[\\`*_{}[\]()<>#!|~@&$]/g, (ch) => `\\${ch}`);
  // Block syntax only matters at the start: a list marker, an ordered-list number, a heading
  // underline.
  return inline.replace(/^(\s*)([-+=]|\d+[.)])/, (_m, space: string, marker: string) =>
    `${space}${marker.slice(0, -1)}\\${marker.slice(-1)}`,
  );
}

/** A Markdown table cell: escaped text, `|` escaped even inside code spans (GFM rule). */
export function mdCell(value: unknown): string {
  const text = displayText(value);
  return text === '' ? ' ' : escapeMarkdown(text);
}

/**
 * A Markdown code span for a hostile value in a table (paths, senders, subjects): shown
 * literally, never turned into a link or a mention. The backtick run is longer than any run
 * inside the value, and `|` is escaped because GFM splits table cells before code spans.
 */
export function mdCode(value: unknown): string {
  const text = displayText(value).replace(/\r?\n|\r/g, ' ');
  if (text === '') return ' ';
  const longest = Math.max(0, ...Array.from(text.matchAll(/`+/g), (m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') || text.startsWith(' ') ? ' ' : '';
  return `${fence}${pad}${text.replace(/\|/g, '\\|')}${pad}${fence}`;
}

/** A fenced code block whose fence no content line can close. */
export function mdFence(body: string, info = ''): string {
  const text = neutralize(body);
  const longest = Math.max(2, ...Array.from(text.matchAll(/`+/g), (m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${info}\n${text}\n${fence}`;
}

/**
 * argv shown as one POSIX shell line, for reading only (runbook itself never runs shell
 * strings). Plain words stay bare; anything else is single-quoted.
 */
export function argvToDisplay(argv: readonly string[]): string {
  return argv
    .map((arg) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}
