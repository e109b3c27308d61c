import { readFileSync, readdirSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { builtinActions } from '../../src/actions/registry.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { playbookSchemaText } from '../../src/playbook/write-schema.js';

describe('playbook JSON Schema', () => {
  it('the checked-in schema is exactly what the code generates (run `npm run schema` after changing actions)', () => {
    expect(readFileSync('schemas/playbook.schema.json', 'utf8')).toBe(playbookSchemaText());
  });

  it('every shipped playbook validates against the editor schema and the loader', async () => {
    const validate = new Ajv({ strict: false, allErrors: true }).compile(JSON.parse(playbookSchemaText()) as object);
    const files = readdirSync('playbooks').filter((f) => f.endsWith('.yml'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const file of files) {
      const data = parse(readFileSync(`playbooks/${file}`, 'utf8')) as unknown;
      expect(validate(data), `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
      await expect(loadPlaybook(`playbooks/${file}`, builtinActions())).resolves.toBeDefined();
    }
  });
});
