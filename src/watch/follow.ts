/**
 * Follows one log file as it grows, through rotation and restarts, handing over complete lines
 * with the position after them. A position is the file's device and inode, the byte offset
 * read up to, and a hash of the file's first bytes (up to HEAD_BYTES): the inode tells a
 * renamed file from its replacement, the hash tells a truncated or rewritten file from the one
 * read before (copytruncate keeps the inode).
 *
 * Rotation by rename: the old file is read to its end (through the descriptor held open, or
 * found again among its siblings by inode after a restart) before the new one is started, so
 * nothing written before the rename is lost. Copytruncate: the copy (a sibling whose first
 * bytes hash the same) holds what was written after the last read; it is read from the saved
 * offset before the truncated file is started again. When the rest cannot be found (already
 * compressed or deleted), a `gap` says how many bytes at least were not read. Only complete
 * lines are handed over: a line still being written is read when its newline arrives.
 */
import { createHash } from 'node:crypto';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export const HEAD_BYTES = 1024;
const CHUNK = 1024 * 1024;

export interface FilePosition {
  dev: number;
  ino: number;
  offset: number;
  /** sha256 (hex) of the first `headLength` bytes. */
  head: string;
  headLength: number;
}

/** Something the operator should know about: where reading moved, and what could not be read. */
export type FollowNotice =
  | { type: 'rotated'; file: string; how: 'renamed' | 'truncated' | 'replaced'; restFrom: string | null; restBytes: number }
  | { type: 'gap'; file: string; bytes: number; reason: string };

/** Complete lines, the position after them, and the file they came from (the log or a rotated sibling). */
export type LineConsumer = (lines: string[], position: FilePosition, from: string) => void | Promise<void>;

function hashHead(buf: Buffer, length: number): string {
  return createHash('sha256').update(buf.subarray(0, length)).digest('hex');
}

