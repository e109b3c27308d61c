// The collector's test for "this line holds one of the flagged ids": one expression for all of
// them, the same answer as looking for each in turn, whatever characters the ids hold.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anyNeedle } from '../../src/investigate/activity.js';

const unit = fc.constantFrom('a', 'b', '@', '.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '^', '$', '\\', '/', '-', ' ', 'é', '\u{1F600}');
const text = fc.string({ unit, maxLength: 12 });

describe('anyNeedle', () => {
  it('answers as needles.some((n) => line.includes(n)), regular-expression characters and empty needles included', () => {
    fc.assert(
      fc.property(fc.array(text, { maxLength: 8 }), fc.array(fc.string({ unit, maxLength: 40 }), { maxLength: 10 }), (needles, lines) => {
        const holds = anyNeedle(needles);
        for (const line of lines) expect(holds(line)).toBe(needles.some((n) => line.includes(n)));
      }),
      { numRuns: 500 },
    );
  });

  it('finds needles of metacharacters literally', () => {
    const holds = anyNeedle(['a.b', '[1.2.3.4]', 'x|y', '(z)']);
    expect(holds('axb [1x2x3x4] x y z')).toBe(false);
    expect(holds('from [1.2.3.4]:25')).toBe(true);
    expect(holds('x|y')).toBe(true);
    expect(anyNeedle([])('anything')).toBe(false);
  });
});
