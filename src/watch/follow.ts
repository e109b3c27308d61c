/**
 * Follows one log file as it grows, through rotation and restarts, handing over complete lines
 * with the position after them. A position is the file's device and inode, the byte offset
 * read up to, and a hash of the file's first bytes (up to HEAD_BYTES): the inode tells a
 * renamed file from its replacement, the hash tells a truncated or rewritten file from the one
 * read before (copytruncate keeps the inode).
 *
 * Rotation by rename (`tail -F`): the old file is read to its end through the descriptor held
 * open (or found again among its siblings by inode after a restart) before the new one is
 * started, and the descriptor stays open ("retired") after the switch: Exim processes that
 * opened the log before the rename go on writing to it until they notice, so the retired file
 * is read on every drain until it has been quiet for `retireAfterMs` (or more files retired
 * after it), then read a last time and closed. The position handed over carries the retired
 * files' positions too, so a restart finds them again by inode and reads on where it stopped. Copytruncate: the copy (a sibling whose first
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
  /**
   * Renamed-away files still followed (their positions carry no `retired` of their own). Only
   * on positions a follower hands over; absent when there are none.
   */
  retired?: FilePosition[];
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

/** One file being read: the log itself, a retired one, or a rotated sibling read to its end. */
interface Track {
  fh: FileHandle;
  pos: FilePosition;
  /** First bytes read so far (to extend the head hash up to HEAD_BYTES). */
  headBuf: Buffer;
  /** Name handed to the consumer with its lines. */
  from: string;
  /** Clock time of the last growth seen, and the size then (retired files only). */
  grewAt: number;
  size: number;
}

/** Retired files kept open at once: a log rotated again before the last one went quiet. */
const MAX_RETIRED = 4;
/** How long a retired file must stay unchanged before it is closed. */
const RETIRE_AFTER_MS = 60_000;

const bare = (p: FilePosition): FilePosition => ({ dev: p.dev, ino: p.ino, offset: p.offset, head: p.head, headLength: p.headLength });

export class LogFollower {
  readonly path: string;
  #cur: Track | null = null;
  /** The current file's position; also the saved one before the file is opened. */
  #pos: FilePosition | null;
  /** Renamed-away files still open, oldest first. */
  #retired: Track[] = [];
  /** Retired positions from the saved state, found again on the first drain. */
  #savedRetired: FilePosition[];
  /** A file read in place of the current one (a rotated sibling's rest): its position is the current one until done. */
  #standIn: Track | null = null;
  #buf = Buffer.alloc(CHUNK);
  readonly #notice: (n: FollowNotice) => void;
  /** Where to start a file the watcher has never read: its end (like tail -F) or its beginning. */
  readonly #startAt: 'end' | 'beginning';
  readonly #now: () => number;
  readonly #retireAfterMs: number;
  readonly #onSibling: ((file: string) => void | Promise<void>) | undefined;

  /**
   * `onSibling` is called when a rotated sibling has been picked, before its lines are read:
   * logrotate may delete it at that very moment (tests delete it there).
   */
  constructor(path: string, position: FilePosition | null, options: { startAt: 'end' | 'beginning'; notice: (n: FollowNotice) => void; retireAfterMs?: number; now?: () => number; onSibling?: (file: string) => void | Promise<void> }) {
    this.path = path;
    this.#pos = position === null ? null : bare(position);
    this.#savedRetired = position?.retired?.map(bare) ?? [];
    this.#startAt = options.startAt;
    this.#notice = options.notice;
    this.#now = options.now ?? Date.now;
    this.#retireAfterMs = options.retireAfterMs ?? RETIRE_AFTER_MS;
    this.#onSibling = options.onSibling;
  }

  /** Where reading stands: the current file, with the retired ones still followed. */
  get position(): FilePosition | null {
    const cur = this.#standIn?.pos ?? this.#pos;
    const retired = this.#retired.map((t) => bare(t.pos));
    if (cur === null) {
      const last = retired.pop();
      if (last === undefined) return null;
      return retired.length > 0 ? { ...last, retired } : last;
    }
    const pending = this.#savedRetired.map(bare);
    const all = [...retired, ...pending];
    return all.length > 0 ? { ...bare(cur), retired: all } : bare(cur);
  }

