/**
 * Gzip-compressed main logs (logrotate's `exim_mainlog-20261115.gz`, `exim_mainlog.1.gz`):
 * recognised by their magic bytes, never by name (a copy may be renamed), and read as a
 * stream of decompressed chunks so that memory stays bounded whatever the file size.
 */
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';

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
}

/**
 * The decompressed content of a gzip file, chunk by chunk (several gzip members are read one
 * after the other, as `zcat` does). Stop early by leaving the loop: the file is closed.
 */
export async function* gunzipChunks(path: string, options: GunzipOptions = {}): AsyncGenerator<Buffer> {
  // Opening first makes a missing or unreadable file an ordinary open error naming the path.
  const fh = await open(path, 'r');
  const source = fh.createReadStream({ highWaterMark: options.readBytes ?? 256 * 1024 });
  const gunzip = createGunzip({ chunkSize: 64 * 1024 });
  let readError: Error | null = null;
  source.on('error', (err) => {
    readError = err;
    gunzip.destroy(err);
  });
  source.pipe(gunzip);
  try {
    for await (const chunk of gunzip) {
      options.signal?.throwIfAborted();
      yield chunk as Buffer;
    }
  } catch (err) {
    if (readError !== null || options.signal?.aborted === true) throw err;
    throw new GzipDataError(path, err as Error);
  } finally {
    source.unpipe(gunzip);
    gunzip.destroy();
    source.destroy();
    await fh.close().catch(() => {});
  }
}
