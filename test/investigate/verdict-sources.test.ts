/**
 * One incident investigated four ways prints the same `investigate --json` verdict: the files
 * given on the command line, a host on this machine (an inventory host with `hostname: local`,
 * the connection `--host local` makes), the demo host (`--host demo`, its root holding this
 * incident), and an SSH host on loopback. The main log has a rotated gzip predecessor the 24h
 * window reaches into.
 *
 * `--host local` itself reads this machine's own Exim (/usr/sbin/exim, /var/log/exim4), which
 * a test must not write to; the inventory entry gives the same local connection the simulated
 * cPanel tools of the incident's root instead. The SSH host reads that same root over SSH
 * (its sshd sees /tmp as this machine does), through perl on the target.
 *
 * Every host run asks the host's Exim where its spool and log are and what is queued, and
 * Exim logs each of those commands to the main log it then reads (as a cPanel server's Exim
 * does with +arguments). So each host run starts from the incident's log as generated, and the
 * files are then read offline as that run left them: the same data, both ways.
 *
 * Twice: with the rotation whole, and with it broken part-way (a truncated gzip), when every
 * source must leave it out, keep the rest of the log and say the verdict is incomplete.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIncident, type IncidentManifest } from '../../fixtures/sim/incident.mjs';
import { runCli } from '../cli/run-cli.js';
import { startSshHosts, sshAvailable, type SshTestFleet } from '../support/ssh-hosts.js';

let base: string;
let m: IncidentManifest;
let rotated: string;
/** The rotation whole, and broken part-way through (its head, and so its first line, still reads). */
let rotation: { whole: Buffer; broken: Buffer };
let pristine: string;
let inventory: string;
let fleet: SshTestFleet | undefined;
/** The demo host's root is `$XDG_STATE_HOME/runbook/demo`: the incident is staged there. */
let env: Record<string, string>;

const pad = (n: number): string => String(n).padStart(2, '0');
function stamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

beforeAll(async () => {
  expect(existsSync(join(process.cwd(), 'dist/cli/main.js')), 'run `npm run build` first (npm test does)').toBe(true);
  base = await mkdtemp(join(tmpdir(), 'runbook-verdict-sources-'));
  const state = join(base, 'state');
  mkdirSync(join(base, 'home'));
  env = { XDG_STATE_HOME: state, HOME: join(base, 'home'), SSH_AUTH_SOCK: '' };
  m = await generateIncident({ root: join(state, 'runbook', 'demo'), mode: 'synthetic', sizes: { spam: 150, script: 110, legit: 20, bounces: 3, frozen: 1 }, seed: 7 });
  pristine = await readFile(m.mainlog, 'utf8');
  // The day before, inside the window: the first arrivals again, six hours earlier, rotated,
  // after two days of the server's own cron mail from before the window.
  const firstMs = Date.parse(`${pristine.slice(0, 19).replace(' ', 'T')}Z`);
  const cron = Array.from({ length: 20_000 }, (_, i) => `${stamp(firstMs - 80 * 3_600_000 + i * 8_000)} cwd=/root 3 args: /usr/sbin/sendmail -t -i\n`);
  const earlier = pristine.split('\n').filter((l) => / <= /.test(l)).slice(0, 40)
    .map((l) => `${stamp(Date.parse(`${l.slice(0, 19).replace(' ', 'T')}Z`) - 6 * 3_600_000)}${l.slice(19)}\n`);
  const whole = gzipSync([...cron, ...earlier].join(''));
  rotation = { whole, broken: whole.subarray(0, Math.floor(whole.length * 0.6)) };
  rotated = `${m.mainlog}-${pristine.slice(0, 10).replace(/-/g, '')}.gz`;

  const hosts: Record<string, unknown> = { here: { hostname: 'local', tools: m.tools, layout: m.layout } };
  if (sshAvailable || process.env.CI) {
    fleet = await startSshHosts(1, { namePrefix: 'verdict' });
    const h = fleet.hosts[0]!;
    hosts['over-ssh'] = { ssh_host: '127.0.0.1', port: h.port, user: 'root', identity_file: fleet.clientKey, tools: m.tools, layout: m.layout };
  }
  inventory = join(base, 'inventory.json');
  await writeFile(inventory, JSON.stringify({ hosts }));
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
  if (base) await rm(base, { recursive: true, force: true });
});

interface Entry {
  host: string | null;
  ok: boolean;
  incomplete: boolean;
  error: string | null;
  verdict: Record<string, unknown> | null;
}
interface Doc {
  ok: boolean;
  incomplete: boolean;
  verdict: Record<string, unknown> | null;
  hosts: Entry[];
}

/**
 * The document with what legitimately differs between sources taken out. Nothing else is
 * touched: any other difference fails the test.
 *  - `source` and `auditLog` say what was read and where the run was recorded (files have no
 *    audit log); left out.
 *  - The entry's `host`: the host's name, null for files.
 *  - The host's name in messages: hosts say where a problem was met (` on over-ssh`).
 *  - The decompressor's own words for why gzip data broke, in parentheses after "corrupt or
 *    truncated gzip data": zlib's here, IO::Uncompress::Gunzip's in perl on an SSH target.
 *  - Paths are the same everywhere (the hosts read the very files given offline): none.
 */
