import { describe, expect, it } from 'vitest';
import { describeType } from '../../src/cli/commands/actions.js';
import { runCli } from './run-cli.js';

describe('runbook actions', () => {
  it('spells out enum values and array item types', () => {
    expect(describeType({ anyOf: [{ const: 'restart', type: 'string' }, { const: 'hard', type: 'string' }] })).toBe("'restart' | 'hard'");
    expect(describeType({ type: 'array', items: { anyOf: [{ const: 'exim' }, { const: 'imap' }] } })).toBe("('exim' | 'imap')[]");
    expect(describeType({ type: 'array', items: { type: 'string' } })).toBe('string[]');
    expect(describeType({ enum: [1, 2] })).toBe('1 | 2');
  });

  it("lists every action's outputs, allowed values and defaults as a playbook writes them", async () => {
    const r = await runCli(['actions']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("services: ('exim' | 'imap' | 'dovecot' | 'pop3' | 'lmtp')[]");
    expect(r.stdout).toContain("mode?: 'restart' | 'hard' = 'restart'");
    expect(r.stdout).toContain('min_messages?: integer = 100');
    expect(r.stdout).not.toMatch(/any\[\]|: union/);
    // Whether runbook undo can take a step back, as each action declares it.
    expect(r.stdout).toContain('csf.temp_deny  [mutates, reversible]');
    expect(r.stdout).toContain('exim.queue.purge  [mutates, irreversible]');
    // Outputs of every action, without naming one.
    const detect = r.stdout.slice(r.stdout.indexOf('exim.detect  '));
    expect(detect).toMatch(/outputs:\n(?:.*\n)*? {4}steps\.<id>\.ip_reasons/);
  });
});
