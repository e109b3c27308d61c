import type { Secret } from '../core/secret.js';

/** What a command may read on stdin. A Secret is revealed only inside the transport. */
export type StdinInput = string | Uint8Array | Secret;

export interface ExecOptions {
  stdin?: StdinInput;
  /** Kill the command after this many milliseconds. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * How much of stdout/stderr to keep in the result (each). Output past this is still read
   * (and streamed to onStdout) but not retained; `truncated` says so. Default 8 MiB.
   */
  maxOutputBytes?: number;
  /** Receives stdout as it arrives, for large outputs that must not be buffered. */
  onStdout?: (chunk: Buffer) => void;
}

export interface ExecResult {
  argv: readonly string[];
  /** null when the process was killed by a signal or never started. */
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  stdoutBytes: number;
  stderrBytes: number;
  truncated: boolean;
  durationMs: number;
  /**
   * Of durationMs, how long the command waited to start on the host (channel open, login
   * shell, PAM session), when the transport measures it. timeoutMs counts only the rest.
   */
  sessionStartMs?: number;
  timedOut: boolean;
  aborted: boolean;
}

/**
 * One way to run argv on one host. Implementations never involve a local shell; the SSH
 * transport turns argv into the remote command string through a single quoting function.
 */
export interface Transport {
  readonly kind: 'local' | 'ssh';
  /** Host name as the operator knows it (inventory name). */
  readonly host: string;
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  close(): Promise<void>;
}

/** The program in argv[0] does not exist on the host. */
export class CommandNotFoundError extends Error {
  readonly program: string;
  readonly host: string;
  constructor(program: string, host: string) {
    super(
      `${program}: command not found on ${host}. Install it, or point runbook at it with a ` +
        `tool-path override for this host (see 'runbook --help' and the inventory 'tools:' map).`,
    );
    this.name = 'CommandNotFoundError';
    this.program = program;
    this.host = host;
  }
}

/** The host cannot be reached or the connection broke. */
export class HostUnreachableError extends Error {
  readonly host: string;
  constructor(host: string, message: string, options?: { cause?: unknown }) {
    super(`${host}: ${message}`, options);
    this.name = 'HostUnreachableError';
    this.host = host;
  }
}

/**
 * The connection broke after the host had started the command: it may have run in whole, in
 * part or not at all, and its exit status will never come. Still a HostUnreachableError (the
 * host is gone), but not to be recorded as a command that did not start.
 */
export class CommandCutOffError extends HostUnreachableError {
  readonly program: string;
  constructor(host: string, program: string, lost: HostUnreachableError) {
    const why = lost.message.startsWith(`${host}: `) ? lost.message.slice(host.length + 2) : lost.message;
    super(host, `${why} while ${program} ran: its result is unknown (it may have run in whole or in part)`, { cause: lost });
    this.program = program;
  }
}
