/**
 * A playbook's text with a table of where its lines start, so any offset becomes line:col in
 * O(log n). YAML counts CRLF, CR and LF as line breaks; so does this table, so a file saved on
 * Windows or classic Mac OS reports the same positions an editor shows.
 */
export class SourceText {
  /** The text as parsed: a lone CR becomes LF (same length, so offsets stay those of the file). */
  readonly text: string;
  readonly #lineStarts: number[];
  /** A byte-order mark is not shown by editors: columns on line 1 do not count it. */
  readonly #bom: number;

  constructor(raw: string) {
    this.text = raw.includes('\r') ? raw.replace(/\r(?!\n)/g, '\n') : raw;
    const starts = [0];
    for (let i = this.text.indexOf('\n'); i !== -1; i = this.text.indexOf('\n', i + 1)) starts.push(i + 1);
    this.#lineStarts = starts;
    this.#bom = this.text.startsWith('\uFEFF') ? 1 : 0;
  }

  /** 1-based line and column (UTF-16 units, as editors count) of an offset. */
  position(offset: number): { line: number; col: number } {
    const at = Math.max(0, Math.min(offset, this.text.length));
    let low = 0;
    let high = this.#lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.#lineStarts[mid] as number) <= at) low = mid;
      else high = mid - 1;
    }
    const col = at - (this.#lineStarts[low] as number) + 1 - (low === 0 ? this.#bom : 0);
    return { line: low + 1, col: Math.max(1, col) };
  }

  /** The text of a 1-based line, without its line break. */
  lineText(line: number): string {
    const start = this.#lineStarts[line - 1];
    if (start === undefined) return '';
    const next = this.#lineStarts[line];
    const end = next === undefined ? this.text.length : next - 1;
    const text = this.text.slice(line === 1 ? start + this.#bom : start, end);
    return text.endsWith('\r') ? text.slice(0, -1) : text;
  }
}