async function readHead(fh: FileHandle, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/** Whether the file open as `fh` starts with the bytes `pos` hashed. */
async function sameHead(fh: FileHandle, pos: FilePosition): Promise<boolean> {
  if (pos.headLength === 0) return true;
  const head = await readHead(fh, pos.headLength);
  return head.length === pos.headLength && hashHead(head, head.length) === pos.head;
}

export class LogFollower {
  readonly path: string;
  #fh: FileHandle | null = null;
  #pos: FilePosition | null;
  /** First bytes read so far of the current file (to extend the head hash up to HEAD_BYTES). */
  #headBuf: Buffer = Buffer.alloc(0);
  #buf = Buffer.alloc(CHUNK);
  readonly #notice: (n: FollowNotice) => void;
  /** Where to start a file the watcher has never read: its end (like tail -F) or its beginning. */
  readonly #startAt: 'end' | 'beginning';

  constructor(path: string, position: FilePosition | null, options: { startAt: 'end' | 'beginning'; notice: (n: FollowNotice) => void }) {
    this.path = path;
    this.#pos = position;
    this.#startAt = options.startAt;
    this.#notice = options.notice;
  }

  get position(): FilePosition | null {
    return this.#pos;
  }

  async close(): Promise<void> {
    await this.#fh?.close();
    this.#fh = null;
  }

  /** Reads everything written so far, rotation included, handing complete lines to `consume`. */
  async drain(consume: LineConsumer): Promise<void> {
    for (let round = 0; round < 8; round++) {
      if (this.#fh === null && !(await this.#openCurrent(consume))) return;
      const fh = this.#fh!;
      const st = await fh.stat();
      const pos = this.#pos!;
      if (st.size < pos.offset || !(await sameHead(fh, pos))) {
        // Same inode, shorter or rewritten: copytruncate (or a truncation by hand).
        const rest = await this.#readRestFromCopy(pos, consume);
        if (rest !== null) this.#notice({ type: 'rotated', file: this.path, how: 'truncated', restFrom: rest.file, restBytes: rest.bytes });
        else this.#notice({ type: 'gap', file: this.path, bytes: 0, reason: `${basename(this.path)} was truncated in place and no uncompressed copy starting like it is beside it: lines written after offset ${pos.offset} before the truncation are not read` });
        this.#startFile(st.dev, st.ino);
      }
      await this.#readToEnd(fh, consume, this.path, false);
      // Renamed away and replaced? Then what is left of the old file was just read.
      const now = await stat(this.path).catch(() => null);
      if (now === null || (now.ino === st.ino && now.dev === st.dev)) return;
      await this.#readToEnd(fh, consume, this.path, true);
      await fh.close();
      this.#fh = null;
      this.#notice({ type: 'rotated', file: this.path, how: 'renamed', restFrom: null, restBytes: 0 });
      this.#pos = null;
    }
  }

  #startFile(dev: number, ino: number): void {
    this.#pos = { dev, ino, offset: 0, head: hashHead(Buffer.alloc(0), 0), headLength: 0 };
    this.#headBuf = Buffer.alloc(0);
  }

  /** Opens the log for the first time (or after a rotation); false when it does not exist yet. */
  async #openCurrent(consume: LineConsumer): Promise<boolean> {
    let fh: FileHandle;
    try {
      fh = await open(this.path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      // A log that appears later is read from its first line.
      this.#startedOnce = true;
      return false;
    }
    const st = await fh.stat();
    const saved = this.#pos;
    this.#fh = fh;
    if (saved === null) {
      // Never read: a fresh watcher starts where it is told; after a rotation, at the start.
      this.#startFile(st.dev, st.ino);
      if (this.#startAt === 'end' && !this.#startedOnce) {
        this.#pos!.offset = await this.#lastNewlineBefore(fh, st.size);
        this.#headBuf = await readHead(fh, Math.min(HEAD_BYTES, this.#pos!.offset));
        this.#pos!.headLength = this.#headBuf.length;
        this.#pos!.head = hashHead(this.#headBuf, this.#headBuf.length);
      }
      this.#startedOnce = true;
      return true;
    }
    this.#startedOnce = true;
    if (saved.ino === st.ino && saved.dev === st.dev) {
      this.#headBuf = await readHead(fh, saved.headLength);
      return true;
    }
    // The saved file was rotated while the watcher was away: read its rest first.
    const old = await this.#findSibling((s) => s.ino === saved.ino && s.dev === saved.dev, saved);
    if (old !== null) {
      const bytes = await this.#readRest(old, saved, consume);
      this.#notice({ type: 'rotated', file: this.path, how: 'renamed', restFrom: old, restBytes: bytes });
    } else {
      this.#notice({ type: 'gap', file: this.path, bytes: 0, reason: `the file read before (inode ${saved.ino}) was rotated away and is no longer beside ${basename(this.path)} uncompressed: what was written to it after offset ${saved.offset} is not read` });
    }
    this.#startFile(st.dev, st.ino);
    return true;
  }

  #startedOnce = false;

  async #lastNewlineBefore(fh: FileHandle, size: number): Promise<number> {
    let end = size;
    const buf = Buffer.alloc(4096);
    while (end > 0) {
      const start = Math.max(0, end - buf.length);
      const { bytesRead } = await fh.read(buf, 0, end - start, start);
      const nl = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (nl >= 0) return start + nl + 1;
      end = start;
    }
    return 0;
  }

  /** A sibling of the log (`exim_mainlog.1`, `exim_mainlog-20261207`) matching `test` and starting with the saved head. */
  async #findSibling(test: (s: { ino: number; dev: number; size: number }) => boolean, saved: FilePosition): Promise<string | null> {
    const dir = dirname(this.path);
    const name = basename(this.path);
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch {
      return null;
    }
    for (const entry of entries.filter((e) => e !== name && e.startsWith(name)).sort()) {
      const full = join(dir, entry);
      const s = await stat(full).catch(() => null);
      if (s === null || !s.isFile() || !test(s)) continue;
      const fh = await open(full, 'r').catch(() => null);
      if (fh === null) continue;
      try {
        if (await sameHead(fh, saved)) return full;
      } finally {
        await fh.close();
      }
    }
    return null;
  }

  /** After a truncation: the copy holding what was written between the last read and the copy. */
  async #readRestFromCopy(saved: FilePosition, consume: LineConsumer): Promise<{ file: string; bytes: number } | null> {
    const copy = await this.#findSibling((s) => !(s.ino === saved.ino && s.dev === saved.dev) && s.size >= saved.offset, saved);
    if (copy === null) return null;
    return { file: copy, bytes: await this.#readRest(copy, saved, consume) };
  }

  /** Reads `file` from the saved offset to its end (the file is finished: a last line without newline counts). */
  async #readRest(file: string, saved: FilePosition, consume: LineConsumer): Promise<number> {
    const fh = await open(file, 'r');
    try {
      this.#pos = { ...saved };
      this.#headBuf = await readHead(fh, saved.headLength);
      const before = saved.offset;
      await this.#readToEnd(fh, consume, file, true);
      return this.#pos.offset - before;
    } finally {
      await fh.close();
    }
  }

  /** Reads from the position to the end of `fh`; `final`: the file gets no more lines. */
  async #readToEnd(fh: FileHandle, consume: LineConsumer, from: string, final: boolean): Promise<void> {
    let carry = 0;
    for (;;) {
      const pos = this.#pos!;
      if (carry === this.#buf.length) {
        const bigger = Buffer.alloc(this.#buf.length * 2);
        this.#buf.copy(bigger, 0, 0, carry);
        this.#buf = bigger;
      }
      const { bytesRead } = await fh.read(this.#buf, carry, this.#buf.length - carry, pos.offset + carry);
      const filled = carry + bytesRead;
      if (bytesRead === 0) {
        if (final && filled > 0) await this.#hand(this.#buf, filled, filled, consume, from);
        return;
      }
      const last = this.#buf.lastIndexOf(0x0a, filled - 1);
      if (last < 0) {
        carry = filled;
        continue;
      }
      await this.#hand(this.#buf, last + 1, last, consume, from);
      this.#buf.copy(this.#buf, 0, last + 1, filled);
      carry = filled - last - 1;
    }
  }

  /** Hands buf[0, textEnd) as lines; the position moves by `consumed` bytes. */
  async #hand(buf: Buffer, consumed: number, textEnd: number, consume: LineConsumer, from: string): Promise<void> {
    const pos = this.#pos!;
    if (pos.headLength < HEAD_BYTES) {
      const add = buf.subarray(0, Math.min(consumed, HEAD_BYTES - pos.headLength));
      this.#headBuf = Buffer.concat([this.#headBuf, add]);
      pos.headLength = this.#headBuf.length;
      pos.head = hashHead(this.#headBuf, this.#headBuf.length);
    }
    pos.offset += consumed;
    // One string per line, not one per chunk split up: a chunk decodes to a single external
    // string, and every key or id the windows keep (a slice of it) would keep the whole
    // megabyte alive for as long as the window holds it.
    const lines: string[] = [];
    let start = 0;
    while (start < textEnd) {
      let nl = buf.indexOf(0x0a, start);
      if (nl < 0 || nl > textEnd) nl = textEnd;
      lines.push(buf.toString('utf8', start, nl));
      start = nl + 1;
    }
    await consume(lines, { ...pos }, from);
  }
}
