/**
 * Leads taken from hostile log and header text that name nothing a source could look up (a
 * cwd= that climbs out of its account, a script path no request line can hold) are passed over by the one gather
 * path, on a host and in files alike: neither reports a problem the other does not.
 */
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIncident, type IncidentManifest } from '../../fixtures/sim/incident.mjs';
import { eximDetectionActions } from '../../src/actions/exim/detection.js';
import type { ReadOnlyAction } from '../../src/actions/types.js';
import { investigate } from '../../src/investigate/report.js';
import { makeContext } from '../actions/support/context.js';

let root: string;
let m: IncidentManifest;
let climbing: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'runbook-gather-leads-'));
  m = await generateIncident({ root, mode: 'synthetic', sizes: { spam: 20, script: 12, legit: 2, bounces: 1, frozen: 0 }, seed: 11 });
  // A busy "directory" of an account that climbs out of it: a forged cwd= after the incident.
  const text = await readFile(m.mainlog, 'utf8');
  const last = text.trimEnd().split('\n').at(-1)!.slice(0, 19);
  climbing = `${m.layout.homeRoots[0]}/${m.cpanelUser}/../../tmp`;
  await appendFile(m.mainlog, Array.from({ length: 120 }, (_, i) => [
    `${last} cwd=${climbing} 3 args: /usr/sbin/sendmail -t -i`,
    `${last} 1xV5FE-${String(900000 + i).padStart(6, '0')}-00 <= ${m.cpanelUser}@host.example.test U=${m.cpanelUser} P=local S=900 T="Offer"`,
  ].join('\n') + '\n').join(''));
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('leads that name nothing to look up', () => {
  it('are passed over on a host and in files, with no problem on either', async () => {
    const offline = await investigate({ mainlog: m.mainlog, spool: m.spoolDir, domlogs: m.layout.domlogsDir, homeRoots: m.layout.homeRoots, min_messages: 10 });
    expect(offline.directories.map((d) => d.path)).toContain(climbing);
    expect(offline.problems).toEqual([]);

    const detect = eximDetectionActions.find((a) => a.name === 'exim.detect') as ReadOnlyAction;
    const ctx = makeContext({ tools: m.tools, layout: m.layout, env: { RUNBOOK_SIM_ROOT: root } });
    const onHost = (await detect.run(ctx, { since: '24h', min_messages: 10 } as never)).outputs as { problems: string[]; directories: { path: string }[] };
    expect(onHost.directories.map((d) => d.path)).toContain(climbing);
    expect(onHost.problems).toEqual([]);
  });
});
