// Real Exim for tests: an isolated host root with a throw-away config (cPanel's log
// selectors, queue_only, split spool), optionally an incident in its queue and a daemon on a
// loopback port. Tests gate on eximAvailable(); with CI set, a missing Exim fails the run.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSimHost, simHostInfo, type SimHostInfo, type SimHostOptions } from '../../fixtures/sim/host.mjs';
import {
  generateIncident,
  type IncidentManifest,
  type IncidentSizes,
} from '../../fixtures/generator/incident.mjs';

export const EXIM_BINARY = '/usr/sbin/exim';

let availability: boolean | undefined;

/** Real Exim is installed, runnable, and we are root (needed for -C and the spool owner). */
export function eximAvailable(): boolean {
  if (availability === undefined) {
    const isRoot = process.getuid?.() === 0;
    const ok = existsSync(EXIM_BINARY) && spawnSync(EXIM_BINARY, ['-bV'], { stdio: 'ignore' }).status === 0;
    availability = isRoot && ok;
  }
  return availability;
}

/**
 * For `describe.runIf(requireExim())`: true when Exim can be used; under CI a missing Exim
 * throws, so the suite fails instead of silently skipping.
 */
export function requireExim(): boolean {
  const ok = eximAvailable();
  if (!ok && process.env.CI) {
    throw new Error(`real Exim is required under CI: ${EXIM_BINARY} missing, not runnable, or not root`);
  }
  return ok;
}

export interface CommandOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCommand(argv: readonly string[], options: { input?: string; cwd?: string } = {}): Promise<CommandOutcome> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = argv;
    if (file === undefined) throw new Error('empty argv');
    const child = spawn(file, args, { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    // A command that exits without reading stdin must not crash the test with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

export interface EximTestHost {
  root: string;
  info: SimHostInfo;
  /** Present when the host was started with an incident. */
  manifest: IncidentManifest | undefined;
  /** Runs the real exim against this host's config: exim(['-bp']). */
  exim(args: readonly string[], options?: { input?: string }): Promise<CommandOutcome>;
  /** IDs currently in the queue (from `exim -bp`). */
  queueIds(): Promise<string[]>;
  /** Loopback SMTP port when a daemon was started. */
  smtpPort: number | undefined;
  /** Stops the daemon (if any) and removes the root. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartEximHostOptions {
  /** Stage an incident in the queue (default true). */
  incident?: boolean;
  sizes?: IncidentSizes;
  seed?: number;
  hostOptions?: Omit<SimHostOptions, 'root' | 'exim'>;
  /** Start `exim -bd` listening on 127.0.0.1:PORT (messages are only queued). */
  daemonPort?: number;
  /** Parent directory for the root (default: os.tmpdir()). */
  parent?: string;
}

export async function startEximHost(options: StartEximHostOptions = {}): Promise<EximTestHost> {
  if (!eximAvailable()) throw new Error('real Exim is not available; gate the test with requireExim()');
  const root = mkdtempSync(join(options.parent ?? tmpdir(), 'runbook-exim-'));
  let manifest: IncidentManifest | undefined;
  let info: SimHostInfo;
  if (options.incident === false) {
    info = createSimHost({ ...(options.hostOptions ?? {}), root, exim: 'real' });
  } else {
    manifest = await generateIncident({
      root,
      mode: 'real',
      ...(options.sizes !== undefined ? { sizes: options.sizes } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.hostOptions !== undefined ? { hostOptions: options.hostOptions } : {}),
    });
    info = simHostInfo(root);
  }
  const conf = join(root, 'etc/exim.conf');
  const exim = (args: readonly string[], o: { input?: string } = {}) =>
    runCommand([EXIM_BINARY, '-C', conf, ...args], { cwd: root, ...(o.input !== undefined ? { input: o.input } : {}) });

  const pidFile = join(root, 'var/spool/exim/test-daemon.pid');
  let smtpPort: number | undefined;
  if (options.daemonPort !== undefined) {
    const res = await exim(['-bd', '-oX', `127.0.0.1.${options.daemonPort}`, '-oP', pidFile]);
    if (res.code !== 0) throw new Error(`exim -bd failed: ${res.stderr}`);
    await waitFor(() => existsSync(pidFile));
    smtpPort = options.daemonPort;
  }
  let stopped = false;
  return {
    root,
    info,
    manifest,
    exim,
    smtpPort,
    async queueIds() {
      const res = await exim(['-bp']);
      return [...res.stdout.matchAll(/^\s*\d+[mhd]\s+\S*\s+(\S+) </gm)].map((m) => m[1] as string);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (smtpPort !== undefined && existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        if (Number.isInteger(pid) && pid > 1) {
          try {
            process.kill(pid, 'SIGTERM');
          } catch {
            // already gone
          }
          await waitFor(() => !processAlive(pid));
        }
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for exim');
    await new Promise((r) => setTimeout(r, 25));
  }
}
