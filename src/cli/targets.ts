import { readFile, stat } from 'node:fs/promises';
import { Secret } from '../core/secret.js';
import type { TargetHandle } from '../engine/run.js';
import { CPANEL_LAYOUT, CPANEL_TOOL_PATHS, type HostTarget } from '../hosts/types.js';
import { LocalTransport } from '../transport/local.js';
import { connectTarget, resolveTargets } from '../fleet/targets.js';

export interface TargetFlags {
  host?: string[];
  /** sudo password for inventory hosts with `become`. */
  becomePassword?: Secret;
  inventory?: string;
  limit?: string;
  acceptNewHostKeys?: boolean;
  knownHosts?: string;
  /** From --rerun-failed: only these host names. */
  only?: string[];
}

/** Events worth an audit note while connecting (a host key accepted on first use). */
export interface ConnectCallbacks {
  onHostKeyAccepted?: (host: string, fingerprint: string) => void;
  askPassphrase?: (keyPath: string) => Promise<string>;
}

export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetError';
  }
}

function localTarget(): HostTarget {
  return { name: 'localhost', transport: new LocalTransport(), tools: { ...CPANEL_TOOL_PATHS }, layout: { ...CPANEL_LAYOUT }, vars: {} };
}

async function demoModule(): Promise<{ createDemoHost(): Promise<HostTarget> }> {
  const path = '../hosts/demo.js';
  return (await import(path)) as { createDemoHost(): Promise<HostTarget> };
}

/**
 * Turns --host / --inventory / --limit into the hosts of a run. `demo` is the built-in
 * simulated cPanel host, `local` (or `localhost`) this machine; anything else goes over SSH.
 */
export async function resolveTargetHandles(flags: TargetFlags, callbacks: ConnectCallbacks): Promise<TargetHandle[]> {
  const hosts = flags.host ?? [];
  if (hosts.length === 0 && !flags.inventory) {
    throw new TargetError("no target: pass --host demo (the built-in demo host), --host local, --host user@server, or --inventory FILE");
  }
  if (flags.limit && !flags.inventory) throw new TargetError('--limit selects hosts of an inventory: pass --inventory FILE too (or list hosts with --host)');
  const simple = hosts.length > 0 && !flags.inventory && hosts.every((h) => h === 'demo' || h === 'local' || h === 'localhost');
  let handles: TargetHandle[];
  if (simple) {
    handles = hosts.map((h) =>
      h === 'demo'
        ? { name: 'demo', connect: async () => (await demoModule()).createDemoHost() }
        : { name: 'localhost', connect: async () => localTarget() },
    );
  } else {
    const specs = await resolveTargets({
      ...(flags.inventory ? { inventory: flags.inventory } : {}),
      ...(flags.limit ? { limit: flags.limit } : {}),
      ...(hosts.length ? { host: hosts } : {}),
      ...(flags.acceptNewHostKeys ? { acceptNewHostKeys: true } : {}),
      ...(flags.knownHosts ? { knownHostsFile: flags.knownHosts } : {}),
      ...(flags.becomePassword ? { becomePassword: flags.becomePassword } : {}),
    });
    handles = specs.map((spec) => ({ name: spec.name, connect: () => connectTarget(spec, callbacks) }));
  }
  if (flags.only) {
    const wanted = new Set(flags.only);
    handles = handles.filter((h) => wanted.has(h.name));
    if (handles.length === 0) throw new TargetError('--rerun-failed: no host of that run failed or was unreachable; nothing to do');
  }
  const seen = new Set<string>();
  for (const h of handles) {
    if (seen.has(h.name)) throw new TargetError(`host ${h.name} is selected twice`);
    seen.add(h.name);
  }
  return handles;
}

/**
 * The sudo password for `become` hosts: asked on the terminal (--ask-become-pass) or read from
 * a file only its owner can read (--become-password-file); never taken from argv.
 */
export async function becomePasswordFrom(flags: { askBecomePass?: boolean; becomePasswordFile?: string }, ask: (q: string) => Promise<string>): Promise<Secret | undefined> {
  if (flags.askBecomePass) return new Secret(await ask('sudo password for become: '));
  if (flags.becomePasswordFile) {
    const info = await stat(flags.becomePasswordFile).catch(() => undefined);
    if (!info) throw new TargetError(`--become-password-file ${flags.becomePasswordFile}: no such file`);
    if ((info.mode & 0o077) !== 0) throw new TargetError(`--become-password-file ${flags.becomePasswordFile} is readable by others; chmod 600 it`);
    return new Secret((await readFile(flags.becomePasswordFile, 'utf8')).replace(/\r?\n$/, ''));
  }
  return undefined;
}

/** The host-selection flags every run command shares (apply, investigate, undo). */
export interface HostSelectionFlags {
  host: string[];
  inventory?: string;
  limit?: string;
  acceptNewHostKeys?: boolean;
  knownHosts?: string;
  askBecomePass?: boolean;
  becomePasswordFile?: string;
}

/** From command-line flags to the hosts of a run, asking for a sudo password when told to. */
export async function targetsFromFlags(
  flags: HostSelectionFlags,
  callbacks: ConnectCallbacks,
  options: { only?: string[]; ask: (question: string) => Promise<string> },
): Promise<TargetHandle[]> {
  const becomePassword = await becomePasswordFrom(flags, options.ask);
  return resolveTargetHandles(
    {
      host: flags.host,
      ...(flags.inventory ? { inventory: flags.inventory } : {}),
      ...(flags.limit ? { limit: flags.limit } : {}),
      ...(flags.acceptNewHostKeys ? { acceptNewHostKeys: true } : {}),
      ...(flags.knownHosts ? { knownHosts: flags.knownHosts } : {}),
      ...(becomePassword ? { becomePassword } : {}),
      ...(options.only ? { only: options.only } : {}),
    },
    callbacks,
  );
}