  async close(): Promise<void> {
    for (const t of this.#retired) await t.fh.close();
    this.#retired = [];
    await this.#cur?.fh.close();
    this.#cur = null;
  }

  /** Reads everything written so far, rotation included, handing complete lines to `consume`. */
  async drain(consume: LineConsumer): Promise<void> {
    await this.#reopenRetired();
    for (const t of [...this.#retired]) await this.#readRetired(t, consume, false);
    for (let round = 0; round < 8; round++) {
      if (this.#cur === null && !(await this.#openCurrent(consume))) return;
      const cur = this.#cur!;
      const st = await cur.fh.stat();
      if (st.size < cur.pos.offset || !(await sameHead(cur.fh, cur.pos))) {
        // Same inode, shorter or rewritten: copytruncate (or a truncation by hand).
        const rest = await this.#readRestFromCopy(cur.pos, consume);
        if (rest !== null) this.#notice({ type: 'rotated', file: this.path, how: 'truncated', restFrom: rest.file, restBytes: rest.bytes });
        else this.#notice({ type: 'gap', file: this.path, bytes: 0, reason: `${basename(this.path)} was truncated in place and no uncompressed copy starting like it is beside it: lines written after offset ${cur.pos.offset} before the truncation are not read` });
        cur.pos = startOf(st.dev, st.ino);
        cur.headBuf = Buffer.alloc(0);
        this.#pos = cur.pos;
      }
      await this.#readToEnd(cur, consume, false);
      // Renamed away and replaced? Then the old file is retired: read on, the new one started.
      const now = await stat(this.path).catch(() => null);
      if (now === null || (now.ino === st.ino && now.dev === st.dev)) return;
      await this.#readToEnd(cur, consume, false);
      const renamed = await this.#findSibling((s) => s.ino === st.ino && s.dev === st.dev, null);
      cur.from = renamed?.file ?? this.path;
      await renamed?.fh.close();
      cur.grewAt = this.#now();
      this.#retired.push(cur);
      this.#cur = null;
      this.#pos = null;
      while (this.#retired.length > MAX_RETIRED) await this.#readRetired(this.#retired[0]!, consume, true);
      this.#notice({ type: 'rotated', file: this.path, how: 'renamed', restFrom: null, restBytes: 0 });
    }
  }

  /** Reads a retired file on; closes it (after a last read that takes an unfinished line) once it is quiet or `force`. */
  async #readRetired(t: Track, consume: LineConsumer, force: boolean): Promise<void> {
    await this.#readToEnd(t, consume, false);
    const size = (await t.fh.stat()).size;
    if (size !== t.size) {
      t.size = size;
      t.grewAt = this.#now();
    }
    if (!force && this.#now() - t.grewAt < this.#retireAfterMs) return;
    // Out of the list first: the position handed with its last lines no longer names it.
    this.#retired = this.#retired.filter((r) => r !== t);
    const at = t.pos.offset;
    await this.#readToEnd(t, consume, true);
    await t.fh.close();
    // Nothing left to hand over: the position still tells that the file is no longer followed.
    if (t.pos.offset === at) await consume([], this.position ?? bare(t.pos), t.from);
  }

  /** The retired files a saved position names, found again among the log's siblings by inode. */
  async #reopenRetired(): Promise<void> {
    const saved = this.#savedRetired;
    if (saved.length === 0) return;
    this.#savedRetired = [];
    for (const pos of saved) {
      const found = await this.#findSibling((s) => s.ino === pos.ino && s.dev === pos.dev, pos);
      if (found === null) {
        this.#notice({ type: 'gap', file: this.path, bytes: 0, reason: `a rotated file still being read (inode ${pos.ino}) is no longer beside ${basename(this.path)} uncompressed: what was written to it after offset ${pos.offset} is not read` });
        continue;
      }
      const { file, fh } = found;
      this.#retired.push({ fh, pos: { ...pos }, headBuf: await readHead(fh, pos.headLength), from: file, grewAt: this.#now(), size: -1 });
    }
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
    const track: Track = { fh, pos: startOf(st.dev, st.ino), headBuf: Buffer.alloc(0), from: this.path, grewAt: 0, size: -1 };
    if (saved === null) {
      // Never read: a fresh watcher starts where it is told; after a rotation, at the start.
      if (this.#startAt === 'end' && !this.#startedOnce) {
        track.pos.offset = await this.#lastNewlineBefore(fh, st.size);
        track.headBuf = await readHead(fh, Math.min(HEAD_BYTES, track.pos.offset));
        track.pos.headLength = track.headBuf.length;
        track.pos.head = hashHead(track.headBuf, track.headBuf.length);
      }
      this.#startedOnce = true;
      this.#cur = track;
      this.#pos = track.pos;
      return true;
    }
    this.#startedOnce = true;
    if (saved.ino === st.ino && saved.dev === st.dev) {
      track.pos = saved;
      track.headBuf = await readHead(fh, saved.headLength);
      this.#cur = track;
      return true;
    }
    // The saved file was rotated while the watcher was away: read its rest first.
    const old = await this.#findSibling((s) => s.ino === saved.ino && s.dev === saved.dev, saved);
    if (old !== null) {
      const bytes = await this.#readRest(old, saved, consume);
      this.#notice({ type: 'rotated', file: this.path, how: 'renamed', restFrom: old.file, restBytes: bytes });
    } else {
      this.#notice({ type: 'gap', file: this.path, bytes: 0, reason: `the file read before (inode ${saved.ino}) was rotated away and is no longer beside ${basename(this.path)} uncompressed: what was written to it after offset ${saved.offset} is not read` });
    }
    this.#cur = track;
    this.#pos = track.pos;
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

  /**
   * A sibling of the log (`exim_mainlog.1`, `exim_mainlog-20261207`) matching `test` and, when
   * `saved` is given, starting with its head: open, so that logrotate deleting it after it was
   * picked (a race with every rotation) no longer matters; the caller closes it. One deleted
   * before it could be opened is no candidate.
   */
  async #findSibling(test: (s: { ino: number; dev: number; size: number }) => boolean, saved: FilePosition | null): Promise<{ file: string; fh: FileHandle } | null> {
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
      // Looked at before it is opened: opening a FIFO beside the log would wait for a writer.
      const named = await stat(full).catch(() => null);
      if (named === null || !named.isFile() || !test(named)) continue;
      const fh = await open(full, 'r').catch(() => null);
      if (fh === null) continue;
      let keep = false;
      try {
        // The open file is judged, not the name: it may have been replaced meanwhile.
        const s = await fh.stat();
        keep = s.isFile() && test(s) && (saved === null || (await sameHead(fh, saved)));
      } finally {
        if (!keep) await fh.close();
      }
      if (!keep) continue;
      await this.#onSibling?.(full);
      return { file: full, fh };
    }
    return null;
  }

  /** After a truncation: the copy holding what was written between the last read and the copy. */
  async #readRestFromCopy(saved: FilePosition, consume: LineConsumer): Promise<{ file: string; bytes: number } | null> {
    const copy = await this.#findSibling((s) => !(s.ino === saved.ino && s.dev === saved.dev) && s.size >= saved.offset, saved);
    if (copy === null) return null;
    return { file: copy.file, bytes: await this.#readRest(copy, saved, consume) };
  }

  /** Reads the open sibling from the saved offset to its end (the file is finished: a last line without newline counts); closes it. */
  async #readRest(sibling: { file: string; fh: FileHandle }, saved: FilePosition, consume: LineConsumer): Promise<number> {
    const { file, fh } = sibling;
    try {
      const t: Track = { fh, pos: { ...saved }, headBuf: await readHead(fh, saved.headLength), from: file, grewAt: 0, size: -1 };
      this.#standIn = t;
      await this.#readToEnd(t, consume, true);
      return t.pos.offset - saved.offset;
    } finally {
      this.#standIn = null;
      await fh.close();
    }
  }

  /** Reads from the track's position to the end of its file; `final`: the file gets no more lines. */
  async #readToEnd(t: Track, consume: LineConsumer, final: boolean): Promise<void> {
    let carry = 0;
    for (;;) {
      if (carry === this.#buf.length) {
        const bigger = Buffer.alloc(this.#buf.length * 2);
        this.#buf.copy(bigger, 0, 0, carry);
        this.#buf = bigger;
      }
      const { bytesRead } = await t.fh.read(this.#buf, carry, this.#buf.length - carry, t.pos.offset + carry);
      const filled = carry + bytesRead;
      if (bytesRead === 0) {
        if (final && filled > 0) await this.#hand(t, filled, filled, consume);
        return;
      }
      const last = this.#buf.lastIndexOf(0x0a, filled - 1);
      if (last < 0) {
        carry = filled;
        continue;
      }
      await this.#hand(t, last + 1, last, consume);
      this.#buf.copy(this.#buf, 0, last + 1, filled);
      carry = filled - last - 1;
    }
  }

  /** Hands buf[0, textEnd) as lines of `t`; its position moves by `consumed` bytes. */
  async #hand(t: Track, consumed: number, textEnd: number, consume: LineConsumer): Promise<void> {
    const buf = this.#buf;
    const pos = t.pos;
    if (pos.headLength < HEAD_BYTES) {
      const add = buf.subarray(0, Math.min(consumed, HEAD_BYTES - pos.headLength));
      t.headBuf = Buffer.concat([t.headBuf, add]);
      pos.headLength = t.headBuf.length;
      pos.head = hashHead(t.headBuf, t.headBuf.length);
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
    await consume(lines, this.position ?? bare(t.pos), t.from);
  }
}

function startOf(dev: number, ino: number): FilePosition {
  return { dev, ino, offset: 0, head: hashHead(Buffer.alloc(0), 0), headLength: 0 };
}
