/**
 * SSH transport (ssh2): one connection per host, reused for every command. argv becomes the
 * remote command string only through `quoteArgvForPosixShell`.
 */
import { Socket, connect as netConnect } from 'node:net';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';
import type { Secret } from '../core/secret.js';
import { DEFAULT_MAX_OUTPUT_BYTES, stdinBytes } from './local.js';
import { OutputCollector } from './output.js';
import { quoteArgvForPosixShell, remoteCommandReportingPid } from './quote.js';
import { createAuthHandler, defaultIdentityFiles, type AskPassphrase } from './ssh-auth.js';
import { asHostResolver, parseUserHostPort, type SshConfigBlock, type SshHostResolver } from './ssh-config.js';
import { HostKeyRejectedError, prepareHostKeyCheck } from './ssh-hostkey.js';
import {
  CommandCutOffError,
  CommandNotFoundError,
  HostUnreachableError,
  type ExecOptions,
  type ExecResult,
  type Transport,
} from './types.js';

const { Client } = ssh2;
type SshClient = InstanceType<typeof Client>;

/** Run commands as another user through sudo. */
export interface BecomeOptions {
  /** Target user (sudo -u); root when omitted. */
  user?: string;
  /** sudo password, sent on stdin (sudo -S) ahead of the command's own input. */
  password?: Secret;
}

export interface SshTransportOptions {
  /** Inventory name, used in messages. */
  host: string;
  /** Name or address to connect to (after ~/.ssh/config HostName). Default: `host`. */
  hostname?: string;
  port?: number;
  user?: string;
  identityFiles?: string[];
  /** Jump hosts (`user@host:port`), in order. Default: ProxyJump from ~/.ssh/config. */
  proxyJump?: string[];
  /** How names resolve: parsed config blocks, a resolver (`ssh -G`), or false to ignore ssh_config. Default: sshHostResolver(). */
  sshConfig?: SshConfigBlock[] | false | SshHostResolver;
  /** ssh-agent socket; null disables the agent. Default: $SSH_AUTH_SOCK. */
  agentSocket?: string | null;
  askPassphrase?: AskPassphrase;
  /** Default ~/.ssh/known_hosts. */
  knownHostsFile?: string;
  globalKnownHostsFiles?: string[];
  acceptNewHostKeys?: boolean;
  onHostKeyAccepted?: (host: string, fingerprint: string) => void;
  /** TCP connect + handshake + auth, per hop. Default 20 s. */
  connectTimeoutMs?: number;
  /**
   * How long a command may wait to start once connected: the channel open and the host's
   * session setup (PAM, login shell) before the shell runs it. Not part of a command's own
   * timeout, which starts when the command does. Default 120 s.
   */
  sessionStartTimeoutMs?: number;
  /** SSH keepalive interval. Default 15 s; three missed answers drop the connection. */
  keepaliveIntervalMs?: number;
  become?: BecomeOptions;
}

export interface SshTransferStats {
  bytesIn: number;
  bytesOut: number;
  /** `user@host:port` of every hop, jump hosts first, once connected. */
  route: string[];
}

export interface Hop {
  label: string;
  hostname: string;
  port: number;
  user: string;
  identityFiles: string[];
}

/**
 * sudo on the host would not run commands as configured (`become`): no rule for the login
 * user, a password it needs and was not given, or a password it refused. Raised when the
 * connection opens, before any command runs, and never mistaken for a command's own exit 1.
 */
export class BecomeError extends Error {
  readonly host: string;
  constructor(host: string, message: string) {
    super(`${host}: ${message}`);
    this.name = 'BecomeError';
    this.host = host;
  }
}

/** sudo's own refusals (exit 1), as opposed to the command's output. */
const SUDO_NEEDS_PASSWORD = /^sudo: (a password is required|a terminal is required)/m;
const SUDO_WRONG_PASSWORD = /^sudo: (\d+ incorrect password attempts?|no password was provided)/m;

/**
 * argv as sudo will run it. Exported for the planner and tests. With a password, `-k` makes
 * sudo read it every time: where sudo shares cached credentials between sessions
 * (`timestamp_type=global`), it would otherwise skip the password and hand that line to the
 * command on its stdin.
 */
