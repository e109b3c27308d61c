import { describe, expect, it } from 'vitest';
import { formatJson } from '../../../src/cli/render/json.js';

describe('the CLI JSON printer', () => {
  it('prints indented JSON with one newline, C1 and bidi characters escaped, still parseable', () => {
    const value = { subject: 'Invoice\u202egpj.exe', log: 'x\u009b31mred\u0085', n: 3 };
    const text = formatJson(value);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toContain('"subject": "Invoice\\u202egpj.exe"');
    expect(text).toContain('"log": "x\\u009b31mred\\u0085"');
    expect(JSON.parse(text)).toEqual(value);
  });
});
