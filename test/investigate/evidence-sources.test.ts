/**
 * One incident's evidence read four ways gives the same main-log and spool findings: the files
 * offline, a local host (the detection's scan actions, as on `--host local` and `--host demo`),
 * the target's perl run on this machine, and an SSH host on loopback. The main log has a
 * rotated gzip predecessor the 24h window reaches into. Only paths differ.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIncident, type IncidentManifest } from '../../fixtures/sim/incident.mjs';
import { eximDetectionActions } from '../../src/actions/exim/detection.js';
import type { ReadOnlyAction } from '../../src/actions/types.js';
import { scanMainlogSources } from '../../src/investigate/mainlog-sources.js';
import { scanSpoolDir } from '../../src/investigate/spool.js';
import { scanMainlogRemoteRotated } from '../../src/remote/rotated-scan.js';
import { scanSpoolRemote } from '../../src/remote/scan.js';
import { LocalTransport } from '../../src/transport/local.js';
import { makeContext } from '../actions/support/context.js';
import { startSshHosts, sshAvailable, type SshTestFleet } from '../support/ssh-hosts.js';

const action = (name: string): ReadOnlyAction => eximDetectionActions.find((a) => a.name === name) as ReadOnlyAction;

let root: string;
let m: IncidentManifest;
/** A copy of the incident's logs nothing else writes to (the simulated Exim logs its own runs). */
let logDir: string;
let mainlog: string;
let rotated: string;
let fleet: SshTestFleet | undefined;
const since = '24h';

const pad = (n: number): string => String(n).padStart(2, '0');
function stamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'runbook-sources-'));
  m = await generateIncident({ root: join(root, 'host'), mode: 'synthetic', sizes: { spam: 150, script: 110, legit: 20, bounces: 3, frozen: 1 }, seed: 7 });
  logDir = join(root, 'logs');
  await mkdir(logDir);
  mainlog = join(logDir, 'mainlog');
  const text = await readFile(m.mainlog, 'utf8');
  await writeFile(mainlog, text);
  // The day before, inside the window: the first arrivals again, six hours earlier, rotated.
  const earlier = text.split('\n').filter((l) => / <= /.test(l)).slice(0, 40)
    .map((l) => `${stamp(Date.parse(`${l.slice(0, 19).replace(' ', 'T')}Z`) - 6 * 3_600_000)}${l.slice(19)}\n`);
  rotated = join(logDir, 'mainlog-20261121.gz');
  await writeFile(rotated, gzipSync(earlier.join('')));
  if (sshAvailable || process.env.CI) {
    fleet = await startSshHosts(1, {
      namePrefix: 'sources',
      prepare: async ({ root: hostRoot }) => {
        await cp(logDir, join(hostRoot, 'var/log/exim4'), { recursive: true });
        await cp(m.spoolDir, join(hostRoot, 'var/spool/exim4'), { recursive: true });
      },
    });
  }
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
  await rm(root, { recursive: true, force: true });
});

/** A finding with its paths replaced by what they stand for. */
function placed(value: unknown, paths: Record<string, string>): unknown {
  let text = JSON.stringify(value);
  for (const [path, name] of Object.entries(paths)) text = text.split(path).join(name);
  return JSON.parse(text);
}

describe('one incident, four evidence sources', () => {
  it('files, a local host, the target\'s perl here, and an SSH host give the same findings', async () => {
    const offline = {
      mainlog: placed(await scanMainlogSources([mainlog, rotated], { since }), { [logDir]: 'LOGS' }),
      spool: placed(await scanSpoolDir(m.spoolDir), { [m.spoolDir]: 'SPOOL' }),
    };
    expect((offline.mainlog as { files: string[] }).files).toEqual(['LOGS/mainlog-20261121.gz', 'LOGS/mainlog']);
    expect((offline.mainlog as { auth_senders: { id: string; count: number }[] }).auth_senders[0]).toMatchObject({ id: m.mailbox });
    expect((offline.spool as { messages: number }).messages).toBeGreaterThan(100);

    const ctx = makeContext({ tools: m.tools, layout: m.layout, env: { RUNBOOK_SIM_ROOT: m.root } });
    const localHost = {
      mainlog: placed((await action('exim.mainlog.scan').run(ctx, { since, path: mainlog } as never)).outputs, { [logDir]: 'LOGS' }),
      spool: placed((await action('exim.spool.scan').run(ctx, { spool_dir: m.spoolDir } as never)).outputs, { [m.spoolDir]: 'SPOOL' }),
    };
    expect(localHost).toEqual(offline);

    const here = new LocalTransport();
    const targetHere = {
      mainlog: placed(await scanMainlogRemoteRotated(here, mainlog, { since }), { [logDir]: 'LOGS' }),
      spool: placed(await scanSpoolRemote(here, m.spoolDir), { [m.spoolDir]: 'SPOOL' }),
    };
    expect(targetHere).toEqual(offline);

    expect(fleet !== undefined || !sshAvailable).toBe(true);
    if (fleet === undefined) return;
    const ssh = fleet.transport(fleet.hosts[0]!);
    try {
      const overSsh = {
        mainlog: placed(await scanMainlogRemoteRotated(ssh, '/var/log/exim4/mainlog', { since }), { '/var/log/exim4': 'LOGS' }),
        spool: placed(await scanSpoolRemote(ssh, '/var/spool/exim4'), { '/var/spool/exim4': 'SPOOL' }),
      };
      expect(overSsh).toEqual(offline);
    } finally {
      await ssh.close();
    }
  });
});
