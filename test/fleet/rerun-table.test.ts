import { describe, expect, it } from 'vitest';
import { outcomeTable, outcomeTableJson, renderOutcomeTable, colorWanted, type HostOutcomeLike } from '../../src/fleet/outcome-table.js';
import { hostsToRerunFromText } from '../../src/fleet/rerun.js';

describe('hostsToRerun', () => {
  const line = (o: object) => JSON.stringify(o);
  it('picks failed and unreachable hosts and those that never finished', () => {
    const text = [
      line({ type: 'run.header', hosts: ['a', 'b', 'c', 'd', 'e'] }),
      line({ type: 'host.finish', host: 'a', status: 'ok' }),
      line({ type: 'host.finish', host: 'b', status: 'failed' }),
      line({ type: 'host.finish', host: 'c', status: 'unreachable' }),
      line({ type: 'host.finish', host: 'e', status: 'changed' }),
      '{"type":"step.st', // torn last line after a crash
    ].join('\n');
    expect(hostsToRerunFromText(text)).toEqual(['b', 'c', 'd']);
  });
  it('refuses a record with a duplicate key, which would read as its last value', () => {
    const text = [line({ type: 'run.header', hosts: ['a'] }), '{"type":"host.finish","host":"a","status":"failed","status":"ok"}', ''].join('\n');
    expect(() => hostsToRerunFromText(text, 'x.jsonl')).toThrow(/x\.jsonl:2: duplicate key "status"/);
  });
  it('refuses a file that is not an audit log', () => {
    expect(() => hostsToRerunFromText('{"type":"note"}\n', 'x.jsonl')).toThrow(/x\.jsonl: no run\.header/);
  });
});

describe('outcome table', () => {
  const outcomes: HostOutcomeLike[] = [
    { host: 'web1', status: 'changed' as const, counts: { messages_purged: 120, ips_blocked: 2 } },
    { host: 'web2', status: 'unreachable' as const, error: 'web2: cannot connect\u001b[31m', counts: {} },
    { host: 'web3', status: 'skipped' as const, error: 'not started: 1 of 2 failed', counts: {} },
  ];
  it('sums purged messages and blocked IPs', () => {
    const t = outcomeTable(outcomes);
    expect(t.totals).toMatchObject({ changed: 1, unreachable: 1, skipped: 1, counts: { messages_purged: 120, ips_blocked: 2 } });
    expect(JSON.parse(outcomeTableJson(outcomes)).rows[0]).toEqual({ host: 'web1', status: 'changed', counts: { messages_purged: 120, ips_blocked: 2 }, detail: '' });
  });
  it('shows every counter an action declares that is non-zero somewhere, and no others', () => {
    const mixed: HostOutcomeLike[] = [
      { host: 'web1', status: 'changed', counts: { passwords_reset: 1, files_disabled: 2, failed_steps: 1 } },
      { host: 'web2', status: 'changed', counts: { passwords_reset: 1, ips_blocked: 0 } },
    ];
    expect(outcomeTable(mixed).counters.map((c) => c.key)).toEqual(['passwords_reset', 'files_disabled']);
    const text = renderOutcomeTable(mixed, { color: false }).split('\n');
    expect(text[0]).toMatch(/^HOST\s+STATUS\s+PASSWORDS RESET\s+SCRIPTS DISABLED\s+DETAIL$/);
    expect(text[1]).toMatch(/^web1\s+changed\s+1\s+2$/);
    expect(text[2]).toMatch(/^web2\s+changed\s+1\s+0$/);
    expect(text.at(-1)).toBe('2 changed; 2 passwords reset, 2 scripts disabled');
  });
  it('renders plain text without color and strips control characters', () => {
    const text = renderOutcomeTable(outcomes, { color: false });
    expect(text).not.toContain('\u001b');
    expect(text.split('\n')[1]).toMatch(/^web1\s+changed\s+120\s+2$/);
    expect(text.split('\n')[0]).toMatch(/^HOST\s+STATUS\s+MESSAGES PURGED\s+IPS BLOCKED\s+DETAIL$/);
    expect(text).toContain('1 changed, 1 unreachable, 1 skipped; 120 messages purged, 2 IPs blocked');
    expect(renderOutcomeTable(outcomes, { color: true })).toContain('\u001b[31munreachable');
  });
  it('respects NO_COLOR', () => {
    expect(colorWanted({ NO_COLOR: '1' }, true)).toBe(false);
    expect(colorWanted({}, true)).toBe(true);
    expect(colorWanted({}, false)).toBe(false);
  });
});
