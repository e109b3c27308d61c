/**
 * From --inventory / --limit / --host to connected hosts. `local` runs on this machine,
 * `demo` is the built-in simulated cPanel host, anything else goes over SSH.
 */
import { CPANEL_LAYOUT, CPANEL_TOOL_PATHS, type HostLayout, type HostTarget, type ToolPaths } from '../hosts/types.js';
import { LocalTransport } from '../transport/local.js';
import type { Secret } from '../core/secret.js';
import type { AskPassphrase } from '../transport/ssh-auth.js';
import { expandTilde, parseUserHostPort, sshHostResolver, type SshHostResolver } from '../transport/ssh-config.js';
import { SshTransport, type SshTransportOptions } from '../transport/ssh.js';
import { InventoryError, selectHosts, type InventoryBecome } from './inventory.js';
import { loadInventory } from './inventory-load.js';

export interface SshTargetSpec {
  hostname: string;
  port?: number;
  user?: string;
  identityFiles?: string[];
  proxyJump?: string[];
  become?: InventoryBecome & { password?: Secret };
}

export interface TargetSpec {
  name: string;
  kind: 'local' | 'demo' | 'ssh';
  ssh?: SshTargetSpec;
  tools: ToolPaths;
  layout: HostLayout;
  vars: Record<string, unknown>;
  /** Connection policy shared by all SSH targets of a run. */
  knownHostsFile?: string;
  acceptNewHostKeys?: boolean;
  connectTimeoutMs?: number;
  sshConfigFile?: string | false;
}

export interface ResolveTargetsOptions {
  /** sudo password for hosts with `become` (asked once by the CLI, never on argv). */
  becomePassword?: Secret;
  inventory?: string;
  limit?: string;
  host?: string[];
  acceptNewHostKeys?: boolean;
  knownHostsFile?: string;
  connectTimeoutMs?: number;
  /** ~/.ssh/config by default; false ignores it. */
  sshConfigFile?: string | false;
}

export interface ConnectCallbacks {
  onHostKeyAccepted?: (host: string, fingerprint: string) => void;
  askPassphrase?: AskPassphrase;
}

function policy(options: ResolveTargetsOptions): Partial<TargetSpec> {
  return {
    ...(options.knownHostsFile !== undefined ? { knownHostsFile: options.knownHostsFile } : {}),
    ...(options.acceptNewHostKeys !== undefined ? { acceptNewHostKeys: options.acceptNewHostKeys } : {}),
    ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    ...(options.sshConfigFile !== undefined ? { sshConfigFile: options.sshConfigFile } : {}),
  };
}

/** An ad hoc `--host` value: `local`, `demo`, or `[user@]name[:port]`. */
export function adHocTarget(spec: string, options: ResolveTargetsOptions = {}): TargetSpec {
  const base = { tools: { ...CPANEL_TOOL_PATHS }, layout: { ...CPANEL_LAYOUT }, vars: {} };
  if (spec === 'local' || spec === 'localhost') return { name: 'localhost', kind: 'local', ...base };
  if (spec === 'demo') return { name: 'demo', kind: 'demo', ...base };
  const parsed = parseUserHostPort(spec);
  return {
    name: spec,
    kind: 'ssh',
    ssh: {
      hostname: parsed.host,
      ...(parsed.port !== undefined ? { port: parsed.port } : {}),
      ...(parsed.user !== undefined ? { user: parsed.user } : {}),
    },
    ...base,
    ...policy(options),
  };
}

