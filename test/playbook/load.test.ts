import { describe, expect, it } from 'vitest';
import { builtinActions } from '../../src/actions/registry.js';
import { formatDiagnostic, PlaybookError, type Diagnostic } from '../../src/playbook/diagnostics.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { testRegistry } from '../engine/test-actions.js';

const registry = testRegistry();

function problems(yaml: string): Diagnostic[] {
  try {
    parsePlaybook('pb.yml', yaml, registry);
  } catch (error) {
    if (error instanceof PlaybookError) return error.diagnostics;
    throw error;
  }
  throw new Error('expected the playbook to be rejected');
}

const base = `name: t
inputs:
  who: { type: string }
steps:
  - id: read
    action: test.read
    with: { path: /etc/hostname }
`;

describe('playbook loading', () => {
  it('accepts a valid playbook', () => {
    const loaded = parsePlaybook('pb.yml', base, registry);
    expect(loaded.spec.steps).toHaveLength(1);
    expect(loaded.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reports bad YAML at its line and column', () => {
    const [d] = problems('name: t\nsteps:\n  - id: a\n    action: [unclosed\n');
    expect(d?.message).toMatch(/invalid YAML/);
    expect(d?.line).toBeGreaterThanOrEqual(4);
  });

  it('reports an unknown action with a suggestion, pointing at the value', () => {
    const [d] = problems(base.replace('action: test.read', 'action: test.raed'));
    expect(d).toMatchObject({ line: 6, col: 13 });
    expect(d?.message).toMatch(/unknown action 'test.raed' \(did you mean 'test.read'\?\)/);
    const text = formatDiagnostic(d!);
    expect(text).toContain('pb.yml:6:13: error:');
    expect(text).toContain('6 |     action: test.raed');
    expect(text.split('\n')[2]).toMatch(/\|\s{13}\^{9}$/);
  });

  it('reports unknown and ill-typed parameters', () => {
    const ds = problems(base.replace('with: { path: /etc/hostname }', 'with: { path: 3, colour: red }'));
    const messages = ds.map((d) => d.message).join('\n');
    expect(messages).toMatch(/unknown parameter 'colour' for test.read/);
    expect(messages).toMatch(/parameter 'path' of test.read must be string/);
    expect(ds.find((d) => d.message.includes('colour'))).toMatchObject({ line: 7, col: 22 });
  });

  it('reports a missing required parameter', () => {
    const [d] = problems(base.replace('with: { path: /etc/hostname }', 'with: {}'));
    expect(d?.message).toMatch(/missing required field 'path'/);
  });

  it('reports duplicate step ids', () => {
    const ds = problems(`${base}  - id: read\n    action: test.read\n    with: { path: /x }\n`);
    expect(ds[0]).toMatchObject({ line: 8 });
    expect(ds[0]?.message).toMatch(/duplicate step id 'read'/);
  });

  it('reports bad expressions and unknown references at the exact column', () => {
    const ds = problems(`${base}  - id: w
    action: test.write
    when: steps.read.content ==== 'x'
    with: { path: "/tmp/\${{ inputs.nobody }}", content: "\${{ steps.later.x }}" }
  - id: later
    action: test.read
    with: { path: "\${{ item }}" }
`);
    const byMessage = (re: RegExp) => ds.find((d) => re.test(d.message));
    expect(byMessage(/bad expression/)).toMatchObject({ line: 10 });
    expect(byMessage(/unknown input 'nobody'/)).toMatchObject({ line: 11, col: 29 });
    expect(byMessage(/step 'later' runs later/)).toBeDefined();
    expect(byMessage(/'item' is only defined in a step with 'foreach'/)).toMatchObject({ line: 14 });
  });

  it('reports an unknown output of an earlier step when the action declares its outputs', () => {
    const [d] = problems(`${base}  - id: w
    action: test.write
    with: { path: /tmp/x, content: "\${{ steps.read.contnet }}" }
`);
    expect(d?.message).toMatch(/step 'read' has no output 'contnet' \(outputs: content, lines\)/);
  });

  it('reports unknown top-level and step fields, and bad ids', () => {
    const ds = problems(`name: t\ncolour: red\nsteps:\n  - id: Bad-Id\n    action: test.read\n    retries: 3\n    with: { path: /x }\n`);
    const messages = ds.map((d) => d.message).join('\n');
    expect(messages).toMatch(/unknown field 'colour'/);
    expect(messages).toMatch(/unknown field 'retries'/);
    expect(messages).toMatch(/must match pattern/);
  });

  it('reports every class of problem in one run: schema, expressions, references, input defaults', () => {
    const ds = problems(`name: t
inputs:
  n: { type: integer, default: many }
steps:
  - id: read
    action: test.read
    retries: 3
    when: inputs.n ==== 1
    with: { path: "\${{ inputs.nobody }}" }
  - id: w
    action: test.write
    when: steps.nowhere.x
    with: { path: /tmp/x, content: "\${{ steps.read.content }}" }
`);
    expect(ds.map((d) => `${d.line}:${d.col} ${d.message}`)).toEqual([
      "3:32 default of input 'n' must be an integer, got \"many\"",
      "7:5 unknown field 'retries' in step 'read'",
      '8:22 bad expression: Unexpected token: EQ',
      "9:24 unknown input 'nobody' (inputs: n)",
      "12:11 unknown step 'nowhere'",
    ]);
  });

  it('reports an unclosed quote where it opens, and not what the parser says after it', () => {
    const ds = problems(`${base}  - id: w\n    action: test.write\n    with: { path: "/tmp/x, content: y }\n\n`);
    expect(ds.map((d) => `${d.line}:${d.col} ${d.message}`)).toEqual([`10:19 invalid YAML: unclosed '"': this quote is never closed (add the matching '"')`]);
  });

  it('the shipped actions are all known to the real registry', () => {
    expect(builtinActions().has('confirm')).toBe(true);
  });
});
