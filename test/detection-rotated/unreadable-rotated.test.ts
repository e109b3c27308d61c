/**
 * exim.detect when the `since` window reaches back into rotated main logs: a rotated file that
 * cannot be read is a verdict problem naming the file, and the verdict is incomplete; when every
 * rotated file the window needs is readable, it is not.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { generateIncident, type IncidentManifest } from '../../fixtures/sim/incident.mjs';
import { eximDetectionActions } from '../../src/actions/exim/detection.js';
import type { ReadOnlyAction } from '../../src/actions/types.js';
import type { Verdict } from '../../src/investigate/verdict.js';
import { makeContext, type TestContext } from '../actions/support/context.js';

type DetectOutputs = Verdict & { problems: string[]; sources_failed: string[]; incomplete: boolean };

const detect = eximDetectionActions.find((a) => a.name === 'exim.detect') as ReadOnlyAction;

const roots: string[] = [];
afterEach(async () => {
  for (const r of roots.splice(0)) await rm(r, { recursive: true, force: true });
});

/** A staged incident whose main log spans about an hour, so a 24h window needs rotated files. */
async function stage(): Promise<{ m: IncidentManifest; ctx: TestContext }> {
  const root = await mkdtemp(join(tmpdir(), 'runbook-detect-rot-'));
  roots.push(root);
  const m = await generateIncident({ root, mode: 'synthetic', sizes: { spam: 120, script: 10, legit: 20, bounces: 2, frozen: 1 }, seed: 11 });
  const ctx = makeContext({ tools: m.tools, layout: m.layout, env: { RUNBOOK_SIM_ROOT: root } });
  return { m, ctx };
}

const pad = (n: number): string => String(n).padStart(2, '0');
function stamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/**
 * Main-log text for the day before: the current log's arrival lines moved `hoursBack` earlier
 * (still inside a 24h window), so reading the rotated file adds exactly that many arrivals.
 */
async function earlierArrivals(mainlog: string, hoursBack: number, count: number): Promise<{ text: string; arrivals: number }> {
  const lines = (await readFile(mainlog, 'utf8')).split('\n').filter((l) => / <= /.test(l)).slice(0, count);
  const moved = lines.map((l) => `${stamp(Date.parse(`${l.slice(0, 19).replace(' ', 'T')}Z`) - hoursBack * 3_600_000)}${l.slice(19)}`);
  return { text: moved.map((l) => `${l}\n`).join(''), arrivals: moved.length };
}

async function runDetect(ctx: TestContext): Promise<DetectOutputs> {
  const r = await detect.run(ctx, { since: '24h', min_messages: 100 } as never);
  return r.outputs as unknown as DetectOutputs;
}

describe('exim.detect with rotated main logs', () => {
  it('all rotated files readable: their arrivals count and the verdict is complete', async () => {
    const { m, ctx } = await stage();
    const before = await runDetect(ctx);
    expect(before.incomplete).toBe(false);

    const rotated = join(dirname(m.mainlog), 'exim_mainlog-20261121.gz');
    const { text, arrivals } = await earlierArrivals(m.mainlog, 6, 15);
    expect(arrivals).toBe(15);
    await writeFile(rotated, gzipSync(text));

    const v = await runDetect(ctx);
    expect(v.kind).toBe('mailbox');
    expect(v.sender).toBe(m.mailbox);
    expect(v.counts.window_arrivals).toBe(before.counts.window_arrivals + arrivals);
    expect(v.problems).toEqual([]);
    expect(v.sources_failed).toEqual([]);
    expect(v.incomplete).toBe(false);
    expect(v.summary).not.toContain('INCOMPLETE');
  });

  it('a truncated rotated .gz is a problem naming the file and the error, and the verdict is incomplete', async () => {
    const { m, ctx } = await stage();
    const rotated = join(dirname(m.mainlog), 'exim_mainlog-20261121.gz');
    const { text } = await earlierArrivals(m.mainlog, 6, 40);
    const gz = gzipSync(text);
    await writeFile(rotated, gz.subarray(0, Math.floor(gz.length / 2)));

    const v = await runDetect(ctx);
    // The current log was read, so the verdict still names the sender...
    expect(v.kind).toBe('mailbox');
    expect(v.sender).toBe(m.mailbox);
    expect(v.sources_failed).toEqual([]);
    // ...but the part of the window in the rotated file is missing, and the verdict says so.
    const problem = v.problems.find((p) => p.includes(rotated));
    expect(problem).toBeDefined();
    expect(problem).toMatch(/rotated main log/);
    expect(problem).toMatch(/corrupt|truncated|unexpected end/i);
    // The file is named once, not again inside the error.
    expect(problem!.split(rotated)).toHaveLength(2);
    expect(v.incomplete).toBe(true);
    expect(v.summary).toContain('INCOMPLETE');
    expect(v.summary).toContain(rotated);
  });

  it('a directory where a rotated log should be is a problem and marks the verdict incomplete; readable ones are still read', async () => {
    const { m, ctx } = await stage();
    const before = await runDetect(ctx);
    const dir = join(dirname(m.mainlog), 'exim_mainlog-20261121.gz');
    await mkdir(dir);
    // An older readable rotation, still inside the window: it is read past the broken one.
    const older = join(dirname(m.mainlog), 'exim_mainlog-20261120.gz');
    const { text, arrivals } = await earlierArrivals(m.mainlog, 12, 10);
    await writeFile(older, gzipSync(text));

    const v = await runDetect(ctx);
    expect(v.counts.window_arrivals).toBe(before.counts.window_arrivals + arrivals);
    expect(v.problems.filter((p) => p.includes('rotated main log'))).toHaveLength(1);
    const problem = v.problems.find((p) => p.includes(dir));
    expect(problem).toMatch(/EISDIR|directory/i);
    expect(problem).not.toContain(older);
    expect(v.sources_failed).toEqual([]);
    expect(v.incomplete).toBe(true);
  });
});
