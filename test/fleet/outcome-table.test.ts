import { describe, expect, it } from 'vitest';
import { renderOutcomeTable } from '../../src/fleet/outcome-table.js';
import { TERMINAL_CONTROL } from '../../src/core/terminal-safe.js';

describe('the fleet outcome table', () => {
  it('never hands a terminal the controls of a hostile error: escapes, C1 and bidi overrides are made visible, breaks become spaces', () => {
    const error = 'refused for \u001b]52;c;cHduZWQ=\u0007 sub\u202eject\u2066x\u2069 \u009b31m\nsecond line\tcolumn';
    const text = renderOutcomeTable([{ host: 'web1', status: 'failed', counts: {}, error }], { color: false });
    expect(text.match(TERMINAL_CONTROL)).toBeNull();
    expect(text).toContain('second line column');
    expect(text).toContain('web1');
  });
});
