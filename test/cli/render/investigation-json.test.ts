import { describe, expect, it } from 'vitest';
import { verdictFromFiles, verdictFromHost } from '../../../src/cli/render/investigation-json.js';
import { buildVerdict, type Verdict } from '../../../src/investigate/verdict.js';

const COMPLETENESS = ['incomplete', 'problems', 'sources_failed'];

/** A verdict with every documented field filled, and one field this module has never heard of. */
function verdictWithNewField(): Verdict & { added_later: string[] } {
  const v = buildVerdict({ queue: { count: 3, senders: [{ key: 'bob@example.com', count: 3 }] } });
  return { ...v, ip_reasons: { '203.0.113.7': 'logged in as bob@example.com' }, added_later: ['x'] };
}

describe('the verdict in investigate --json is the whole Verdict', () => {
  it('files: every Verdict field, ip_reasons included, and fields added to Verdict later', () => {
    const v = verdictWithNewField();
    const json = verdictFromFiles({ ...v, problems: ['spool /x: unreadable'], sources_failed: ['spool'], incomplete: true });
    expect(Object.keys(json).sort()).toEqual([...Object.keys(v), ...COMPLETENESS].sort());
    expect(json.ip_reasons).toEqual({ '203.0.113.7': 'logged in as bob@example.com' });
    expect(json).toMatchObject({ added_later: ['x'], sources_failed: ['spool'], incomplete: true });
  });

  it('hosts: the same fields from exim.detect outputs, without the step status the engine adds', () => {
    const v = verdictWithNewField();
    const json = verdictFromHost({ ...v, problems: [], sources_failed: ['queue', 'bogus'], incomplete: true, status: 'ok' });
    expect(Object.keys(json!).sort()).toEqual([...Object.keys(v), ...COMPLETENESS].sort());
    expect(json).toMatchObject({ ip_reasons: v.ip_reasons, added_later: ['x'], sources_failed: ['queue'], incomplete: true });
    expect(verdictFromHost({ status: 'failed' })).toBeNull();
  });
});
