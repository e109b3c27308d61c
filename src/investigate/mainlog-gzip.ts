/**
 * Gzip-compressed main logs (logrotate's `exim_mainlog-20261115.gz`, `exim_mainlog.1.gz`):
 * recognised by their magic bytes, never by name (a copy may be renamed), and read as a
 * stream of decompressed chunks so that memory stays bounded whatever the file size.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { crc32, createInflateRaw } from 'node:zlib';

/** gzip files start with 1f 8b (RFC 1952). */
export function hasGzipMagic(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Whether the file at `path` is gzip data (by content). Throws when it cannot be opened. */
export async function isGzipFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return hasGzipMagic(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

/** A gzip file that cannot be decompressed; the message names the file. */
export class GzipDataError extends Error {
  readonly path: string;
  constructor(path: string, cause: Error) {
    super(`${path}: corrupt or truncated gzip data (${cause.message})`);
    this.name = 'GzipDataError';
    this.path = path;
  }
}

export interface GunzipOptions {
  signal?: AbortSignal;
  /** Compressed bytes read per chunk (default 256 KiB). */
  readBytes?: number;
  /**
   * Bytes after the last gzip member that are no gzip data (trailing garbage: a copy padded or
   * appended to by hand): they are not read, and this says how many. Zero padding is ignored,
   * as gzip(1) ignores it.
   */
  onTrailingGarbage?: (bytes: number) => void;
}

const FHCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;

/** Reads a file at positions, a chunk at a time. */
class PositionedReader {
  readonly #fh: FileHandle;
  readonly #size: number;
  readonly #chunk: number;
  constructor(fh: FileHandle, size: number, chunk: number) {
    this.#fh = fh;
    this.#size = size;
    this.#chunk = chunk;
  }
  get size(): number {
    return this.#size;
  }
  /** Up to `n` bytes at `pos` (fewer at the end of the file). */
  async read(pos: number, n: number = this.#chunk): Promise<Buffer> {
    const want = Math.max(0, Math.min(n, this.#size - pos));
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.#fh.read(buf, got, want - got, pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  }
}

/** The length of the gzip member header at `pos` (RFC 1952), or an error saying why it is none. */
async function headerLength(file: PositionedReader, pos: number): Promise<number> {
  const fixed = await file.read(pos, 10);
  if (fixed.length < 10) throw new Error('unexpected end of file');
  if (fixed[2] !== 8) throw new Error('unknown compression method');
  const flags = fixed[3]!;
  let at = pos + 10;
  if (flags & FEXTRA) {
    const xlen = await file.read(at, 2);
    if (xlen.length < 2) throw new Error('unexpected end of file');
    at += 2 + xlen.readUInt16LE(0);
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if (!(flags & flag)) continue;
    // A zero-terminated string.
    for (;;) {
      const part = await file.read(at, 4096);
      if (part.length === 0) throw new Error('unexpected end of file');
      const nul = part.indexOf(0);
      if (nul >= 0) {
        at += nul + 1;
        break;
      }
      at += part.length;
    }
  }
  if (flags & FHCRC) at += 2;
  if (at > file.size) throw new Error('unexpected end of file');
  return at - pos;
}

/** Whether every byte of the file from `pos` is zero (padding). */
async function zerosFrom(file: PositionedReader, pos: number): Promise<boolean> {
  for (let at = pos; at < file.size; ) {
    const part = await file.read(at);
    if (part.some((b) => b !== 0)) return false;
    at += part.length;
  }
  return true;
}

/**
 * The decompressed content of a gzip file, chunk by chunk (several gzip members are read one
 * after the other, as `zcat` does). Stop early by leaving the loop: the file is closed. Members
 * are framed here (header, raw deflate data, CRC-32 and size checked) so that where the gzip data
 * ends is known: bytes after it that are no further member are reported (onTrailingGarbage)
 * rather than failing the file, as the native counter and perl read it.
 */
export async function* gunzipChunks(path: string, options: GunzipOptions = {}): AsyncGenerator<Buffer> {
  // Opening first makes a missing or unreadable file an ordinary open error naming the path.
  const fh = await open(path, 'r');
  try {
    const file = new PositionedReader(fh, (await fh.stat()).size, options.readBytes ?? 256 * 1024);
    let pos = 0;
    for (let member = 0; ; member++) {
      const magic = await file.read(pos, 2);
      if (member > 0 && magic.length === 0) return;
      if (member > 0 && !hasGzipMagic(magic)) {
        if (!(await zerosFrom(file, pos))) options.onTrailingGarbage?.(file.size - pos);
        return;
      }
      let dataStart: number;
      try {
        if (!hasGzipMagic(magic)) throw new Error('incorrect header check');
        dataStart = pos + (await headerLength(file, pos));
      } catch (err) {
        throw new GzipDataError(path, err as Error);
      }
      const { consumed, crc, size } = yield* inflateMember(file, dataStart, path, options.signal);
      const trailer = await file.read(dataStart + consumed, 8);
      if (trailer.length < 8) throw new GzipDataError(path, new Error('unexpected end of file'));
      if (trailer.readUInt32LE(0) !== crc) throw new GzipDataError(path, new Error('incorrect data check'));
      if (trailer.readUInt32LE(4) !== size % 2 ** 32) throw new GzipDataError(path, new Error('incorrect length check'));
      pos = dataStart + consumed + 8;
    }
  } finally {
    await fh.close().catch(() => {});
  }
}

/** One member's deflate data from `start`: its content, then how many compressed bytes it took. */
async function* inflateMember(file: PositionedReader, start: number, path: string, signal?: AbortSignal): AsyncGenerator<Buffer, { consumed: number; crc: number; size: number }> {
  const inflate = createInflateRaw({ chunkSize: 64 * 1024 });
  let ended = false;
  let failed: Error | null = null;
  let crc = 0;
  let size = 0;
  const chunks: Buffer[] = [];
  let wake: (() => void) | null = null;
  const poke = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  inflate.on('data', (c: Buffer) => {
    chunks.push(c);
    // Bounded memory: the inflater waits while the reader has not taken what it made.
    if (chunks.length >= 8) inflate.pause();
    poke();
  });
  inflate.on('end', () => {
    ended = true;
    poke();
  });
  inflate.on('error', (e) => {
    failed = e;
    poke();
  });
  let at = start;
  let fed = false;
  try {
    while (true) {
      signal?.throwIfAborted();
      while (chunks.length > 0) {
        const c = chunks.shift()!;
        crc = crc32(c, crc);
        size += c.length;
        yield c;
      }
      if (inflate.isPaused()) inflate.resume();
      if (failed !== null) throw new GzipDataError(path, failed);
      if (ended) break;
      if (!fed && inflate.writableLength === 0) {
        const part = await file.read(at);
        at += part.length;
        if (part.length === 0) {
          // No more input and the deflate data has not ended: the file was cut short.
          fed = true;
          inflate.end();
        } else {
          // Woken when the part is taken, whether or not it made output.
          inflate.write(part, () => poke());
        }
        continue;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (chunks.length > 0 || ended || failed !== null || (!fed && inflate.writableLength === 0)) poke();
      });
    }
  } finally {
    inflate.destroy();
  }
  return { consumed: inflate.bytesWritten, crc, size };
}
