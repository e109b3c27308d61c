import fc from 'fast-check';
import { isMap, isScalar, parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { scalarOffsets, type ScalarStyle } from '../../src/playbook/scalar-offsets.js';

/** The value of `key` in a one-key YAML document, with its style and where it sits in the text. */
function scalarOf(text: string): { value: string; style: ScalarStyle; start: number; end: number } {
  const doc = parseDocument(text);
  expect(doc.errors).toEqual([]);
  const node = isMap(doc.contents) ? doc.contents.items[0]?.value : undefined;
  if (!isScalar(node) || typeof node.value !== 'string' || !node.range) throw new Error('expected a string scalar');
  return { value: node.value, style: node.type as ScalarStyle, start: node.range[0], end: node.range[1] };
}

function mapFor(text: string) {
  const s = scalarOf(text);
  return { ...s, toSource: scalarOffsets(text.slice(s.start, s.end), s.start, s.style, s.value) };
}

const word = fc.stringMatching(/^[a-z][a-z.=&|()' ]{0,11}$/).filter((w) => w.trim() === w);

describe('scalar value offsets back to the file', () => {
  it('double-quoted strings with any escapes (as JSON writes them): every plain character maps onto itself', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (value) => {
        const text = `key: ${JSON.stringify(value)}\n`;
        const { toSource, value: parsed } = mapFor(text);
        expect(parsed).toBe(value);
        expect(toSource).toBeDefined();
        for (let i = 0; i < value.length; i += 1) {
          const at = toSource!(i);
          const ch = value[i] as string;
          if (/[\w ]/.test(ch)) expect(text[at]).toBe(ch);
          else expect(text[at] === ch || text[at] === '\\').toBe(true);
        }
      }),
    );
  });

  it("single-quoted strings with '' escapes: every character maps onto itself", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z' =.]{0,30}$/), (value) => {
        const text = `key: '${value.replace(/'/g, "''")}'\n`;
        const { toSource, value: parsed } = mapFor(text);
        expect(parsed).toBe(value);
        for (let i = 0; i < value.length; i += 1) expect(text[toSource!(i)]).toBe(value[i]);
      }),
    );
  });

  it('literal and folded blocks and multi-line plain scalars: every non-space character maps onto itself', () => {
    fc.assert(
      fc.property(word, fc.array(fc.oneof(word, fc.constant('')), { maxLength: 5 }), word, fc.constantFrom('|', '|-', '>', '>-', 'plain'), fc.constantFrom('\n', '\r\n'), (first, middle, last, style, eol) => {
        // Empty lines in between: folding turns them into newlines.
        const body = [first, ...middle, last].map((l) => (l === '' ? '' : `  ${l}`)).join(eol);
        const text = style === 'plain' ? `key:${eol}${body}${eol}` : `key: ${style}${eol}${body}${eol}`;
        const { toSource, value } = mapFor(text);
        expect(toSource, JSON.stringify(text)).toBeDefined();
        for (let i = 0; i < value.length; i += 1) {
          if (value[i] === ' ' || value[i] === '\n') continue;
          expect(text[toSource!(i)], `${JSON.stringify(text)} at ${i}`).toBe(value[i]);
        }
      }),
    );
  });

  it('a \\u escape counts as one character of the value, an astral \\U as two', () => {
    const text = 'key: "\\u00e9\\U0001F600x"\n';
    const { toSource } = mapFor(text);
    expect(text[toSource!(0)]).toBe('\\');
    expect(toSource!(1)).toBe(toSource!(2));
    expect(text[toSource!(3)]).toBe('x');
  });
});
