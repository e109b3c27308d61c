import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileExpression, ExpressionError, renderTemplates } from '../../src/playbook/expressions.js';
import { Secret } from '../../src/core/secret.js';

const ctx = {
  inputs: { min: 100, name: 'x' },
  steps: { detect: { kind: 'script', count: 150, ips: ['203.0.113.7'], scripts: [{ path: '/home/u/a.php' }] } },
};

describe('expressions', () => {
  it('evaluates CEL with playbook data (integers compare with integers)', () => {
    expect(compileExpression("steps.detect.kind == 'script' && steps.detect.count > inputs.min").evaluate(ctx)).toBe(true);
    expect(compileExpression('size(steps.detect.ips)').evaluate(ctx)).toBe(1);
    expect(compileExpression('steps.detect.scripts.map(s, s.path)').evaluate(ctx)).toEqual(['/home/u/a.php']);
  });

  it('keeps types for whole-string templates and interpolates otherwise', () => {
    expect(renderTemplates('${{ steps.detect.ips }}', ctx)).toEqual(['203.0.113.7']);
    expect(renderTemplates('n=${{ steps.detect.count }}', ctx)).toBe('n=150');
    expect(renderTemplates({ a: ['${{ inputs.min }}'] }, ctx)).toEqual({ a: [100] });
  });

  it('passes secrets through bare references untouched and never stringifies them', () => {
    const secret = new Secret('very-secret-value');
    expect(renderTemplates('${{ inputs.s }}', { ...ctx, inputs: { s: secret } })).toBe(secret);
    expect(renderTemplates('pw=${{ inputs.s }}', { ...ctx, inputs: { s: secret } })).toBe('pw=[redacted]');
  });

  it('has no access to anything but its variables', () => {
    expect(() => compileExpression('process.exit(1)').evaluate(ctx)).toThrow();
    expect(() => compileExpression('constructor.constructor("return 1")()').evaluate(ctx)).toThrow();
  });

  it('never throws anything but ExpressionError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (source) => {
        try {
          compileExpression(source).evaluate(ctx);
        } catch (error) {
          expect(error).toBeInstanceOf(ExpressionError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
