/**
 * The watcher's state file: where each log was read up to, the windows' counts and the triggers
 * not yet answered, saved together so that a restart resumes exactly where the saved counts
 * stop (neither a line counted twice nor one skipped). Written atomically: a temporary file in
 * the same directory, fsync, rename over the old one, fsync of the directory. A file that is
 * there but unreadable or malformed is an error, never a silent fresh start: a fresh start
 * forgets the windows and which bursts already tripped.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { CountersDump } from './counters.js';
import type { FilePosition } from './follow.js';
import type { SignalDump } from './signals.js';
import type { Trigger } from './types.js';

export const STATE_VERSION = 1;

export interface WatchState {
  version: typeof STATE_VERSION;
  /** Log path → position read up to. */
  files: Record<string, FilePosition>;
  /** Newest log time read (seconds of wall-clock text taken as UTC). */
  latest: number | null;
  signals: SignalDump;
  counters: CountersDump;
  /** Triggers handed over but not answered when the state was saved: handed again on start. */
  pending: Trigger[];
}

export class StateError extends Error {
  readonly path: string;
  constructor(path: string, why: string) {
    super(`state file ${path} ${why}; nothing was read. Restore it, or move it aside to start afresh (the windows and the record of what already tripped are then lost, and the logs are read from their end)`);
    this.name = 'StateError';
    this.path = path;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function validPosition(p: unknown, nested = false): boolean {
  if (!isRecord(p) || ![p.dev, p.ino, p.offset, p.headLength].every((n) => Number.isInteger(n) && (n as number) >= 0) || typeof p.head !== 'string') return false;
  // Retired files a rename left still being read; theirs carry none of their own.
  return p.retired === undefined || (!nested && Array.isArray(p.retired) && p.retired.every((r) => validPosition(r, true)));
}

/** The saved state, or null when there is none yet. */
export async function loadState(path: string): Promise<WatchState | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return null;
    throw new StateError(path, `cannot be read (${e.code ?? e.message})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new StateError(path, `is not valid JSON (${(error as Error).message}${text.length === 0 ? ': the file is empty' : ''})`);
  }
  if (!isRecord(data)) throw new StateError(path, 'does not hold a watcher state');
  if (data.version !== STATE_VERSION) throw new StateError(path, `has version ${JSON.stringify(data.version)}, this runbook reads version ${STATE_VERSION}`);
  const files = data.files;
  if (!isRecord(files) || !Object.values(files).every((p) => validPosition(p))) throw new StateError(path, 'has malformed log positions');
  const counters = data.counters;
  if (!isRecord(counters) || !Array.isArray(counters.keys) || !Array.isArray(counters.tripped)) throw new StateError(path, 'has malformed counters');
  const signals = data.signals;
  if (!isRecord(signals) || !Array.isArray(signals.arrivals)) throw new StateError(path, 'has malformed message records');
  if (!Array.isArray(data.pending) || !(data.latest === null || typeof data.latest === 'number')) throw new StateError(path, 'has malformed pending triggers');
  return data as unknown as WatchState;
}

/** Replaces the state file atomically (temp + fsync + rename + fsync of the directory). */
export async function saveState(path: string, state: WatchState): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(temp, 'wx', 0o600);
  try {
    await fh.writeFile(JSON.stringify(state));
    await fh.sync();
  } catch (error) {
    await fh.close();
    await rm(temp, { force: true });
    throw error;
  }
  await fh.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
