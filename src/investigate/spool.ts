/**
 * Reads Exim's spool header files (`input/X/ID-H` on a split spool, `input/ID-H` flat) with
 * bounded concurrency and summarises who is queueing mail: PHP scripts (X-PHP-Script, with the
 * real client address) and SMTP AUTH ids. Header text is written by senders: it is parsed as
 * data and each file is read only up to a size cap.
 */
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isEximId } from '../parsers/exim-id.js';
import {
  findHeader,
  parseSpoolHeader,
  parseXPhpOriginatingScript,
  parseXPhpScript,
  type PhpScript,
} from '../parsers/exim-spool-header.js';
import { topOf, type RankedItem } from '../parsers/mainlog-scan.js';

/** What one queued message tells about its origin. */
export interface SpoolMessageInfo {
  id: string;
  /** Envelope sender; empty for a bounce. */
  sender: string;
  bounce: boolean;
  auth_id: string | null;
  host_address: string | null;
  frozen: boolean;
  received_epoch: number | null;
  /** X-PHP-Script: the virtual host, the URL path, and the LAST address (the real peer). */
  php_script: { host: string; path: string; client_ip: string | null; addresses: string[] } | null;
  /** X-PHP-Originating-Script: `uid:basename`. */
  php_originating_script: { uid: number; script: string } | null;
  subject: string | null;
}

export interface SpoolScriptFinding {
  /** `host/path` as in the header. */
  script: string;
  host: string;
  /** URL path of the script. */
  path: string;
  count: number;
  /** Client addresses (last X-PHP-Script address), ranked. */
  ips: RankedItem[];
  /**
   * The whole address chains (`XFF…, REMOTE_ADDR` joined by `, `), ranked: behind a proxy the
   * last address is the proxy, and the client is found right to left past it.
   */
  chains?: RankedItem[];
  senders: RankedItem[];
  /** X-PHP-Originating-Script values (`uid:basename`). */
  originating: RankedItem[];
}

export interface SpoolScanResult {
  spool_dir: string;
  split: boolean;
  messages: number;
  /** -H files that could not be read or parsed. */
  unreadable: number;
  frozen: number;
  bounces: number;
  scripts: SpoolScriptFinding[];
  /** SMTP AUTH ids of messages that came in over SMTP (local submissions' Unix logins left out). */
  auth_ids: { id: string; count: number; ips: RankedItem[] }[];
  senders: RankedItem[];
  /** Stopped at max_messages. */
  truncated: boolean;
}

export interface SpoolScanOptions {
  /** Files read at once (default 16). */
  concurrency?: number;
  /** Stop after this many messages (default 200000). */
  maxMessages?: number;
  /** Entries per list (default 50). */
  limit?: number;
  /** Bytes read per -H file (default 64 KiB): headers past this are ignored. */
  maxHeaderBytes?: number;
  signal?: AbortSignal;
}

/** Pure: what a parsed -H file says. Null when it is not a spool header. */
export function spoolMessageInfo(text: string): SpoolMessageInfo | null {
  const r = parseSpoolHeader(text);
  if (!r.ok) return null;
  const h = r.header;
  const xphp = findHeader(h, 'X-PHP-Script');
  const script: PhpScript | null = xphp === null ? null : parseXPhpScript(xphp);
  const orig = findHeader(h, 'X-PHP-Originating-Script');
  return {
    id: h.id,
    sender: h.sender,
    bounce: h.bounce,
    auth_id: h.authId,
    host_address: h.hostAddress,
    frozen: h.frozen,
    received_epoch: h.receivedEpoch,
    php_script: script === null ? null : { host: script.host, path: script.path, client_ip: script.clientIp, addresses: script.addresses },
    php_originating_script: orig === null ? null : parseXPhpOriginatingScript(orig),
    subject: findHeader(h, 'Subject'),
  };
}

/** Aggregates message infos; pure, so the remote scan can reuse it. */
export class SpoolSummary {
  messages = 0;
  unreadable = 0;
  frozen = 0;
  bounces = 0;
  readonly #scripts = new Map<string, { host: string; path: string; count: number; ips: Map<string, number>; chains: Map<string, number>; senders: Map<string, number>; orig: Map<string, number> }>();
  readonly #auth = new Map<string, { count: number; ips: Map<string, number> }>();
  readonly #senders = new Map<string, number>();

