import { readFile, stat } from 'node:fs/promises';
import { Secret } from '../core/secret.js';
import type { TargetHandle } from '../engine/run.js';
import { CPANEL_LAYOUT, CPANEL_TOOL_PATHS, type HostTarget } from '../hosts/types.js';
import { LocalTransport } from '../transport/local.js';
import { connectTarget, resolveTargets, sshTransportOptions, type TargetSpec } from '../fleet/targets.js';
import { sshRoute } from '../transport/ssh.js';

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

type SelectedTargets = { simple: string[]; specs?: undefined } | { simple?: undefined; specs: TargetSpec[] };

/** --host / --inventory / --limit / --rerun-failed → the hosts, not yet connected. */
async function selectTargets(flags: TargetFlags): Promise<SelectedTargets> {
  const hosts = flags.host ?? [];
  if (hosts.length === 0 && !flags.inventory) {
    throw new TargetError("no target: pass --host demo (the built-in demo host), --host local, --host user@server, or --inventory FILE");
  }
  if (flags.limit && !flags.inventory) throw new TargetError('--limit selects hosts of an inventory: pass --inventory FILE too (or list hosts with --host)');
  const simple = hosts.length > 0 && !flags.inventory && hosts.every((h) => h === 'demo' || h === 'local' || h === 'localhost');
  let selected: SelectedTargets;
  if (simple) {
    selected = { simple: hosts.map((h) => (h === 'demo' ? 'demo' : 'localhost')) };
  } else {
    selected = {
      specs: await resolveTargets({
        ...(flags.inventory ? { inventory: flags.inventory } : {}),
        ...(flags.limit ? { limit: flags.limit } : {}),
        ...(hosts.length ? { host: hosts } : {}),
        ...(flags.acceptNewHostKeys ? { acceptNewHostKeys: true } : {}),
        ...(flags.knownHosts ? { knownHostsFile: flags.knownHosts } : {}),
        ...(flags.becomePassword ? { becomePassword: flags.becomePassword } : {}),
      }),
    };
  }
  const names = selected.simple ?? selected.specs.map((s) => s.name);
  const wanted = flags.only ? new Set(flags.only) : undefined;
  if (wanted && !names.some((n) => wanted.has(n))) throw new TargetError('--rerun-failed: no host of that run failed or was unreachable; nothing to do');
  const seen = new Set<string>();
  for (const name of names) {
    if (wanted && !wanted.has(name)) continue;
    if (seen.has(name)) throw new TargetError(`host ${name} is selected twice`);
    seen.add(name);
  }
  if (!wanted) return selected;
  return selected.simple ? { simple: selected.simple.filter((n) => wanted.has(n)) } : { specs: selected.specs.filter((s) => wanted.has(s.name)) };
}

/**
 * Turns --host / --inventory / --limit into the hosts of a run. `demo` is the built-in
 * simulated cPanel host, `local` (or `localhost`) this machine; anything else goes over SSH.
 */
export async function resolveTargetHandles(flags: TargetFlags, callbacks: ConnectCallbacks): Promise<TargetHandle[]> {
  const selected = await selectTargets(flags);
  if (selected.simple) {
    return selected.simple.map((h) =>
      h === 'demo'
        ? { name: 'demo', connect: async () => (await demoModule()).createDemoHost() }
        : { name: 'localhost', connect: async () => localTarget() },
    );
  }
  return selected.specs.map((spec) => ({ name: spec.name, connect: () => connectTarget(spec, callbacks) }));
}

/** One host as a run would reach it, for --list-hosts. */
export interface HostListing {
  name: string;
  kind: 'demo' | 'local' | 'ssh';
  /** `user@hostname:port` per hop, jump hosts first (ssh only). */
  route?: string[];
  identityFiles?: string[];
  /** sudo target user when the host has `become`. */
  become?: string;
}

/** The hosts a run would use and how it would reach them, resolved without connecting to any. */
export async function listTargets(flags: TargetFlags): Promise<HostListing[]> {
  const selected = await selectTargets(flags);
  if (selected.simple) return selected.simple.map((name) => ({ name, kind: name === 'demo' ? 'demo' : 'local' }));
  const out: HostListing[] = [];
  for (const spec of selected.specs) {
    if (spec.kind !== 'ssh') {
      out.push({ name: spec.name, kind: spec.kind });
      continue;
    }
    const hops = await sshRoute(sshTransportOptions(spec));
    out.push({
      name: spec.name,
      kind: 'ssh',
      route: hops.map((h) => `${h.user}@${h.hostname}:${h.port}`),
      identityFiles: hops.at(-1)!.identityFiles,
      ...(spec.ssh?.become ? { become: spec.ssh.become.user ?? 'root' } : {}),
    });
  }
  return out;
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
