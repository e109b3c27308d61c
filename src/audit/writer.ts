import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type Logger } from 'pino';
import { ensureDirectory } from '../core/ensure-dir.js';
import { redactDeep } from '../core/secret.js';
import { GENESIS_HASH, type AuditRecord, type NewRecord } from './records.js';

export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The audit log cannot be written: no mutation may proceed. `consequence` says what that meant
 * for the run; the default holds where the writer is used directly (nothing is run after a
 * record that failed to write).
 */
export class AuditWriteError extends Error {
  readonly path: string;
  readonly reason: string;

  constructor(path: string, cause: unknown, consequence = 'Nothing was run after this record; fix the path or disk and run again.') {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`cannot write the audit log ${path}: ${reason}. ${consequence}`, { cause });
    this.name = 'AuditWriteError';
    this.path = path;
    this.reason = reason;
  }
}

/** A write that stopped part-way (a full disk): the file now ends with a torn line. */
class ShortWriteError extends Error {
  constructor(written: number, wanted: number, options?: { cause: unknown }) {
    const why = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`only ${written} of ${wanted} bytes of the record were written${why}; the log now ends with an incomplete record`, options);
    this.name = 'ShortWriteError';
  }
}

/**
 * pino destination that appends each serialized line to the file with a synchronous write and
 * remembers the hash of the last line, which becomes the next record's `prev`.
 */
class ChainedFileDestination {
  readonly #fd: number;
  lastHash = GENESIS_HASH;
  failure: unknown = undefined;

  constructor(fd: number) {
    this.#fd = fd;
  }

  write(line: string): void {
    // After a failed write the file may end mid-record: nothing more is appended to it.
    if (this.failure !== undefined) return;
    try {
      const body = line.endsWith('\n') ? line.slice(0, -1) : line;
      const bytes = Buffer.from(body + '\n', 'utf8');
      let written = 0;
      while (written < bytes.length) {
        let n: number;
        try {
          n = writeSync(this.#fd, bytes, written, bytes.length - written);
        } catch (error) {
          if (written > 0) throw new ShortWriteError(written, bytes.length, { cause: error });
          throw error;
        }
        // A short count is legal for write(2): retry the rest; no progress at all means no space.
        if (n === 0) throw new ShortWriteError(written, bytes.length);
        written += n;
      }
      this.lastHash = sha256Hex(body);
    } catch (error) {
      this.failure = error;
    }
  }

  fsync(): void {
    fsyncSync(this.#fd);
  }

  close(): void {
    closeSync(this.#fd);
  }
}

/**
 * Append-only, hash-chained JSONL audit log, one file per run, written through pino.
 * `append` is synchronous; `appendDurable` also fsyncs (the write-ahead intent records).
 */
export class AuditWriter {
  readonly path: string;
  readonly #dest: ChainedFileDestination;
  readonly #logger: Logger<'audit'>;
  #seq = 0;
  #closed = false;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.#dest = new ChainedFileDestination(fd);
    this.#logger = pino(
      {
        // Every record is written at one custom level so pino stamps `"level":"audit"` and
        // nothing else of its own (no pid, hostname or time: the record carries `ts`).
        customLevels: { audit: 35 },
        useOnlyCustomLevels: true,
        level: 'audit',
        base: null,
        timestamp: false,
        formatters: { level: (label) => ({ level: label }) },
      },
      this.#dest,
    );
  }

  /** Creates the file (and its directory); refuses to overwrite an existing log. */
  static create(path: string): AuditWriter {
    try {
      // Not a recursive mkdir: that never returns for a directory under /proc.
      ensureDirectory(dirname(path), 0o700);
    } catch (error) {
      throw new AuditWriteError(path, new Error(`${(error as Error).message}; choose a writable directory on a normal disk for the audit log (--audit-dir)`, { cause: error }));
    }
    try {
      const fd = openSync(path, 'wx', 0o600);
      return new AuditWriter(path, fd);
    } catch (error) {
      throw new AuditWriteError(path, error);
    }
  }

  get head(): string {
    return this.#dest.lastHash;
  }

  /**
   * `seal` signs the record as it will be written (stamped, with pino's `level`); its result
   * becomes the record's `signature`.
   */
  append<R extends NewRecord>(record: R, seal?: (written: AuditRecord) => unknown): AuditRecord {
    if (this.#closed) throw new AuditWriteError(this.path, new Error('log already closed'));
    if (this.#dest.failure !== undefined) throw new AuditWriteError(this.path, this.#dest.failure);
    const stamped = {
      seq: this.#seq,
      ts: new Date().toISOString(),
      prev: this.#dest.lastHash,
      ...(redactDeep(record) as object),
    } as AuditRecord;
    if (seal) Object.assign(stamped, { signature: seal({ level: 'audit', ...stamped }) });
    this.#logger.audit(stamped);
    if (this.#dest.failure !== undefined) throw new AuditWriteError(this.path, this.#dest.failure);
    this.#seq += 1;
    return stamped;
  }

  /** Append and fsync: the record is on disk when this returns. */
  appendDurable<R extends NewRecord>(record: R): AuditRecord {
    const written = this.append(record);
    try {
      this.#dest.fsync();
    } catch (error) {
      // After a failed fsync the kernel may have dropped the data: trust nothing more to this file.
      this.#dest.failure = error;
      throw new AuditWriteError(this.path, error);
    }
    return written;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#dest.fsync();
    } finally {
      this.#dest.close();
    }
  }
}
