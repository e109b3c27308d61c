import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinActions } from '../../src/actions/registry.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { createResponder } from '../../src/watch/respond.js';
import { applyArgv, playbookInputs, TriggerInputError } from '../../src/watch/response-inputs.js';
import type { Trigger } from '../../src/watch/types.js';

const trigger = (inputs: Record<string, string>): Trigger => ({
  id: 'compromised-mailbox:sender:a@b.example:1',
  rule: 'compromised-mailbox',
  key: { kind: 'sender', value: 'a@b.example' },
  observed: { metric: 'unique_recipients', value: 600, threshold: 500, windowSeconds: 3600 },
  firstSeen: '2026-12-07T10:00:00Z',
  trippedAt: '2026-12-07T10:20:00Z',
  evidence: [],
  inputs,
});

describe('response inputs', () => {
  it('gives each playbook the trigger inputs it declares, and hold_for when it takes one', async () => {
    const registry = builtinActions();
    const contain = await loadPlaybook('playbooks/watch-contain.yml', registry);
    const finish = await loadPlaybook('playbooks/watch-finish.yml', registry);
    const t = trigger({ sender: 'a@b.example', auth_id: 'a@b.example', client_port: '587' });
    expect(playbookInputs(contain.spec, t, '4h')).toEqual([['sender', 'a@b.example'], ['auth_id', 'a@b.example'], ['hold_for', '4h']]);
    expect(playbookInputs(finish.spec, t, '4h')).toEqual([['sender', 'a@b.example'], ['auth_id', 'a@b.example']]);
  });

  it('refuses a value with control characters: it would break the command a human pastes', async () => {
    const contain = await loadPlaybook('playbooks/watch-contain.yml', builtinActions());
    expect(() => playbookInputs(contain.spec, trigger({ sender: 'a@b.example\nrm -rf /' }), '4h')).toThrow(TriggerInputError);
  });

  it('builds the apply arguments with absolute paths', () => {
    expect(applyArgv('playbooks/watch-finish.yml', { host: 'mail1', inventory: 'inv.yml', auditDir: 'audit' }, [['sender', 'a b']])).toEqual([
      'apply', resolve('playbooks/watch-finish.yml'), '-i', resolve('inv.yml'), '--host', 'mail1', '-e', 'sender=a b', '--audit-dir', resolve('audit'),
    ]);
  });

  it('the responder refuses such a trigger before running or writing anything', async () => {
    const auditDir = join(mkdtempSync(join(tmpdir(), 'runbook-respond-')), 'audit');
    const responder = createResponder(
      { containPlaybook: 'playbooks/watch-contain.yml', finishPlaybook: 'playbooks/watch-finish.yml', holdFor: '4h', auditDir, notify: [], host: 'local' },
      { targets: async () => { throw new Error('no host may be reached'); } },
    );
    const outcome = await responder.respond(trigger({ sender: 'a@b.example\u001b[2J' }), new AbortController().signal);
    expect(outcome).toMatchObject({ status: 'refused', notified: [] });
    expect(outcome.errors[0]).toContain('control characters');
    expect(outcome.auditLog).toBeUndefined();
  });
});
