import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinActions } from '../../src/actions/registry.js';
import { formatPlaybookError, PlaybookError } from '../../src/playbook/diagnostics.js';
import { MAX_PLAYBOOK_BYTES, MAX_REPORTED_PROBLEMS } from '../../src/playbook/limits.js';
import { loadPlaybook, parsePlaybook } from '../../src/playbook/load.js';

const registry = builtinActions();

/** A valid playbook of n steps, each using the one before it (so every reference is checked). */
function playbook(n: number): string {
  const lines = ['name: big', 'inputs:', '  since: { type: string, default: 24h }', 'steps:', '  - { id: s0, action: exim.detect, with: { since: "${{ inputs.since }}" } }'];
  lines.push(`  - { id: s1, action: exim.queue.count, when: "steps.s0.kind == 'mailbox'" }`);
  for (let i = 2; i < n; i += 1) lines.push(`  - { id: s${i}, action: exim.queue.count, when: "steps.s${i - 1}.count > 0" }`);
  return `${lines.join('\n')}\n`;
}

/** CPU time of a validation (less disturbed than wall time by other work on the machine); the best of a few runs. */
function cpuMs(text: string, runs: number): number {
  let best = Number.POSITIVE_INFINITY;
  for (let run = 0; run < runs; run += 1) {
    const before = process.cpuUsage();
    try {
      parsePlaybook('big.yml', text, registry);
    } catch (error) {
      throw new Error(`expected a valid playbook: ${(error as Error).message.slice(0, 300)}`);
    }
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}

function rejected(text: string): PlaybookError {
  try {
    parsePlaybook('pb.yml', text, registry);
  } catch (error) {
    if (error instanceof PlaybookError) return error;
    throw error;
  }
  throw new Error('expected the playbook to be rejected');
}

describe('validation scales with the playbook', () => {
  it('is linear in the number of steps: 10,000 steps cost about ten times 1,000', () => {
    const small = playbook(1_000);
    const large = playbook(10_000);
    cpuMs(small, 1); // warm up the compilers and caches
    const smallMs = cpuMs(small, 3);
    const largeMs = cpuMs(large, 2);
    // Linear measures 4-15x here (fixed costs weigh on the small one); the old quadratic check
    // took 8.8 s for 10,000 steps, some 50x. 25x leaves room for GC and a busy machine.
    expect(largeMs / smallMs, `1k steps ${smallMs.toFixed(0)} ms, 10k steps ${largeMs.toFixed(0)} ms`).toBeLessThan(25);
  }, 60_000);

  it('is linear in the width of a map too, also when every entry is wrong', () => {
    const inputs = (n: number) => `name: t\ninputs:\n${Array.from({ length: n }, (_, i) => `  i${i}: { type: integer, default: x }\n`).join('')}steps:\n  - { id: a, action: exim.detect }\n`;
    const cost = (text: string, runs: number) => {
      let best = Number.POSITIVE_INFINITY;
      for (let run = 0; run < runs; run += 1) {
        const before = process.cpuUsage();
        expect(rejected(text).omitted).toBeGreaterThan(0);
        const used = process.cpuUsage(before);
        best = Math.min(best, (used.user + used.system) / 1000);
      }
      return best;
    };
    const small = inputs(1_000);
    const large = inputs(10_000);
    cost(small, 1);
    const smallMs = cost(small, 3);
    const largeMs = cost(large, 1);
    expect(largeMs / smallMs, `1k inputs ${smallMs.toFixed(0)} ms, 10k inputs ${largeMs.toFixed(0)} ms`).toBeLessThan(25);
  }, 60_000);

  it('validates 10,000 steps within a bound generous for a busy machine', () => {
    expect(cpuMs(playbook(10_000), 1)).toBeLessThan(8_000);
  }, 60_000);

  it('refuses a file past the size limit, naming the limit, before reading it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runbook-big-'));
    const file = join(dir, 'huge.yml');
    writeFileSync(file, `name: huge\n#${'x'.repeat(MAX_PLAYBOOK_BYTES)}\n`);
    const error = await loadPlaybook(file, registry).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PlaybookError);
    const [d] = (error as PlaybookError).diagnostics;
    expect(d).toMatchObject({ file, line: 1, col: 1 });
    expect(d?.message).toContain('a playbook may be at most 2 MB');
    expect(rejected(`#${'x'.repeat(MAX_PLAYBOOK_BYTES)}`).diagnostics[0]?.message).toMatch(/^the file is 2 MB; a playbook may be at most 2 MB/);
  });

  it('lists the first problems of an error-full file and counts the rest', () => {
    const steps = Array.from({ length: 2_000 }, (_, i) => `  - { id: s${i}, action: no.such.action, colour: red }`).join('\n');
    const error = rejected(`name: t\nsteps:\n${steps}\n`);
    expect(error.diagnostics).toHaveLength(MAX_REPORTED_PROBLEMS);
    expect(error.omitted).toBe(4_000 - MAX_REPORTED_PROBLEMS);
    expect(error.diagnostics[0]).toMatchObject({ line: 3, col: 23, message: expect.stringContaining("unknown action 'no.such.action'") });
    expect(error.diagnostics.every((d, i) => i === 0 || d.line >= (error.diagnostics[i - 1]?.line ?? 0))).toBe(true);
    expect(formatPlaybookError(error).at(-1)).toBe(`... and ${4_000 - MAX_REPORTED_PROBLEMS} more problems not shown (fix these and validate again)`);
  });
});

describe('a problem on a very long line', () => {
  it('shows the part of the line around the problem, with the caret under it', () => {
    const error = rejected(`# minified\n{ name: t, description: "${'x'.repeat(5_000)}", colour: red, steps: [{ id: a, action: exim.detect }] }\n`);
    const d = error.diagnostics.find((x) => x.message.includes("'colour'"))!;
    expect(d.line).toBe(2);
    expect(d.lineText.length).toBeLessThanOrEqual(240);
    expect(d.lineTextStart).toBeGreaterThan(0);
    const [, shown, caret] = formatPlaybookError(new PlaybookError([d])).join('\n').split('\n');
    expect(shown?.length).toBeLessThan(260);
    const at = caret!.indexOf('^');
    expect(shown!.slice(at, at + 6)).toBe('colour');
  });
});