  add(m: SpoolMessageInfo): void {
    this.messages++;
    if (m.frozen) this.frozen++;
    if (m.bounce) this.bounces++;
    else this.#senders.set(m.sender, (this.#senders.get(m.sender) ?? 0) + 1);
    if (m.php_script !== null) {
      const key = `${m.php_script.host}${m.php_script.path}`;
      let s = this.#scripts.get(key);
      if (s === undefined) {
        s = { host: m.php_script.host, path: m.php_script.path, count: 0, ips: new Map(), chains: new Map(), senders: new Map(), orig: new Map() };
        this.#scripts.set(key, s);
      }
      s.count++;
      if (m.php_script.client_ip !== null) bump(s.ips, m.php_script.client_ip);
      if (m.php_script.addresses.length > 0) bump(s.chains, m.php_script.addresses.join(', '));
      if (!m.bounce) bump(s.senders, m.sender);
      if (m.php_originating_script !== null) bump(s.orig, `${m.php_originating_script.uid}:${m.php_originating_script.script}`);
    }
    // Only SMTP AUTH: a local submission (cron, a script) carries its Unix login as auth id,
    // which is no login to a mailbox or account.
    if (m.auth_id !== null && m.host_address !== null) {
      let a = this.#auth.get(m.auth_id);
      if (a === undefined) {
        a = { count: 0, ips: new Map() };
        this.#auth.set(m.auth_id, a);
      }
      a.count++;
      if (m.host_address !== null) bump(a.ips, m.host_address);
    }
  }

  result(spoolDir: string, split: boolean, truncated: boolean, limit = 50): SpoolScanResult {
    const scripts = [...this.#scripts]
      .map(([script, s]) => ({ script, host: s.host, path: s.path, count: s.count, ips: topOf(s.ips, 20), chains: topOf(s.chains, 1000), senders: topOf(s.senders, 10), originating: topOf(s.orig, 10) }))
      .sort((a, b) => b.count - a.count || (a.script < b.script ? -1 : a.script > b.script ? 1 : 0))
      .slice(0, limit);
    const auth_ids = [...this.#auth]
      .map(([id, a]) => ({ id, count: a.count, ips: topOf(a.ips, 20) }))
      .sort((a, b) => b.count - a.count || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit);
    return {
      spool_dir: spoolDir, split, messages: this.messages, unreadable: this.unreadable, frozen: this.frozen, bounces: this.bounces,
      scripts, auth_ids, senders: topOf(this.#senders, limit), truncated,
    };
  }
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

/** Paths of all -H files under `input/`, split (one-character subdirectories) or flat. */
export async function listSpoolHeaders(spoolDir: string): Promise<{ paths: string[]; split: boolean }> {
  const input = join(spoolDir, 'input');
  const entries = await readdir(input, { withFileTypes: true });
  const paths: string[] = [];
  let split = false;
  for (const e of entries) {
    if (e.isDirectory() && e.name.length === 1) {
      split = true;
      for (const f of await readdir(join(input, e.name))) if (isHeaderName(f)) paths.push(join(input, e.name, f));
    } else if (e.isFile() && isHeaderName(e.name)) {
      paths.push(join(input, e.name));
    }
  }
  paths.sort();
  return { paths, split };
}

function isHeaderName(name: string): boolean {
  return name.endsWith('-H') && isEximId(name.slice(0, -2));
}

async function readHead(path: string, max: number): Promise<string | null> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return null; // delivered and removed since the listing: not an error
  }
  try {
    const buf = Buffer.allocUnsafe(max);
    const { bytesRead } = await fh.read(buf, 0, max, 0);
    return buf.toString('utf8', 0, bytesRead);
  } catch {
    return null;
  } finally {
    await fh.close();
  }
}

/** Scan a local spool directory. */
export async function scanSpoolDir(spoolDir: string, options: SpoolScanOptions = {}): Promise<SpoolScanResult> {
  const { paths, split } = await listSpoolHeaders(spoolDir);
  const max = options.maxMessages ?? 200_000;
  const todo = paths.slice(0, max);
  const summary = new SpoolSummary();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      options.signal?.throwIfAborted();
      const path = todo[next++]!;
      const text = await readHead(path, options.maxHeaderBytes ?? 64 * 1024);
      if (text === null) continue;
      const info = spoolMessageInfo(text);
      if (info === null) summary.unreadable++;
      else summary.add(info);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 16) }, worker));
  return summary.result(spoolDir, split, paths.length > max, options.limit ?? 50);
}
