import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hostileWord, splitNul } from './hostile.js';
import { quoteArgvForPosixShell, quoteWordForPosixShell, UnquotableArgumentError } from '../../src/transport/quote.js';

describe('quoteArgvForPosixShell', () => {
  it('single-quotes each word and escapes embedded quotes', () => {
    expect(quoteArgvForPosixShell(['echo', "it's", ''])).toBe("'echo' 'it'\\''s' ''");
    expect(quoteWordForPosixShell('$(id)')).toBe("'$(id)'");
  });

  it('refuses NUL bytes with a message that says what to do', () => {
    expect(() => quoteArgvForPosixShell(['echo', 'a\0b'])).toThrow(UnquotableArgumentError);
    expect(() => quoteArgvForPosixShell(['echo', 'a\0b'])).toThrow(/argv\[1\].*stdin/);
  });

  it('refuses an empty argv', () => {
    expect(() => quoteArgvForPosixShell([])).toThrow(/empty argv/);
  });

  it('a real sh -c receives exactly the argv given', () => {
    fc.assert(
      fc.property(fc.array(hostileWord, { minLength: 1, maxLength: 8 }), (words) => {
        const command = quoteArgvForPosixShell(['printf', '%s\\0', ...words]);
        const r = spawnSync('sh', ['-c', command]);
        expect(r.status).toBe(0);
        expect(splitNul(r.stdout)).toEqual(words);
      }),
      { numRuns: 300 },
    );
  });
});
