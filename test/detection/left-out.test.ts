/**
 * exim.detect over a main log it could not read: a log with no timestamp to count the window
 * back from is a problem saying how much was not read, and the verdict is incomplete, never a
 * clean "nothing found".
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateIncident } from '../../fixtures/sim/incident.mjs';
import { eximDetectionActions } from '../../src/actions/exim/detection.js';
import type { ReadOnlyAction } from '../../src/actions/types.js';
import type { Verdict } from '../../src/investigate/verdict.js';
import { makeContext } from '../actions/support/context.js';

type DetectOutputs = Verdict & { problems: string[]; sources_failed: string[]; incomplete: boolean };

const detect = eximDetectionActions.find((a) => a.name === 'exim.detect') as ReadOnlyAction;

const roots: string[] = [];
afterEach(async () => {
  for (const r of roots.splice(0)) await rm(r, { recursive: true, force: true });
});

describe('exim.detect with a main log it could not read', () => {
  it('says how much was left out and why, and the verdict is incomplete', async () => {
    const root = await mkdtemp(join(tmpdir(), 'runbook-detect-left-'));
    roots.push(root);
    const m = await generateIncident({ root, mode: 'synthetic', sizes: { spam: 20, script: 5, legit: 5, bounces: 1, frozen: 1 }, seed: 5 });
    const ctx = makeContext({ tools: m.tools, layout: m.layout, env: { RUNBOOK_SIM_ROOT: root } });
    // A copy nothing else writes to (the simulated Exim logs its own runs to the live one).
    const copy = join(root, 'exim_mainlog.copy');
    const text = 'a continuation line without a timestamp <= x\n'.repeat(500);
    await writeFile(copy, text);

    const v = (await detect.run(ctx, { since: '24h', mainlog: copy } as never)).outputs as unknown as DetectOutputs;
    const problem = v.problems.find((p) => p.includes(`${text.length} bytes not read`));
    expect(problem).toMatch(/no line with a timestamp/);
    expect(v.incomplete).toBe(true);
    expect(v.summary).toContain('INCOMPLETE');
  });
});
