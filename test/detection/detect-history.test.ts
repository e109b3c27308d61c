import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimHost } from '../../fixtures/sim/host.mjs';
import { eximDetectionActions } from '../../src/actions/exim/detection.js';
import type { ReadOnlyAction } from '../../src/actions/types.js';
import type { Verdict } from '../../src/investigate/verdict.js';
import { makeContext } from '../actions/support/context.js';
import { EXPECT, writeRealisticIncident } from '../investigate/realistic-incident.js';

/**
 * On a host, the owners' history may sit in yesterday's rotated main log: exim.detect reads the
 * newest rotation (gzip too) for the flagged mailboxes, so the owner's office is not blocked.
 */
describe('exim.detect reads the owners history from the rotated main log', () => {
  let base: string;
  let v: Verdict;
  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'runbook-detect-history-'));
    const root = join(base, 'root');
    const info = createSimHost({ root });
    const logs = writeRealisticIncident(base);
    // Rotated at midnight: the first day (alice's office hours) is in the gzip file.
    const cut = Date.UTC(2026, 11, 7) / 1000;
    const text = (keep: (t: number) => boolean): string => logs.lines.filter((l) => keep(l.time)).map((l) => `${l.text}\n`).join('');
    writeFileSync(join(dirname(info.mainlog), 'exim_mainlog-20261207.gz'), gzipSync(text((t) => t < cut)));
    writeFileSync(info.mainlog, text((t) => t >= cut));
    const ctx = makeContext({ tools: info.tools, layout: { ...info.layout, maillog: join(root, 'var/log/no-maillog') }, env: info.env });
    const detect = eximDetectionActions.find((a) => a.name === 'exim.detect') as ReadOnlyAction;
    // From the rotation on: the window holds the incident, not the office's history. (An absolute
    // time, since the simulated Exim logs its own runs at the current clock.)
    v = (await detect.run(ctx, { since: '2026-12-07 00:00:00' } as never)).outputs as unknown as Verdict;
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('the office that used the mailbox yesterday is the owner; the attackers are blocked', () => {
    expect(v.sources.map((s) => s.id)).toContain(EXPECT.alice);
    expect(v.not_blocked.find((n) => n.ip === EXPECT.aliceOffice)).toMatchObject({ class: 'owner' });
    expect(v.not_blocked.find((n) => n.ip === EXPECT.aliceOffice)!.reason).toMatch(/from 2026-12-06T08:05:00, before the incident began at 2026-12-07T03:17:05/);
    expect(v.ips).not.toContain(EXPECT.aliceOffice);
    for (const ip of EXPECT.aliceAttackers) expect(v.ips).toContain(ip);
    expect(v.began).toBe(EXPECT.began);
  });
});
