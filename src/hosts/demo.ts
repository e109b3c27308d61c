// The built-in demo host (`--host demo`): a simulated cPanel server with an incident in
// progress, laid out under a local directory and driven through LocalTransport. Needs nothing
// beyond Node: the cPanel, CSF and Exim tools are the simulator scripts in fixtures/sim, and
// the queue is a synthetic spool of real-format -H/-D files with a matching main log.
//
// Times are relative to when the incident was staged (so a `since: 24h` window finds it);
// the scenario itself (mailboxes, IPs, script path, subjects) is fixed by a seed. A root
// older than DEMO_MAX_AGE_SECONDS, or damaged, is rebuilt.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simHostInfo } from '../../fixtures/sim/host.mjs';
import { generateIncident, type IncidentManifest } from '../../fixtures/sim/incident.mjs';
import { LocalTransport } from '../transport/local.js';
import type { HostTarget } from './types.js';

export const DEMO_HOST_NAME = 'demo';
export const DEMO_MAX_AGE_SECONDS = 12 * 3600;
const DEMO_SEED = 20261122;

/** Enough mail that default detection thresholds (100 messages) trip for both senders. */
const DEMO_SIZES = { spam: 160, script: 120, legit: 8, bounces: 6, frozen: 3 };

/** `$XDG_STATE_HOME/runbook/demo`, else `<tmpdir>/runbook-demo-<uid>`. */
export function demoRoot(env: NodeJS.ProcessEnv = process.env): string {
  const state = env.XDG_STATE_HOME;
  if (state !== undefined && state !== '') return join(state, 'runbook', 'demo');
  const uid = process.getuid?.() ?? 'user';
  return join(tmpdir(), `runbook-demo-${uid}`);
}

function readManifest(root: string): IncidentManifest | undefined {
  try {
    return JSON.parse(readFileSync(join(root, 'var/sim/incident.json'), 'utf8')) as IncidentManifest;
  } catch {
    return undefined;
  }
}

/** The wrappers embed this Node and this package's simulator; a moved package means rebuild. */
function wrappersCurrent(root: string): boolean {
  try {
    const text = readFileSync(join(root, 'usr/local/cpanel/bin/uapi'), 'utf8');
    const target = /await import\("([^"]+)"\)/.exec(text)?.[1];
    return text.startsWith(`#!${process.execPath}\n`) && target !== undefined && existsSync(new URL(target));
  } catch {
    return false;
  }
}

/** Present, recent, and with its key files in place. */
export function demoHostIntact(root: string = demoRoot()): boolean {
  const manifest = readManifest(root);
  if (!manifest || manifest.root !== root) return false;
  if (Date.now() / 1000 - manifest.generatedAt > DEMO_MAX_AGE_SECONDS) return false;
  const info = simHostInfo(root);
  const required = [
    info.tools.exim,
    info.tools.uapi,
    info.tools.whmapi1,
    info.tools.csf,
    info.tools.ip,
    join(info.tools.restartsrvDir, 'restartsrv_exim'),
    info.mainlog,
    info.layout.userdomainsFile,
    join(info.layout.csfDir, 'csf.deny'),
  ];
  return required.every((p) => existsSync(p)) && wrappersCurrent(root);
}

/** Throw the demo host away and stage a fresh incident. Returns its manifest. */
export async function resetDemoHost(root: string = demoRoot()): Promise<IncidentManifest> {
  rmSync(root, { recursive: true, force: true });
  // ClamAV (Debian's real clamscan on cPanel's path, when installed) and maldet find the web
  // shell planted beside the script.
  return generateIncident({ root, mode: 'synthetic', seed: DEMO_SEED, sizes: DEMO_SIZES, hostOptions: { malware: { clamav: true, maldet: true } } });
}

/** The demo host, built on first use and reused while intact. */
export async function createDemoHost(options: { root?: string; reset?: boolean } = {}): Promise<HostTarget> {
  const root = options.root ?? demoRoot();
  if (options.reset === true || !demoHostIntact(root)) await resetDemoHost(root);
  const info = simHostInfo(root);
  return {
    name: DEMO_HOST_NAME,
    transport: new LocalTransport({ host: DEMO_HOST_NAME }),
    tools: { ...info.tools },
    // The run lock lives inside the demo root so demo runs never touch this machine's /run.
    layout: { ...info.layout, homeRoots: [...info.layout.homeRoots], lockDir: join(root, 'var', 'sim', 'runbook.lock') },
    // The staged attackers use documentation (TEST-NET) addresses; let csf.deny block them here.
    vars: { demo: true, root, allow_documentation_ips: true },
  };
}

/** What was staged on the demo host (for `runbook` output and tests). */
export function demoManifest(root: string = demoRoot()): IncidentManifest | undefined {
  return readManifest(root);
}
