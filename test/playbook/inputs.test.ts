import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError, parseVarFlags, readVarsFile, resolveInputs } from '../../src/playbook/inputs.js';
import type { PlaybookSpec } from '../../src/playbook/schema.js';
import { isSecret } from '../../src/core/secret.js';

const spec: PlaybookSpec = {
  name: 't',
  inputs: {
    sender: { type: 'string', format: 'email', required: true },
    ip: { type: 'string', format: 'ip', required: true },
    since: { type: 'string', format: 'duration', default: '24h' },
    min: { type: 'integer', default: 100 },
    dry: { type: 'boolean', default: false },
    token: { type: 'string', secret: true },
  },
  steps: [{ id: 'a', action: 'confirm', with: { message: 'x' } }],
};

describe('inputs', () => {
  it('takes --var over the vars file over defaults, coercing types', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runbook-inputs-'));
    writeFileSync(join(dir, 'v.yml'), 'sender: a@b.example\nip: 203.0.113.9\nmin: 5\n');
    const values = resolveInputs(spec, parseVarFlags(['min=7', 'dry=true', 'token=abcdefgh']), await readVarsFile(join(dir, 'v.yml')));
    expect(values).toMatchObject({ sender: 'a@b.example', ip: '203.0.113.9', since: '24h', min: 7, dry: true });
    expect(isSecret(values.token)).toBe(true);
  });

  it('reports every missing required input together, and bad values', () => {
    try {
      resolveInputs(spec, parseVarFlags(['min=lots', 'since=soon', 'extra=1']));
      throw new Error('expected failure');
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      const problems = (error as InputError).problems.join('\n');
      expect(problems).toMatch(/missing required inputs: sender, ip/);
      expect(problems).toMatch(/input 'min' must be an integer/);
      expect(problems).toMatch(/is not a duration/);
      expect(problems).toMatch(/unknown input 'extra'/);
    }
  });

  it('rejects malformed --var flags', () => {
    expect(() => parseVarFlags(['novalue'])).toThrow(/expected NAME=VALUE/);
  });
});