export async function resolveTargets(options: ResolveTargetsOptions): Promise<TargetSpec[]> {
  const specs: TargetSpec[] = [];
  const adHoc = [...(options.host ?? [])];
  if (options.inventory !== undefined) {
    const inventory = await loadInventory(options.inventory);
    const known = new Set(inventory.hosts.map((h) => h.name));
    const named = adHoc.filter((h) => known.has(h));
    let selected = selectHosts(inventory, options.limit);
    if (named.length > 0) selected = selected.filter((h) => named.includes(h.name));
    for (const h of selected) {
      specs.push({
        name: h.name,
        kind: h.hostname === 'local' || h.hostname === 'localhost' ? 'local' : 'ssh',
        ssh: {
          hostname: h.hostname,
          ...(h.port !== undefined ? { port: h.port } : {}),
          ...(h.user !== undefined ? { user: h.user } : {}),
          ...(h.identityFile !== undefined ? { identityFiles: [expandTilde(h.identityFile)] } : {}),
          ...(h.proxyJump !== undefined ? { proxyJump: h.proxyJump } : {}),
          ...(h.become !== undefined ? { become: { ...h.become, ...(options.becomePassword ? { password: options.becomePassword } : {}) } } : {}),
        },
        tools: { ...CPANEL_TOOL_PATHS, ...h.tools },
        layout: { ...CPANEL_LAYOUT, ...h.layout },
        vars: h.vars,
        ...policy(options),
      });
    }
    for (const h of adHoc.filter((x) => !known.has(x))) specs.push(adHocTarget(h, options));
  } else {
    if (options.limit !== undefined) throw new InventoryError('--limit selects hosts of an inventory: pass --inventory FILE too');
    for (const h of adHoc) specs.push(adHocTarget(h, options));
  }
  if (specs.length === 0) throw new InventoryError('no hosts selected');
  return specs;
}

/** One resolver per config file for the whole run: each host is looked up once. */
const resolvers = new Map<string, SshHostResolver>();

/** How the SSH transport reaches a target: the spec's settings and the run's ssh_config resolver. */
export function sshTransportOptions(spec: TargetSpec, callbacks: ConnectCallbacks = {}): SshTransportOptions {
  const ssh = spec.ssh!;
  let sshConfig: SshHostResolver | false = false;
  if (spec.sshConfigFile !== false) {
    const key = spec.sshConfigFile ?? '';
    let resolver = resolvers.get(key);
    if (!resolver) {
      resolver = sshHostResolver(spec.sshConfigFile !== undefined ? { file: spec.sshConfigFile } : {});
      resolvers.set(key, resolver);
    }
    sshConfig = resolver;
  }
  return {
    host: spec.name,
    hostname: ssh.hostname,
    ...(ssh.port !== undefined ? { port: ssh.port } : {}),
    ...(ssh.user !== undefined ? { user: ssh.user } : {}),
    ...(ssh.identityFiles !== undefined ? { identityFiles: ssh.identityFiles } : {}),
    ...(ssh.proxyJump !== undefined ? { proxyJump: ssh.proxyJump } : {}),
    ...(ssh.become !== undefined ? { become: ssh.become } : {}),
    sshConfig,
    ...(spec.knownHostsFile !== undefined ? { knownHostsFile: spec.knownHostsFile } : {}),
    ...(spec.acceptNewHostKeys !== undefined ? { acceptNewHostKeys: spec.acceptNewHostKeys } : {}),
    ...(spec.connectTimeoutMs !== undefined ? { connectTimeoutMs: spec.connectTimeoutMs } : {}),
    ...(callbacks.onHostKeyAccepted !== undefined ? { onHostKeyAccepted: callbacks.onHostKeyAccepted } : {}),
    ...(callbacks.askPassphrase !== undefined ? { askPassphrase: callbacks.askPassphrase } : {}),
  };
}

export async function connectTarget(spec: TargetSpec, callbacks: ConnectCallbacks = {}): Promise<HostTarget> {
  if (spec.kind === 'demo') {
    const demoPath = '../hosts/demo.js';
    const demo = (await import(demoPath)) as { createDemoHost(): Promise<HostTarget> };
    return demo.createDemoHost();
  }
  if (spec.kind === 'local') {
    return { name: spec.name, transport: new LocalTransport({ host: spec.name }), tools: spec.tools, layout: spec.layout, vars: spec.vars };
  }
  const transport = new SshTransport(sshTransportOptions(spec, callbacks));
  // Connect now: an unreachable host is reported as such before any step is planned.
  await transport.connect();
  return { name: spec.name, transport, tools: spec.tools, layout: spec.layout, vars: spec.vars };
}
