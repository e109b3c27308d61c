/**
 * Benchmark hosts: loopback sshd hosts (test/support/ssh-hosts.ts, one mount namespace each),
 * each with its own simulated cPanel server and a staged spam incident under its root, so the
 * shipped spam-incident playbook's dry-run has real work to do on every one of them.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSimHost } from '../../fixtures/sim/host.mjs';
import { generateIncident, type IncidentManifest } from '../../fixtures/generator/incident.mjs';
import { startSshHosts, type SshTestFleet, type SshTestHost } from '../../test/support/ssh-hosts.js';

/**
 * Per host: one compromised mailbox well above the playbook's default threshold (100 in 24h),
 * a sending PHP script, a newsletter, bounces and frozen messages: 493 queued messages.
 */
export const INCIDENT_SIZES = { spam: 300, script: 150, legit: 30, bounces: 10, frozen: 3 };

export interface BenchHost {
  ssh: SshTestHost;
  manifest: IncidentManifest;
}

export interface BenchFleet {
  fleet: SshTestFleet;
  hosts: BenchHost[];
}

/**
 * A host root the way a cPanel server looks to the playbook: Debian's real exim binary on the
 * simulator's cPanel configuration (split spool, cPanel log selectors, nothing delivered), a
 * synthetic incident written in Exim's own spool and log formats (owned as Exim wants them),
 * cPanel/CSF files around it.
 * `exim` is a two-line sh wrapper adding `-C`, so each call costs what exim costs on a real
 * server instead of a Node start.
 */
export async function prepareCpanelRoot(root: string, seed: number): Promise<IncidentManifest> {
  createSimHost({ root, exim: 'real' });
  const manifest = await generateIncident({ root, mode: 'synthetic', createHost: false, sizes: INCIDENT_SIZES, seed });
  const conf = join(root, 'etc/exim.conf');
  writeFileSync(manifest.tools.exim, `#!/bin/sh\nexec /usr/sbin/exim -C ${conf} "$@"\n`, { mode: 0o755 });
  writeFileSync(manifest.tools.exiqgrep, `#!/bin/sh\nexec /usr/sbin/exiqgrep -C ${conf} "$@"\n`, { mode: 0o755 });
  return manifest;
}

/**
 * A ForceCommand that makes every session start `delayMs` later, as PAM and a login shell do on
 * a busy server (about 0.6 s measured on real cPanel hosts), then runs the requested command.
 */
function slowSessionConfig(dir: string, delayMs: number): string[] {
  if (delayMs <= 0) return [];
  const wrapper = join(dir, 'slow-session');
  writeFileSync(
    wrapper,
    `#!/bin/sh
sleep ${(delayMs / 1000).toFixed(3)}
if [ -n "$SSH_ORIGINAL_COMMAND" ]; then exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"; fi
exec /bin/sh
`,
    { mode: 0o755 },
  );
  return [`ForceCommand ${wrapper}`];
}

/**
 * A busy server's ordinary main-log traffic (bench/mainlog/generate.mjs --ordinary: PHP mail,
 * authenticated submissions, incoming mail, deferrals, bounces, admin exim runs; none of that
 * generator's spam, whose domains the simulated host does not have), `sizeMb` of it, ending an
 * hour before the staged incident so the incident's lines follow it in time order. Generated
 * once per run into `dir`.
 */
export function backgroundMainlog(dir: string, sizeMb: number): string {
  const file = join(dir, `background-${sizeMb}m.log`);
  if (existsSync(file)) return file;
  // generate.mjs writes about 134 MiB a day: start early enough to end an hour before now.
  const start = new Date(Date.now() - 3_600_000 - (sizeMb / 134) * 86_400_000).toISOString();
  const r = spawnSync(process.execPath, [join(import.meta.dirname, '..', 'mainlog', 'generate.mjs'), file, String(sizeMb), start, '--ordinary'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error('generating the background main log failed');
  return file;
}

/**
 * The host's main log becomes `background` followed by the incident's own lines, owned and
 * moded as the staged log was: exim opens it as its own user.
 */
function prependBackground(manifest: IncidentManifest, background: string): void {
  const incident = readFileSync(manifest.mainlog);
  const staged = statSync(manifest.mainlog);
  copyFileSync(background, manifest.mainlog);
  appendFileSync(manifest.mainlog, incident);
  chownSync(manifest.mainlog, staged.uid, staged.gid);
  chmodSync(manifest.mainlog, staged.mode & 0o7777);
}

/**
 * `sessionDelayMs`: every session of every host starts that much later (see slowSessionConfig).
 * `mainlogMb`: each host's main log also holds that much ordinary traffic before the incident.
 */
export async function startBenchFleet(count: number, options: { sessionDelayMs?: number; dir?: string; mainlogMb?: number } = {}): Promise<BenchFleet> {
  const manifests = new Map<string, IncidentManifest>();
  const background = options.mainlogMb && options.dir !== undefined ? backgroundMainlog(options.dir, options.mainlogMb) : undefined;
  const fleet = await startSshHosts(count, {
    namePrefix: 'cp',
    sshdConfig: options.dir === undefined ? [] : slowSessionConfig(options.dir, options.sessionDelayMs ?? 0),
    prepare: async ({ name, root, index }) => {
      const manifest = await prepareCpanelRoot(root, 1000 + index);
      if (background) prependBackground(manifest, background);
      manifests.set(name, manifest);
    },
  });
  return { fleet, hosts: fleet.hosts.map((ssh) => ({ ssh, manifest: manifests.get(ssh.name)! })) };
}

/** runbook inventory: per-host address, key, tool paths and layout under that host's root. */
export function runbookInventory(bench: BenchFleet, hosts: BenchHost[]): string {
  return JSON.stringify(
    {
      hosts: Object.fromEntries(
        hosts.map((h) => [
          h.ssh.name,
          {
            ssh_host: '127.0.0.1',
            port: h.ssh.port,
            user: 'root',
            identity_file: bench.fleet.clientKey,
            tools: h.manifest.tools,
            layout: h.manifest.layout,
            vars: { allow_documentation_ips: true },
          },
        ]),
      ),
    },
    null,
    2,
  );
}
