import { execa } from 'execa';
import { isSecret } from '../core/secret.js';
import {
  CommandNotFoundError,
  type ExecOptions,
  type ExecResult,
  type StdinInput,
  type Transport,
} from './types.js';
import { OutputCollector } from './output.js';

export const DEFAULT_MAX_OUTPUT_BYTES = 8 * 1024 * 1024;

export function stdinBytes(stdin: StdinInput | undefined): string | Uint8Array | undefined {
  if (stdin === undefined) return undefined;
  return isSecret(stdin) ? stdin.reveal() : stdin;
}

/** Runs argv on this machine with execa: no shell, ever. */
export class LocalTransport implements Transport {
  readonly kind = 'local' as const;
  readonly host: string;
  readonly #env: Record<string, string> | undefined;

  constructor(options: { host?: string; env?: Record<string, string> } = {}) {
    this.host = options.host ?? 'localhost';
    this.#env = options.env;
  }

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const [file, ...args] = argv;
    if (file === undefined || file === '') throw new Error('exec: empty argv');
    const started = performance.now();
    const out = new OutputCollector(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES, options.onStdout);
    const err = new OutputCollector(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES);
    const input = stdinBytes(options.stdin);
    const child = execa(file, args, {
      shell: false,
      reject: false,
      buffer: false,
      stripFinalNewline: false,
      ...(input !== undefined ? { input } : { stdin: 'ignore' as const }),
      ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
      ...(options.signal !== undefined ? { cancelSignal: options.signal } : {}),
      ...(this.#env !== undefined ? { env: this.#env, extendEnv: true } : {}),
      forceKillAfterDelay: 2000,
    });
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
    const result = await child;
    const failure = result as unknown as { code?: string; cause?: { code?: string } };
    if (failure.code === 'ENOENT' || failure.cause?.code === 'ENOENT') {
      throw new CommandNotFoundError(file, this.host);
    }
    return {
      argv: [...argv],
      exitCode: result.exitCode ?? null,
      signal: result.signal ?? null,
      stdout: out.text(),
      stderr: err.text(),
      stdoutBytes: out.bytes,
      stderrBytes: err.bytes,
      truncated: out.truncated || err.truncated,
      durationMs: Math.round(performance.now() - started),
      timedOut: result.timedOut === true,
      aborted: result.isCanceled === true,
    };
  }

  async close(): Promise<void> {}
}
