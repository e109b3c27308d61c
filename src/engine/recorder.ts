import { createHash } from 'node:crypto';
import type { AuditWriter } from '../audit/writer.js';
import type { NewRecord, OutputDigest } from '../audit/records.js';
import { isSecret, scrubSecrets } from '../core/secret.js';
import type { StdinInput, ExecResult } from '../transport/types.js';

const EXCERPT_BYTES = 2048;

export function digestOutput(text: string, totalBytes: number, truncated: boolean): OutputDigest {
  // Compressed scanner output is not text: keep its hash and size, not mojibake.
  if (text.includes('\u0000') || text.includes('\ufffd')) {
    return { bytes: totalBytes, sha256: createHash('sha256').update(text).digest('hex'), excerpt: `[binary output, ${totalBytes} bytes]`, truncated };
  }
  const scrubbed = scrubSecrets(text);
  const excerpt = scrubbed.length > EXCERPT_BYTES ? scrubbed.slice(0, EXCERPT_BYTES) : scrubbed;
  return {
    bytes: totalBytes,
    sha256: createHash('sha256').update(text).digest('hex'),
    excerpt,
    truncated: truncated || excerpt.length < scrubbed.length,
  };
}

export function describeStdin(stdin: StdinInput | undefined): string {
  if (stdin === undefined) return 'none';
  if (isSecret(stdin)) return '[redacted]';
  return `${typeof stdin === 'string' ? Buffer.byteLength(stdin) : stdin.byteLength} bytes`;
}

/**
 * The engine's only way into the audit log. A dry-run without a log file still goes through
 * here (with no writer) so behaviour is the same.
 */
export class Recorder {
  readonly writer: AuditWriter | undefined;

  constructor(writer: AuditWriter | undefined) {
    this.writer = writer;
  }

  record(record: NewRecord): void {
    this.writer?.append(record);
  }

  /** On disk (fsync) before returning: used before every mutating command. */
  durable(record: NewRecord): void {
    this.writer?.appendDurable(record);
  }

  /**
   * `stdin`: what the command was fed (its sha256 is recorded, a secret only as redacted);
   * `reusedFrom`: the result is that of the identical read this step ran earlier (not run again).
   */
  commandResult(host: string, step: string, result: ExecResult, extra: { error?: string; reusedFrom?: string; stdin?: StdinInput } = {}): void {
    const { error, reusedFrom, stdin } = extra;
    this.record({
      type: 'command.result',
      host,
      step,
      argv: [...result.argv],
      exitCode: result.exitCode,
      signal: result.signal,
      durationMs: result.durationMs,
      timedOut: result.timedOut,
      stdout: digestOutput(result.stdout, result.stdoutBytes, result.truncated),
      stderr: digestOutput(result.stderr, result.stderrBytes, result.truncated),
      ...(error !== undefined ? { error } : {}),
      ...(reusedFrom !== undefined ? { reusedFrom } : {}),
      ...(stdin !== undefined && !isSecret(stdin) ? { stdinSha256: createHash('sha256').update(stdin).digest('hex') } : {}),
    });
  }
}
