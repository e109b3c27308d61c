import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { safeForTerminal, safeMultilineForTerminal, terminalSafeJson } from '../../src/core/terminal-safe.js';

// Every character a terminal may act on, as the tests see it (written out, not imported).
// eslint-disable-next-line no-control-regex
const ACTS_ON_TERMINAL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

describe('terminal-safe text', () => {
  it('shows escapes, DEL, C1 and bidi controls as text', () => {
    const hostile = 'a\u001b]52;c;cm0=\u0007b\u009b2Jc\u009d8;;http://x\u009cd\u007fe\u202ef\u2066g\u200eh\u200fi\u061cj';
    const shown = safeForTerminal(hostile);
    expect(shown).not.toMatch(ACTS_ON_TERMINAL);
    expect(shown).toBe('a\\e]52;c;cm0=\\u0007b\\u009b2Jc\\u009d8;;http://x\\u009cd\\u007fe\\u202ef\\u2066g\\u200eh\\u200fi\\u061cj');
  });

  it('one line escapes newlines and tabs; multi-line text keeps them', () => {
    expect(safeForTerminal('a\nb\tc\rd')).toBe('a\\nb\\tc\\rd');
    expect(safeMultilineForTerminal('a\nb\tc\rd\u001b[2J')).toBe('a\nb\tc\\rd\\e[2J');
  });

  it('never lets a control through, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(safeForTerminal(text)).not.toMatch(ACTS_ON_TERMINAL);
        expect(safeMultilineForTerminal(text)).not.toMatch(ACTS_ON_TERMINAL);
      }),
    );
  });

  it('JSON keeps its value while C1, DEL and bidi characters are written as \\uXXXX', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: 'binary' }), (value, text) => {
        const doc = { value, text };
        const json = terminalSafeJson(JSON.stringify(doc, null, 2));
        expect(json).not.toMatch(ACTS_ON_TERMINAL);
        expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(doc)));
      }),
    );
    expect(terminalSafeJson(JSON.stringify({ subject: 'x\u009b2J\u202e' }))).toBe('{"subject":"x\\u009b2J\\u202e"}');
  });
});