function normalised(doc: Doc, host: string | null): unknown {
  let text = JSON.stringify({ ok: doc.ok, incomplete: doc.incomplete, verdict: doc.verdict, entry: { ...doc.hosts[0], host: null } });
  if (host !== null) text = text.split(` on ${host}`).join('');
  text = text.replace(/corrupt or truncated gzip data \([^)]*\)/g, 'corrupt or truncated gzip data (WHY)');
  return JSON.parse(text);
}

/**
 * Across runs the log differs only by each run's own Exim commands, logged at the second the
 * run made them, and a host reads its log while the run is still logging them: the window ends
 * at the newest line, so its bounds (and the reasons that name its start) are those seconds.
 */
function withoutWindowBounds(doc: unknown): unknown {
  const text = JSON.stringify(doc)
    .replace(/"from":"[^"]*","to":"[^"]*"/g, '"from":"FROM","to":"TO"')
    .replace(/in the day\(s\) before \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/g, 'in the day(s) before START');
  return JSON.parse(text);
}

async function investigateFiles(code: number): Promise<Doc> {
  const r = await runCli(
    ['investigate', '--mainlog', rotated, '--mainlog', m.mainlog, '--spool', m.spoolDir, '--domlogs', m.layout.domlogsDir, '--home-root', m.layout.homeRoots[0]!, '--json'],
    { env },
  );
  expect(r.code, r.stderr).toBe(code);
  return JSON.parse(r.stdout) as Doc;
}

/** A host run from the incident's log as generated, then the files read as the run left them. */
async function hostAndFiles(hostArgs: string[], name: string, code: number): Promise<{ host: Doc; files: Doc }> {
  await writeFile(m.mainlog, pristine);
  const r = await runCli(['investigate', ...hostArgs, '--json', '--audit-dir', join(base, 'audit', name)], { env });
  expect(r.code, r.stderr).toBe(code);
  const host = JSON.parse(r.stdout) as Doc;
  expect(host.hosts.map((h) => h.host)).toEqual([name]);
  // The run logged its own Exim commands and nothing else.
  const added = (await readFile(m.mainlog, 'utf8')).slice(pristine.length).split('\n').filter((l) => l !== '');
  expect(added.length).toBeGreaterThan(0);
  for (const l of added) expect(l).toMatch(/^\S+ \S+ cwd=\S+ \d+ args: \/usr\/sbin\/exim -b[PVp]/);
  return { host, files: await investigateFiles(code) };
}

/** Every source on the incident as it stands, each compared with the files read offline and with the first source. */
async function everySource(code: number): Promise<Array<{ name: string; host: Doc; files: Doc }>> {
  const runs: Array<{ name: string; host: Doc; files: Doc }> = [];
  runs.push({ name: 'demo', ...(await hostAndFiles(['--host', 'demo'], 'demo', code)) });
  runs.push({ name: 'here', ...(await hostAndFiles(['-i', inventory, '--limit', 'here'], 'here', code)) });
  expect(fleet !== undefined || !sshAvailable).toBe(true);
  if (fleet !== undefined) runs.push({ name: 'over-ssh', ...(await hostAndFiles(['-i', inventory, '--limit', 'over-ssh', '--known-hosts', fleet.knownHostsFile], 'over-ssh', code)) });
  for (const { name, host, files } of runs) {
    expect({ source: name, ...(withoutWindowBounds(normalised(host, name)) as object) }).toEqual({ source: name, ...(withoutWindowBounds(normalised(files, null)) as object) });
    // And every source gives what the first one gave, but for the seconds its commands ran.
    expect(withoutWindowBounds(normalised(host, name))).toEqual(withoutWindowBounds(normalised(runs[0]!.files, null)));
  }
  return runs;
}

describe('one incident, four sources, one investigate --json', () => {
  it('the files, this machine, the demo host and an SSH host give the same verdict', async () => {
    await writeFile(rotated, rotation.whole);
    for (const { files } of await everySource(0)) {
      // The incident was found, from both files of the rotated set.
      expect(files.verdict).toMatchObject({ kind: 'mailbox', sender: m.mailbox, problems: [], incomplete: false });
    }
  }, 300_000);

  it('with the rotation broken part-way, every source leaves it out, reads the rest and says so the same way', async () => {
    await writeFile(rotated, rotation.broken);
    for (const { files } of await everySource(1)) {
      const v = files.verdict!;
      expect(v).toMatchObject({ kind: 'mailbox', sender: m.mailbox, incomplete: true, sources_failed: [] });
      expect(v.problems).toEqual([expect.stringMatching(new RegExp(`^cannot read the rotated main log ${rotated.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: corrupt or truncated gzip data`))]);
      expect(v.summary).toMatch(/ — INCOMPLETE: could not read the rotated main log /);
    }
  }, 300_000);
});
