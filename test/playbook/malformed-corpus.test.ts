import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { builtinActions } from '../../src/actions/registry.js';
import { renderValidation, validateFiles } from '../../src/cli/commands/validate.js';
import { runCli } from '../cli/run-cli.js';

/**
 * A corpus of broken playbooks, one small file per kind of mistake, with where each must be
 * reported in expected.json (line:col of the first problem, and words of its message). Every
 * case runs through the validate command in-process; two run through the built CLI to prove
 * the wiring and the exit code.
 */
const DIR = fileURLToPath(new URL('./malformed/', import.meta.url));
const cases = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as { file: string; at: string; message: string }[];
const registry = builtinActions();

// Anything a terminal would act on: C0 but newline, DEL, C1, bidi controls.
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const STACK_TRACE = /\n\s+at .+:\d+:\d+\)?\n|(?:TypeError|RangeError|ReferenceError):/;

describe('malformed playbooks corpus', () => {
  it('holds at least 80 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(80);
  });

  it.each(cases)('$file: exit 2 at $at', async ({ file, at, message }) => {
    const path = join(DIR, file);
    const results = await validateFiles([path], registry);
    const text = renderValidation(results, false);
    expect(text.code, text.stderr).toBe(2);
    expect(text.stderr.startsWith(`${path}:${at}: error: `), text.stderr).toBe(true);
    const first = results[0]?.diagnostics?.[0];
    expect(`${first?.line}:${first?.col}`, text.stderr).toBe(at);
    expect(first?.message, text.stderr).toContain(message);
    expect(text.stdout + text.stderr).not.toMatch(RAW_CONTROL);
    expect(text.stdout + text.stderr).not.toMatch(STACK_TRACE);

    const json = renderValidation(results, true);
    expect(json.code).toBe(2);
    expect(json.stdout).not.toMatch(RAW_CONTROL);
    const parsed = JSON.parse(json.stdout) as { ok: boolean; results: { diagnostics: { line: number; col: number; message: string }[] }[] };
    expect(parsed.ok).toBe(false);
    expect(parsed.results[0]?.diagnostics[0]).toMatchObject({ line: first?.line, col: first?.col, message: first?.message });
  });

  it('apply refuses a playbook whose input default is not of its type, at file:line:col, before touching a host', async () => {
    const file = join(DIR, 'default-integer-many.yml');
    const r = await runCli(['apply', file, '--host', 'demo', '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:${cases.find((c) => c.file === 'default-integer-many.yml')?.at}: error: default of input 'x' must be an integer, got "many"`);
  });

  it('the built CLI exits 2 with file:line:col and no raw control characters, as text and as JSON', async () => {
    const hostile = cases.filter((c) => ['osc52-field-name.yml', 'c1-csi-field-name.yml', 'bidi-step-id.yml', 'unclosed-double-quote.yml'].includes(c.file));
    const files = hostile.map((c) => join(DIR, c.file));
    const text = await runCli(['validate', ...files]);
    expect(text.code).toBe(2);
    for (const [i, c] of hostile.entries()) expect(text.stderr).toContain(`${files[i]}:${c.at}: error:`);
    expect(text.stdout + text.stderr).not.toMatch(RAW_CONTROL);
    expect(text.stderr).not.toMatch(STACK_TRACE);

    const json = await runCli(['validate', '--json', ...files]);
    expect(json.code).toBe(2);
    expect(json.stdout).not.toMatch(RAW_CONTROL);
    expect(json.stdout).toContain('\\u009b2Jx');
    const parsed = JSON.parse(json.stdout) as { results: { file: string; diagnostics: { message: string }[] }[] };
    const csi = parsed.results.find((r) => r.file.endsWith('c1-csi-field-name.yml'));
    expect(csi?.diagnostics[0]?.message).toBe("unknown field '\u009b2Jx' in the playbook");
  });
});
