/**
 * Where each character of a scalar's value sits in the file. An expression error is found at an
 * offset in the value; the value differs from the source when YAML folds lines (plain, quoted
 * and `>` scalars), strips block indentation (`|`), or decodes escapes (`\u00e9`, `''`). The map
 * is rebuilt from the source and checked against the parsed value; when they disagree (a form
 * not modelled here) the caller falls back to the scalar's start rather than a wrong column.
 */
export type ScalarStyle = 'PLAIN' | 'QUOTE_SINGLE' | 'QUOTE_DOUBLE' | 'BLOCK_LITERAL' | 'BLOCK_FOLDED';

interface Built {
  chars: string[];
  offsets: number[];
}

function isBlank(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t';
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '0': '\0', a: '\x07', b: '\b', t: '\t', '\t': '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b',
  ' ': ' ', '"': '"', '/': '/', '\\': '\\', N: '\u0085', _: '\u00a0', L: '\u2028', P: '\u2029',
};
const HEX_ESCAPES: Record<string, number> = { x: 2, u: 4, U: 8 };

/**
 * Flow scalars (plain, single- and double-quoted): a line break between text becomes a space,
 * each empty line a newline; whitespace around breaks is dropped.
 */
function buildFlow(source: string, base: number, style: 'PLAIN' | 'QUOTE_SINGLE' | 'QUOTE_DOUBLE'): Built {
  const chars: string[] = [];
  const offsets: number[] = [];
  /** Length of `chars` up to the last character that trailing-space trimming must keep. */
  let kept = 0;
  const push = (ch: string, at: number, keep: boolean) => {
    chars.push(ch);
    offsets.push(base + at);
    if (keep) kept = chars.length;
  };
  const quoted = style !== 'PLAIN';
  let i = quoted ? 1 : 0;
  const end = style === 'PLAIN' ? source.length : source.length - 1;
  while (i < end) {
    const ch = source[i] as string;
    if (ch === '\n' || (ch === '\r' && source[i + 1] === '\n')) {
      chars.length = kept;
      offsets.length = kept;
      const breakAt = i;
      let empties = 0;
      i += ch === '\r' ? 2 : 1;
      for (;;) {
        while (isBlank(source[i])) i += 1;
        if (source[i] === '\n') i += 1;
        else if (source[i] === '\r' && source[i + 1] === '\n') i += 2;
        else break;
        empties += 1;
      }
      if (empties === 0) push(' ', breakAt, false);
      else for (let n = 0; n < empties; n += 1) push('\n', breakAt, true);
      continue;
    }
    if (style === 'QUOTE_SINGLE' && ch === "'" && source[i + 1] === "'") {
      push("'", i, true);
      i += 2;
      continue;
    }
    if (style === 'QUOTE_DOUBLE' && ch === '\\') {
      const next = source[i + 1] ?? '';
      if (next === '\n' || (next === '\r' && source[i + 2] === '\n')) {
        // An escaped line break joins the lines with nothing between them.
        i += next === '\r' ? 3 : 2;
        while (isBlank(source[i])) i += 1;
        kept = chars.length;
        continue;
      }
      const hex = HEX_ESCAPES[next];
      if (hex !== undefined) {
        const code = Number.parseInt(source.slice(i + 2, i + 2 + hex), 16);
        const decoded = String.fromCodePoint(Number.isNaN(code) || code > 0x10ffff ? 0xfffd : code);
        // Expression offsets count UTF-16 units: an astral character is two of them.
        for (let unit = 0; unit < decoded.length; unit += 1) push(decoded[unit] as string, i, true);
        i += 2 + hex;
        continue;
      }
      push(SIMPLE_ESCAPES[next] ?? next, i, true);
      i += 2;
      continue;
    }
    push(ch, i, !isBlank(ch));
    i += 1;
  }
  return { chars, offsets };
}

/** Block scalars: content lines without their indentation; `>` folds breaks between text lines. */
function buildBlock(source: string, base: number, folded: boolean): Built {
  const chars: string[] = [];
  const offsets: number[] = [];
  const headerEnd = source.indexOf('\n');
  if (headerEnd === -1) return { chars, offsets };
  const lines: { start: number; text: string }[] = [];
  for (let at = headerEnd + 1; at <= source.length; ) {
    const next = source.indexOf('\n', at);
    const stop = next === -1 ? source.length : next;
    lines.push({ start: at, text: source.slice(at, stop).replace(/\r$/, '') });
    if (next === -1) break;
    at = next + 1;
  }
  // Indentation is that of the first text line (an explicit indicator such as `|2` is rare in
  // playbooks; when it differs the rebuilt value will not match and the caller falls back).
  const first = lines.find((l) => l.text.trim() !== '');
  const indent = first ? first.text.length - first.text.trimStart().length : 0;
  let previous: 'none' | 'text' | 'indented' = 'none';
  let empties = 0;
  let pendingBreak = -1;
  for (const line of lines) {
    const content = line.text.length > indent ? line.text.slice(indent) : '';
    if (line.text.trim() === '') {
      empties += 1;
      continue;
    }
    const kind = isBlank(content[0]) ? 'indented' : 'text';
    if (previous !== 'none') {
      if (folded && previous === 'text' && kind === 'text') {
        if (empties === 0) {
          chars.push(' ');
          offsets.push(base + pendingBreak);
        }
      } else {
        chars.push('\n');
        offsets.push(base + pendingBreak);
      }
    } else if (empties > 0) {
      for (let n = 0; n < empties; n += 1) {
        chars.push('\n');
        offsets.push(base + line.start);
      }
      empties = 0;
    }
    for (let n = 0; n < empties; n += 1) {
      chars.push('\n');
      offsets.push(base + pendingBreak);
    }
    empties = 0;
    for (let c = 0; c < content.length; c += 1) {
      chars.push(content[c] as string);
      offsets.push(base + line.start + indent + c);
    }
    pendingBreak = line.start + line.text.length;
    previous = kind;
  }
  return { chars, offsets };
}

/**
 * Maps offsets in `value` to offsets in the file, or undefined when the rebuilt value does not
 * match the parsed one. `source` is the scalar's text in the file, starting at `base`.
 */
export function scalarOffsets(source: string, base: number, style: ScalarStyle, value: string): ((valueOffset: number) => number) | undefined {
  const built = style === 'BLOCK_LITERAL' || style === 'BLOCK_FOLDED' ? buildBlock(source, base, style === 'BLOCK_FOLDED') : buildFlow(source, base, style);
  const rebuilt = built.chars.join('');
  // Block chomping only changes trailing newlines, which no expression offset points into.
  const same = style.startsWith('BLOCK') ? rebuilt.replace(/\n+$/, '') === value.replace(/\n+$/, '') : rebuilt === value;
  if (!same) return undefined;
  const { offsets } = built;
  return (valueOffset: number) => {
    if (offsets.length === 0) return base;
    if (valueOffset < offsets.length) return offsets[Math.max(0, valueOffset)] as number;
    return (offsets[offsets.length - 1] as number) + 1;
  };
}
