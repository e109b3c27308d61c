import { terminalSafeJson } from '../../core/terminal-safe.js';

/**
 * The one way the CLI prints JSON (every --json output): indented, one trailing newline, and
 * with the characters a terminal acts on (C1 controls, bidi overrides) written as \uXXXX, since
 * `--json` is often read on a terminal and its strings carry text from logs and playbooks.
 */
export function formatJson(value: unknown): string {
  return `${terminalSafeJson(JSON.stringify(value, null, 2))}\n`;
}

export function printJson(value: unknown, stream: NodeJS.WritableStream = process.stdout): void {
  stream.write(formatJson(value));
}
