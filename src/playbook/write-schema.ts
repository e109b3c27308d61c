import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { builtinActions } from '../actions/registry.js';
import { buildPlaybookJsonSchema } from './schema.js';

/** The checked-in schemas/playbook.schema.json, exactly as generated. */
export function playbookSchemaText(): string {
  return `${JSON.stringify(buildPlaybookJsonSchema(builtinActions()), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const target = fileURLToPath(new URL('../../schemas/playbook.schema.json', import.meta.url));
  writeFileSync(target, playbookSchemaText());
  process.stdout.write(`wrote ${target}\n`);
}