export function becomeArgv(argv: readonly string[], become: BecomeOptions | undefined): string[] {
  if (become === undefined) return [...argv];
  const head = become.password !== undefined ? ['sudo', '-k', '-S', '-p', ''] : ['sudo', '-n'];
  if (become.user !== undefined) head.push('-u', become.user);
  return [...head, '--', ...argv];
}

/**
 * Every hop to `options`' host, jump hosts first, as they will be connected to: the transport's
 * own options win, then ssh_config (through `ssh -G` when available), then OpenSSH's defaults.
 * Connects to nothing, so `--list-hosts` shows exactly what a run would use.
 */
export async function sshRoute(o: SshTransportOptions): Promise<Hop[]> {
  const resolve = asHostResolver(o.sshConfig);
  const alias = o.hostname ?? o.host;
  const resolved = await resolve(alias);
  const target: Hop = {
    label: o.host,
    hostname: resolved.hostname,
    port: o.port ?? resolved.port ?? 22,
    user: o.user ?? resolved.user ?? localUser(),
    identityFiles: o.identityFiles ?? (resolved.identityFiles.length > 0 ? resolved.identityFiles : defaultIdentityFiles()),
  };
  const jumps = await Promise.all((o.proxyJump ?? resolved.proxyJump).map(async (spec): Promise<Hop> => {
    const parsed = parseUserHostPort(spec);
    const jr = await resolve(parsed.host);
    return {
      label: `jump host ${spec}`,
      hostname: jr.hostname,
      port: parsed.port ?? jr.port ?? 22,
      user: parsed.user ?? jr.user ?? localUser(),
      identityFiles:
        jr.identityFiles.length > 0 ? jr.identityFiles : (o.identityFiles ?? defaultIdentityFiles()),
    };
  }));
  return [...jumps, target];
}

function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'root';
  }
}

function sudoPasswordLine(password: Secret): Buffer {
  return Buffer.from(`${password.reveal()}\n`, 'utf8');
}

function firstLine(text: string): string {
  return text.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
}

function becomeHint(become: BecomeOptions): string {
  return become.password === undefined
    ? 'give a become password for this host, or allow the login user to run commands without one (NOPASSWD in sudoers)'
    : 'the become password was not accepted';
}

/** What a command was waiting for when its session did not start in time. */
export type SessionWait = 'channel open' | 'session start';

/**
 * A command's session did not start in time (see sessionStartTimeoutMs): the host is slow or
 * overloaded, the command itself never ran. Its name stays HostUnreachableError so the engine
 * stops at this host like at one it cannot reach, rather than blaming the command.
 */
export class SessionStartTimeoutError extends HostUnreachableError {
  readonly waitedFor: SessionWait;
  readonly waitedMs: number;
  constructor(host: string, program: string, waitedFor: SessionWait, waitedMs: number) {
    super(
      host,
      waitedFor === 'channel open'
        ? `slow host: waited ${waitedMs} ms for sshd to open a channel for ${program}, which never started. ` +
            'The host is overloaded or limits sessions (MaxSessions); retry later or with fewer --forks.'
        : `slow host: waited ${waitedMs} ms for the session of ${program} to start (login shell, PAM), and it never started. ` +
            'The host is overloaded or its login is slow; retry later or with fewer --forks.',
    );
    this.waitedFor = waitedFor;
    this.waitedMs = waitedMs;
  }
}

/** A channel open the server refused (as sshd does past MaxSessions), not a broken connection. */
function isChannelOpenRefusal(error: Error & { reason?: unknown }): boolean {
  return typeof error.reason === 'number';
}

function toBuffer(input: string | Uint8Array): Buffer {
  return typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input);
}

export class SshTransport implements Transport {
  readonly kind = 'ssh' as const;
  readonly host: string;
  readonly #options: SshTransportOptions;
  #connecting: Promise<SshClient> | undefined;
  #clients: SshClient[] = [];
  #socket: Socket | undefined;
  #broken: HostUnreachableError | undefined;
  readonly #pending = new Set<(error: HostUnreachableError) => void>();
  #closed = false;
  #route: string[] = [];
  /** `become` as it works on this host, settled when the connection opens (see #checkBecome). */
  #become: BecomeOptions | undefined;
  #becomeRefused: BecomeError | undefined;
  /** Command channels open now, and commands waiting for one of them to close (MaxSessions). */
  #openChannels = 0;
  #closedChannels = 0;
  readonly #channelFreed: (() => void)[] = [];

