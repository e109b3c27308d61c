import { createHash } from 'node:crypto';
import { AuditWriteError, type AuditWriter } from '../audit/writer.js';
import type { AuditRecord, NewRecord, OutputDigest } from '../audit/records.js';
import { isSecret, scrubSecrets } from '../core/secret.js';
import { safeLine } from '../core/text.js';
import type { StdinInput, ExecResult } from '../transport/types.js';

const EXCERPT_BYTES = 2048;
/** How a command.result's error begins when the connection broke while the command ran. */
export const RESULT_UNKNOWN = 'result unknown';

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

/** A command as the operator reads it in an error: quoted where needed, long argv shortened. */
function showCommand(argv: readonly string[]): string {
  // Arguments come from the host (paths a spammer named): quoted, and made terminal-safe.
  const words = argv.slice(0, 4).map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : safeLine(JSON.stringify(a))));
  return `\`${words.join(' ')}${argv.length > 4 ? ` …(${argv.length - 4} more args)` : ''}\``;
}

function listed(items: string[], limit = 8): string {
  return items.length <= limit ? items.join('; ') : `${items.slice(0, limit).join('; ')}; and ${items.length - limit} more (see the log)`;
}

/**
 * The engine's only way into the audit log. A dry-run without a log file still goes through
 * here (with no writer) so behaviour is the same.
 *
 * Once a record cannot be written, every later record fails with the same error, which says
 * what the run had and had not done by then: which changing commands ran (their intent and
 * result are in the log), which had started without a result on record, and which one was
 * stopped before it started.
 */
export class Recorder {
  readonly writer: AuditWriter | undefined;
  #failure: AuditWriteError | undefined;
  /** Changing commands whose intent and result are both on record. */
  readonly #ran: string[] = [];
  /** Changing commands whose intent is on record but not (yet) their result. */
  readonly #started = new Map<string, string[]>();
  /** Per host and step: the changing commands that ran and exited 0 (intent and result on record). */
  readonly #ranByStep = new Map<string, string[]>();

  constructor(writer: AuditWriter | undefined) {
    this.writer = writer;
  }

  /** Set once the log could not be written: the run must stop. */
  get failure(): AuditWriteError | undefined {
    return this.#failure;
  }

  /** `seal` signs the record as written (see AuditWriter.append). */
  record(record: NewRecord, seal?: (written: AuditRecord) => unknown): void {
    this.#write(record, false, seal);
  }

  /** On disk (fsync) before returning: used before every mutating command. */
  durable(record: NewRecord): void {
    this.#write(record, true);
  }

  #write(record: NewRecord, durable: boolean, seal?: (written: AuditRecord) => unknown): void {
    if (this.#failure) throw this.#failure;
    try {
      if (durable) this.writer?.appendDurable(record);
      else this.writer?.append(record, seal);
    } catch (error) {
      if (!(error instanceof AuditWriteError) || this.writer === undefined) throw error;
      this.#failure = new AuditWriteError(this.writer.path, error.reason, this.#consequence(record));
      throw this.#failure;
    }
    this.#track(record);
  }

  #track(record: NewRecord): void {
    if (record.type === 'command.intent' && record.mutates) {
      this.#started.set(`${record.host}\u0000${record.step}`, [...record.argv]);
    } else if (record.type === 'command.result') {
      const key = `${record.host}\u0000${record.step}`;
      const argv = this.#started.get(key);
      if (argv === undefined) return;
      this.#started.delete(key);
      const how = record.error?.startsWith(RESULT_UNKNOWN) === true ? 'result unknown: it may have run' : record.error !== undefined ? 'failed to start' : record.exitCode === 0 ? 'exit 0' : `exit ${record.exitCode ?? record.signal ?? '?'}`;
      this.#ran.push(`${record.host}: ${showCommand(argv)} (${how})`);
      if (record.error === undefined && record.exitCode === 0) this.#ranByStep.set(key, [...(this.#ranByStep.get(key) ?? []), `${showCommand(argv)} (${how})`]);
    }
  }

  /** The changing commands a step has run on a host so far that exited 0 (intent and result on record). */
  changingCommandsRun(host: string, step: string): readonly string[] {
    return this.#ranByStep.get(`${host}\u0000${step}`) ?? [];
  }

  /** What the failure to write `record` meant for the run, in the operator's terms. */
  #consequence(record: NewRecord): string {
    const parts: string[] = [];
    if (record.type === 'command.intent') {
      parts.push(`Stopped before running ${showCommand(record.argv)} on ${record.host}: it did not run, and no command ran after it.`);
    } else {
      parts.push('The run stopped here: no command ran after this.');
    }
    const started = [...this.#started.entries()].map(([key, argv]) => `${key.split('\u0000')[0]}: ${showCommand(argv)}`);
    if (this.#ran.length === 0 && started.length === 0) parts.push('No changing command had run before: nothing was changed.');
    if (this.#ran.length > 0) parts.push(`Changing commands that ran before (their records are in the log): ${listed(this.#ran)}.`);
    if (started.length > 0) parts.push(`Started, but their result is not in the log (check these on the host): ${listed(started)}.`);
    parts.push('Free space for the audit log (or fix its disk) and check `runbook audit verify` on it before running again.');
    return parts.join(' ');
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