  constructor(options: SshTransportOptions) {
    this.host = options.host;
    this.#options = options;
  }

  /** Bytes on the wire to the first hop (all SSH traffic of this host when direct). */
  stats(): SshTransferStats {
    return {
      bytesIn: this.#socket?.bytesRead ?? 0,
      bytesOut: this.#socket?.bytesWritten ?? 0,
      route: [...this.#route],
    };
  }

  /** Connect now (otherwise the first exec connects). */
  async connect(): Promise<void> {
    await this.#client();
  }

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (argv.length === 0 || argv[0] === '') throw new Error('exec: empty argv');
    if (options.signal?.aborted) return this.#notRun(argv, 'aborted');
    const client = await this.#client();
    const become = this.#become;
    const command = remoteCommandReportingPid(becomeArgv(argv, become));
    let input = stdinBytes(options.stdin);
    if (become?.password !== undefined) {
      const pw = sudoPasswordLine(become.password);
      input = input === undefined ? pw : Buffer.concat([pw, toBuffer(input)]);
    }
    const limit = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    const out = new OutputCollector(limit, options.onStdout);
    const err = new OutputCollector(limit);

    // Until the command starts, the wait is the host's (channel open, then the session's PAM
    // and login shell), bounded by sessionStartTimeoutMs; the command's own timeout starts with
    // the command, so a slow host is not reported as a command that timed out.
    const requested = performance.now();
    const sessionLimit = this.#options.sessionStartTimeoutMs ?? 120_000;
    let phase: 'channel open' | 'session start' | 'command' = 'channel open';
    let onSessionTimeout: () => void = () => {};
    const sessionTimer = setTimeout(() => onSessionTimeout(), sessionLimit);
    const sessionTimedOut = (): SessionStartTimeoutError =>
      new SessionStartTimeoutError(this.host, argv[0]!, phase === 'command' ? 'session start' : phase, Math.round(performance.now() - requested));

    let stream: ClientChannel;
    try {
      stream = await new Promise<ClientChannel>((resolve, reject) => {
        let gaveUp = false;
        let lagRetries = 0;
        onSessionTimeout = () => {
          gaveUp = true;
          reject(sessionTimedOut());
        };
        const open = (): void => {
          if (gaveUp) {
            this.#channelFreed.shift()?.(); // the freed channel goes to the next in line
            return;
          }
          // Counted from the request: a refusal can arrive before the channels opened earlier answer.
          this.#openChannels++;
          const closedBefore = this.#closedChannels;
          try {
            client.exec(command, (error, channel) => {
              if (error) {
                this.#openChannels--;
                if (gaveUp) this.#channelFreed.shift()?.();
                // sshd refuses sessions past MaxSessions: wait for one of ours to end, then ask
                // again; if one ended meanwhile (sshd counts it until the close is confirmed), now.
                else if (isChannelOpenRefusal(error) && this.#openChannels > 0) this.#channelFreed.push(open);
                else if (isChannelOpenRefusal(error) && this.#closedChannels > closedBefore) open();
                // None of ours is open, but one closed just before this request and sshd has not
                // yet counted its close: ask again shortly (bounded by the session start timeout).
                else if (isChannelOpenRefusal(error) && this.#closedChannels > 0 && lagRetries < 12) setTimeout(open, 5 * 2 ** lagRetries++);
                else reject(this.#broken ?? new HostUnreachableError(this.host, `could not start a command: ${error.message}`, { cause: error }));
                return;
              }
              channel.once('close', () => this.#channelClosed());
              if (gaveUp) channel.close();
              else resolve(channel);
            });
          } catch (error) {
            this.#openChannels--;
            reject(this.#broken ?? new HostUnreachableError(this.host, `connection lost: ${(error as Error).message}`, { cause: error }));
          }
        };
        open();
      });
    } catch (error) {
      clearTimeout(sessionTimer);
      throw error;
    }
    phase = 'session start';
    let commandAt: number | undefined;

    const result = await new Promise<ExecResult>((resolve, reject) => {
      let exitCode: number | null = null;
      let exitSignal: string | null = null;
      let timedOut = false;
      let aborted = false;
      let settled = false;
      // The remote shell's pid arrives as the first stderr line (see remoteCommandReportingPid).
      let remotePid: number | undefined;
      let stderrHead: Buffer | undefined = Buffer.alloc(0);
      let killWanted = false;
      const kill = (): void => {
        killWanted = true;
        if (remotePid !== undefined) this.#killProcessGroup(client, remotePid);
        try {
          stream.close();
        } catch {
          // channel already gone
        }
      };
      let timer: NodeJS.Timeout | undefined;
      /** The command runs: its pid came, or (a shell without the preamble) its first output. */
      const commandStarted = (): void => {
        if (phase === 'command') return;
        phase = 'command';
        commandAt = performance.now();
        clearTimeout(sessionTimer);
        if (options.timeoutMs !== undefined && !settled) {
          timer = setTimeout(() => {
            timedOut = true;
            kill();
          }, options.timeoutMs);
        }
      };
      onSessionTimeout = () => {
        if (phase === 'command' || settled) return;
        // No need to wait for a stuck host to confirm the close. Closing the channel makes the
        // shell die on its first write (the pid preamble) before it can exec the command.
        cleanup();
        reject(sessionTimedOut());
        try {
          stream.close();
        } catch {
          // channel already gone
        }
      };
      const onAbort = (): void => {
        aborted = true;
        kill();
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = (): void => {
        settled = true;
        if (timer) clearTimeout(timer);
        clearTimeout(sessionTimer);
        options.signal?.removeEventListener('abort', onAbort);
        this.#pending.delete(onLost);
      };
      // The host accepted the command (its channel and exec request were confirmed): from here
      // a lost connection leaves its outcome unknown, which is not the same as "did not run".
      const onLost = (error: HostUnreachableError): void => {
        if (settled) return;
        cleanup();
        reject(new CommandCutOffError(this.host, argv[0]!, error));
      };
      this.#pending.add(onLost);
      stream.on('data', (chunk: Buffer) => {
        commandStarted();
        out.push(chunk);
      });
      stream.stderr.on('data', (chunk: Buffer) => {
        if (stderrHead === undefined) {
          err.push(chunk);
          return;
        }
        stderrHead = Buffer.concat([stderrHead, chunk]);
        const nl = stderrHead.indexOf(0x0a);
        if (nl < 0 && stderrHead.length < 32) return;
        const first = nl < 0 ? '' : stderrHead.subarray(0, nl).toString('latin1');
        commandStarted();
        if (/^\d+$/.test(first)) {
          remotePid = Number(first);
          const rest = stderrHead.subarray(nl + 1);
          if (rest.length > 0) err.push(rest);
          if (killWanted) this.#killProcessGroup(client, remotePid);
        } else {
          err.push(stderrHead); // not our preamble (a non-POSIX login shell): keep all of it
        }
        stderrHead = undefined;
      });
      stream.on('exit', (code: number | null, signalName?: string) => {
        if (typeof code === 'number') exitCode = code;
        if (signalName) exitSignal = signalName.startsWith('SIG') ? signalName : `SIG${signalName}`;
      });
      // ssh2 repeats the exit status on 'close': under load the whole exchange (open, data,
      // exit-status, close) can arrive in one read, before the 'exit' listener is attached.
      stream.on('close', (code?: number | null, signalName?: string) => {
        if (exitCode === null && typeof code === 'number') exitCode = code;
        if (exitSignal === null && signalName) exitSignal = signalName.startsWith('SIG') ? signalName : `SIG${signalName}`;
        if (settled) return;
        if (this.#broken && exitCode === null && !timedOut && !aborted) {
          cleanup();
          reject(new CommandCutOffError(this.host, argv[0]!, this.#broken));
          return;
        }
        cleanup();
        if ((timedOut || aborted) && exitCode === null && exitSignal === null) exitSignal = 'SIGKILL';
        resolve({
          argv: [...argv],
          exitCode: timedOut || aborted ? null : exitCode,
          signal: exitSignal,
          stdout: out.text(),
          stderr: err.text(),
          stdoutBytes: out.bytes,
          stderrBytes: err.bytes,
          truncated: out.truncated || err.truncated,
          durationMs: Math.round(performance.now() - requested),
          sessionStartMs: Math.round((commandAt ?? performance.now()) - requested),
          timedOut,
          aborted,
        });
      });
      stream.on('error', () => {
        // surfaced through 'close' or the connection's error
      });
      if (input !== undefined) stream.end(toBuffer(input));
      else stream.end();
    });

    if (this.#isCommandNotFound(result)) throw new CommandNotFoundError(argv[0]!, this.host);
    if (become !== undefined && result.exitCode === 1) {
      // A rule narrower than the probe (some commands only) refuses here: never pass sudo's
      // refusal off as the command's exit 1 (for grep or exiqgrep that means "no match").
      if (SUDO_WRONG_PASSWORD.test(result.stderr)) throw new BecomeError(this.host, `sudo refused the become password for ${argv[0]}`);
      if (SUDO_NEEDS_PASSWORD.test(result.stderr)) throw new BecomeError(this.host, `sudo asks for a password to run ${argv[0]}: ${becomeHint(become)}`);
      const denied = /^Sorry, user .* is not allowed to execute .*$/m.exec(result.stderr);
      if (denied) throw new BecomeError(this.host, `sudo: ${denied[0]}`);
    }
    return result;
  }

  /**
   * Asks sudo once, right after login, whether it will run commands as configured: `sudo -n
   * -k true` tells whether a password is needed at all. When it is not, the configured
   * password is never sent: sudo would not read it and the command would get it on its stdin.
   * When it is, the password is tried once, so a wrong one fails here in one clear error
   * instead of sudo reading the commands' own input as further attempts.
   */
  async #checkBecome(client: SshClient, wanted: BecomeOptions): Promise<BecomeOptions> {
    const asUser = wanted.user !== undefined ? ['-u', wanted.user] : [];
    const probe = await this.#run(client, ['sudo', '-n', '-k', ...asUser, '--', 'true']);
    if (probe.code === null) throw this.#broken ?? new HostUnreachableError(this.host, 'the connection closed while checking sudo');
    if (probe.code === 0) return wanted.user !== undefined ? { user: wanted.user } : {};
    if (probe.code === 127 || /sudo: (command )?not found/.test(probe.stderr)) {
      throw new BecomeError(this.host, 'become needs sudo, which is not installed on this host (or not on the login user\'s PATH)');
    }
    if (/must have a tty/.test(probe.stderr)) {
      throw new BecomeError(this.host, "sudo requires a terminal for the login user ('requiretty' in sudoers); runbook runs commands without one: add 'Defaults:USER !requiretty'");
    }
    if (!SUDO_NEEDS_PASSWORD.test(probe.stderr)) {
      throw new BecomeError(this.host, `sudo refused to run commands${wanted.user !== undefined ? ` as ${wanted.user}` : ' as root'}: ${firstLine(probe.stderr) || `exit ${String(probe.code)}`}`);
    }
    if (wanted.password === undefined) throw new BecomeError(this.host, `sudo asks for a password (or has no rule for the login user): ${becomeHint(wanted)}`);
    const check = await this.#run(client, ['sudo', '-k', '-S', '-p', '', ...asUser, '--', 'true'], sudoPasswordLine(wanted.password));
    if (check.code === null) throw this.#broken ?? new HostUnreachableError(this.host, 'the connection closed while checking sudo');
    if (check.code === 0) return wanted;
    if (SUDO_WRONG_PASSWORD.test(check.stderr)) throw new BecomeError(this.host, 'sudo did not accept the become password (nothing was run); check the password for this host');
    throw new BecomeError(this.host, `sudo refused to run commands: ${firstLine(check.stderr.replace(/^Sorry, try again\.\n/m, '')) || `exit ${String(check.code)}`}`);
  }

  /**
   * One short command on the connection, for the checks made while connecting. Bounded by the
   * connect timeout: a host whose sudo hangs (a stuck PAM module) is reported, not waited on.
   */
  #run(client: SshClient, argv: string[], input?: Buffer): Promise<{ code: number | null; stderr: string }> {
    const timeoutMs = this.#options.connectTimeoutMs ?? 20_000;
    return new Promise((resolve, reject) => {
      client.exec(quoteArgvForPosixShell(argv), (error, channel) => {
        if (error) {
          reject(new HostUnreachableError(this.host, `could not start a command: ${error.message}`, { cause: error }));
          return;
        }
        const timer = setTimeout(() => {
          reject(new HostUnreachableError(this.host, `${argv[0]} did not answer within ${timeoutMs} ms while connecting`));
          channel.close();
        }, timeoutMs);
        let stderr = '';
        let code: number | null = null;
        channel.on('data', () => {});
        channel.stderr.on('data', (d: Buffer) => {
          if (stderr.length < 4096) stderr += d.toString('utf8');
        });
        channel.on('exit', (c: number | null) => {
          if (typeof c === 'number') code = c;
        });
        channel.on('close', (c?: number | null) => {
          clearTimeout(timer);
          if (code === null && typeof c === 'number') code = c;
          resolve({ code, stderr });
        });
        channel.on('error', () => {});
        channel.end(input);
      });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const clients = [...this.#clients].reverse();
    this.#clients = [];
    this.#connecting = undefined;
    await Promise.all(
      clients.map(
        (c) =>
          new Promise<void>((resolve) => {
            // A client whose connection already died never emits 'close' again: the timer is
            // what settles it, so it must keep the process alive until then (no unref).
            const timer = setTimeout(resolve, 2000);
            c.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            c.end();
          }),
      ),
    );
    this.#socket?.destroy();
  }

  /** A command channel closed: the next command waiting for one (MaxSessions) asks again. */
  #channelClosed(): void {
    this.#openChannels--;
    this.#closedChannels++;
    this.#channelFreed.shift()?.();
  }

  /** Kill a timed-out or aborted command's whole process group, over a second channel. */
  #killProcessGroup(client: SshClient, pid: number): void {
    const become = this.#become;
    const argv = becomeArgv(['kill', '-s', 'KILL', '--', `-${pid}`], become);
    try {
      client.exec(quoteArgvForPosixShell(argv), (error, channel) => {
        if (error) return;
        channel.on('data', () => {});
        channel.stderr.on('data', () => {});
        // sudo -S waits for its password on stdin here too.
        channel.end(become?.password !== undefined ? sudoPasswordLine(become.password) : undefined);
      });
    } catch {
      // the connection is gone, and the process with it
    }
  }

  #isCommandNotFound(result: ExecResult): boolean {
    if (result.exitCode === 127 && /not found/i.test(result.stderr)) return true;
    return (
      this.#become !== undefined &&
      result.exitCode === 1 &&
      /^sudo: .*: command not found/m.test(result.stderr)
    );
  }

  #notRun(argv: readonly string[], why: 'aborted'): ExecResult {
    return {
      argv: [...argv],
      exitCode: null,
      signal: null,
      stdout: '',
      stderr: '',
      stdoutBytes: 0,
      stderrBytes: 0,
      truncated: false,
      durationMs: 0,
      timedOut: false,
      aborted: why === 'aborted',
    };
  }

  #client(): Promise<SshClient> {
    if (this.#broken) return Promise.reject(this.#broken);
    // Asking sudo again would not change its answer, and repeated wrong passwords can lock the account.
    if (this.#becomeRefused) return Promise.reject(this.#becomeRefused);
    if (this.#closed) return Promise.reject(new HostUnreachableError(this.host, 'connection already closed'));
    this.#connecting ??= this.#open().catch((error: unknown) => {
      this.#connecting = undefined;
      if (error instanceof BecomeError) this.#becomeRefused = error;
      for (const c of this.#clients) c.end();
      this.#clients = [];
      this.#socket?.destroy();
      throw error;
    });
    return this.#connecting;
  }

  async #open(): Promise<SshClient> {
    const hops = await sshRoute(this.#options);
    this.#route = hops.map((h) => `${h.user}@${h.hostname}:${h.port}`);
    const timeout = this.#options.connectTimeoutMs ?? 20_000;
    const first = hops[0]!;
    const socket = await this.#tcp(first, timeout);
    this.#socket = socket;
    let sock: Duplex = socket;
    let client: SshClient | undefined;
    for (let i = 0; i < hops.length; i++) {
      const hop = hops[i]!;
      if (i > 0) sock = await this.#forward(client!, hop);
      client = await this.#handshake(hop, sock, timeout, i === hops.length - 1);
      this.#clients.push(client);
    }
    if (this.#options.become !== undefined) this.#become = await this.#checkBecome(client!, this.#options.become);
    return client!;
  }

  #tcp(hop: Hop, timeoutMs: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: hop.hostname, port: hop.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new HostUnreachableError(this.host, `${hop.label}: no TCP connection to ${hop.hostname}:${hop.port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        resolve(socket);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(
          new HostUnreachableError(
            this.host,
            `${hop.label}: cannot connect to ${hop.hostname}:${hop.port} (${error.code ?? error.message}). ` +
              'Check that the host is up, sshd listens on that port and no firewall blocks it.',
            { cause: error },
          ),
        );
      });
    });
  }

  #forward(via: SshClient, hop: Hop): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      via.forwardOut('127.0.0.1', 0, hop.hostname, hop.port, (error, channel) => {
        if (error) {
          reject(new HostUnreachableError(this.host, `jump host could not reach ${hop.hostname}:${hop.port}: ${error.message}`, { cause: error }));
        } else {
          resolve(channel);
        }
      });
    });
  }

  async #handshake(hop: Hop, sock: Duplex, timeoutMs: number, isTarget: boolean): Promise<SshClient> {
    const o = this.#options;
    const check = await prepareHostKeyCheck(
      {
        knownHostsFile: o.knownHostsFile ?? join(homedir(), '.ssh', 'known_hosts'),
        ...(o.globalKnownHostsFiles !== undefined ? { globalKnownHostsFiles: o.globalKnownHostsFiles } : {}),
        ...(o.acceptNewHostKeys !== undefined ? { acceptNewHostKeys: o.acceptNewHostKeys } : {}),
        ...(o.onHostKeyAccepted !== undefined ? { onHostKeyAccepted: o.onHostKeyAccepted } : {}),
      },
      hop.hostname,
      hop.port,
    );
    const tried: string[] = [];
    const client = new Client();
    return new Promise<SshClient>((resolve, reject) => {
      let ready = false;
      client.once('ready', () => {
        ready = true;
        resolve(client);
      });
      client.on('error', (error: Error & { level?: string }) => {
        if (!ready) {
          const rejected = check.failure();
          if (rejected) {
            reject(new HostUnreachableError(this.host, `${hop.label === this.host ? '' : `${hop.label}: `}${rejected.message}`, { cause: rejected }));
            return;
          }
          const auth = error.level === 'client-authentication';
          reject(
            new HostUnreachableError(
              this.host,
              auth
                ? `${hop.label}: authentication as ${hop.user} failed (tried: ${tried.join(', ') || 'nothing usable'}). ` +
                    'Load a key into ssh-agent, or set identity_file for this host.'
                : `${hop.label}: SSH handshake with ${hop.hostname}:${hop.port} failed: ${error.message}`,
              { cause: error },
            ),
          );
          return;
        }
        // Same wording as a plain close: which of the two arrives first when a host dies is a race.
        this.#markBroken(
          new HostUnreachableError(this.host, `connection to ${hop.hostname}:${hop.port} lost${isTarget ? '' : ' (jump host)'}: ${error.message}`, { cause: error }),
        );
      });
      client.on('close', () => {
        if (!ready) {
          reject(new HostUnreachableError(this.host, `${hop.label}: connection closed during the SSH handshake`));
          return;
        }
        if (!this.#closed) {
          this.#markBroken(
            new HostUnreachableError(this.host, `connection to ${hop.hostname}:${hop.port} lost${isTarget ? '' : ' (jump host)'}`),
          );
        }
      });
      client.connect({
        sock: sock as unknown as Socket,
        username: hop.user,
        readyTimeout: timeoutMs,
        keepaliveInterval: o.keepaliveIntervalMs ?? 15_000,
        keepaliveCountMax: 3,
        algorithms: { serverHostKey: check.algorithms as never },
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => check.verify(key, verify),
        authHandler: createAuthHandler(
          {
            username: hop.user,
            identityFiles: hop.identityFiles,
            ...(o.agentSocket !== undefined ? { agentSocket: o.agentSocket } : {}),
            ...(o.askPassphrase !== undefined ? { askPassphrase: o.askPassphrase } : {}),
          },
          tried,
        ),
      });
    });
  }

  #markBroken(error: HostUnreachableError): void {
    if (this.#broken) return;
    this.#broken = error;
    // Commands waiting for a channel ask now and get the connection's error.
    for (const retry of this.#channelFreed.splice(0)) retry();
    for (const fail of [...this.#pending]) fail(error);
    this.#pending.clear();
  }
}

export { HostKeyRejectedError };
