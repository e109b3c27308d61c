/**
 * Turns scan results into one verdict: is a mailbox or a PHP script sending spam, who is the
 * sender, which scripts and which client addresses. Pure: the action and the offline
 * `investigate` gather the inputs, this decides. Output keys are simple words for playbook
 * expressions (`steps.detect.kind`, `steps.detect.scripts`, `steps.detect.ips`).
 */
import { isPublicIp } from '../parsers/ip.js';
import type { MainlogScanResult, RankedItem } from '../parsers/mainlog-scan.js';
import type { SpoolScanResult } from './spool.js';

export interface Thresholds {
  /** Messages in the window (or in the queue) that make a sender suspect. Default 100. */
  min_messages: number;
  /** A subject sent this many times marks its senders suspect. Default 100. */
  min_subject_repeats: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { min_messages: 100, min_subject_repeats: 100 };

export interface QueueFacts {
  count: number;
  /** Senders ranked by queued messages; bounces under `<>`. */
  senders: RankedItem[];
}

/** A file under a suspect directory, from `find -printf` (the suspect-files read). */
export interface FileFact {
  path: string;
  mtime: number;
  mode: string;
  size: number;
}

export interface VerdictInputs {
  queue?: QueueFacts | null;
  mainlog?: MainlogScanResult | null;
  spool?: SpoolScanResult | null;
  /** Listings of suspect directories (cwd of heavy submitters), by directory. */
  listings?: Record<string, FileFact[]>;
  /** Access-log client addresses per script (`host/path`). */
  access_ips?: Record<string, RankedItem[]>;
  /** Parents of account homes (host layout); default /home, /home2, ... */
  home_roots?: string[];
}

/** The account owning a path under one of the home roots, or null (system paths, /root). */
export function accountOf(path: string, homeRoots: string[] | undefined): string | null {
  if (homeRoots === undefined) {
    const m = /^\/home\d*\/([^/]+)(?:\/|$)/.exec(path);
    return m === null ? null : m[1]!;
  }
  for (const root of homeRoots) {
    const r = root.replace(/\/+$/, '');
    if (path.startsWith(`${r}/`)) {
      const user = path.slice(r.length + 1).split('/')[0]!;
      if (user !== '' && user !== '..' && user !== '.') return user;
    }
  }
  return null;
}

export interface ScriptVerdict {
  /** Filesystem path of the script (what containment disables). */
  path: string;
  /** `host/path` from X-PHP-Script when known. */
  url: string | null;
  /** Messages attributed to it (main log window or queue, whichever is larger). */
  count: number;
  ips: string[];
}

export interface Evidence {
  source: 'queue' | 'mainlog' | 'spool' | 'access_log' | 'files';
  detail: string;
  count: number;
}

export interface Verdict {
  kind: 'mailbox' | 'script' | 'none';
  /** The worst offender: the AUTH id (mailbox) or the envelope sender of the script's mail. */
  sender: string;
  /** All suspect senders, worst first. Never `<>`. */
  senders: string[];
  scripts: ScriptVerdict[];
  /** Directories that submit heavily but where no single script could be named. */
  directories: { path: string; count: number; user: string | null }[];
  /** Client addresses to consider blocking: public, well-formed, de-duplicated, worst first. */
  ips: string[];
  /**
   * Why each of `ips` is there, for the operator and for the CSF comment: `logged in as
   * SENDER` or `requested SCRIPT`. A block comment must not blame the mailbox for an address
   * that only ever called a script.
   */
  ip_reasons: Record<string, string>;
  counts: {
    queue: number;
    sender_queued: number;
    sender_sent: number;
    bounces_queued: number;
    window_arrivals: number;
  };
  evidence: Evidence[];
  thresholds: Thresholds;
  window: { since: string | null; from: string | null; to: string | null };
  summary: string;
}

function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? p : p.slice(i + 1);
}

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

function rankIps(lists: RankedItem[][]): string[] {
  const counts = new Map<string, number>();
  for (const list of lists) for (const { key, count } of list) if (isPublicIp(key)) counts.set(key, (counts.get(key) ?? 0) + count);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([k]) => k);
}

/** Directories and script URLs worth a closer look (listing, access log), before the verdict. */
export function scriptLeads(inputs: VerdictInputs, t: Thresholds = DEFAULT_THRESHOLDS): { dirs: string[]; urls: { host: string; path: string }[] } {
  const dirs = (inputs.mainlog?.cwd ?? []).filter((c) => c.count >= t.min_messages && accountOf(c.path, inputs.home_roots) !== null).map((c) => c.path);
  const urls = (inputs.spool?.scripts ?? []).filter((s) => s.count >= Math.min(t.min_messages, 10)).map((s) => ({ host: s.host, path: s.path }));
  for (const d of dirs) {
    for (const s of inputs.spool?.scripts ?? []) if (d.endsWith(dirname(s.path)) && !urls.some((u) => u.host === s.host && u.path === s.path)) urls.push({ host: s.host, path: s.path });
  }
  return { dirs, urls };
}

/** Pick the script file in a directory: the one named by the spool, else a lone recent PHP file. */
function resolveScript(dir: string, inputs: VerdictInputs, sinceEpoch: number | null): { path: string; url: string | null } | null {
  for (const s of inputs.spool?.scripts ?? []) {
    const urlDir = dirname(s.path);
    if (urlDir === '/' ? true : dir.endsWith(urlDir)) {
      const name = basename(s.path);
      const listed = inputs.listings?.[dir];
      if (listed === undefined || listed.some((f) => f.path === `${dir}/${name}`)) return { path: `${dir}/${name}`, url: s.script };
    }
    for (const o of s.originating) {
      const name = o.key.slice(o.key.indexOf(':') + 1);
      if (inputs.listings?.[dir]?.some((f) => f.path === `${dir}/${name}`)) return { path: `${dir}/${name}`, url: s.script };
    }
  }
  const listed = inputs.listings?.[dir] ?? [];
  const php = listed.filter((f) => f.path.endsWith('.php') && dirname(f.path) === dir);
  const recent = sinceEpoch === null ? php : php.filter((f) => f.mtime >= sinceEpoch);
  if (recent.length === 1) return { path: recent[0]!.path, url: null };
  if (php.length === 1) return { path: php[0]!.path, url: null };
  return null;
}

export function buildVerdict(inputs: VerdictInputs, t: Thresholds = DEFAULT_THRESHOLDS, since: string | null = null): Verdict {
  const ml = inputs.mainlog ?? null;
  const spool = inputs.spool ?? null;
  const queueSenders = inputs.queue?.senders ?? spool?.senders ?? [];
  const queued = (sender: string): number => queueSenders.find((s) => s.key === sender)?.count ?? 0;
  const queueCount = inputs.queue?.count ?? spool?.messages ?? 0;
  const bouncesQueued = queueSenders.find((s) => s.key === '<>')?.count ?? spool?.bounces ?? 0;
  const evidence: Evidence[] = [];

  // Mailboxes: AUTH ids over the threshold in the window, or with that much queued.
  const spoolAuth = new Map((spool?.auth_ids ?? []).map((a) => [a.id, a]));
  const mailboxes: { id: string; count: number; ips: RankedItem[] }[] = [];
  const seenAuth = new Set<string>();
  for (const a of ml?.auth_senders ?? []) {
    seenAuth.add(a.id);
    const q = Math.max(queued(a.id), spoolAuth.get(a.id)?.count ?? 0);
    if (a.count >= t.min_messages || q >= t.min_messages) {
      mailboxes.push({ id: a.id, count: Math.max(a.count, q), ips: [...a.ips, ...(spoolAuth.get(a.id)?.ips ?? [])] });
      evidence.push({ source: 'mainlog', detail: `${a.id} authenticated (${a.authenticators.map((x) => x.key).join(', ')}) and sent ${a.count} messages`, count: a.count });
    }
  }
  for (const a of spool?.auth_ids ?? []) {
    if (seenAuth.has(a.id) || a.count < t.min_messages) continue;
    mailboxes.push({ id: a.id, count: a.count, ips: a.ips });
    evidence.push({ source: 'spool', detail: `${a.count} queued messages authenticated as ${a.id}`, count: a.count });
  }

  // Scripts: heavy cwd directories under a home, and X-PHP-Script values in the queue.
  const sinceEpoch = null;
  const scripts: (ScriptVerdict & { sender: string | null })[] = [];
  const directories: Verdict['directories'] = [];
  for (const c of ml?.cwd ?? []) {
    const user = accountOf(c.path, inputs.home_roots);
    if (c.count < t.min_messages || user === null) continue;
    evidence.push({ source: 'mainlog', detail: `${c.count} messages submitted from ${c.path}`, count: c.count });
    const r = resolveScript(c.path, inputs, sinceEpoch);
    const sender = c.senders[0]?.key ?? null;
    if (r === null) {
      directories.push({ path: c.path, count: c.count, user });
      continue;
    }
    const spoolScript = spool?.scripts.find((s) => s.script === r.url);
    const ipsLists = [spoolScript?.ips ?? [], r.url !== null ? inputs.access_ips?.[r.url] ?? [] : []];
    scripts.push({ path: r.path, url: r.url, count: Math.max(c.count, spoolScript?.count ?? 0), ips: rankIps(ipsLists), sender: sender ?? spoolScript?.senders[0]?.key ?? null });
  }
  for (const s of spool?.scripts ?? []) {
    if (s.count < t.min_messages || scripts.some((x) => x.url === s.script)) continue;
    evidence.push({ source: 'spool', detail: `${s.count} queued messages carry X-PHP-Script ${s.script}`, count: s.count });
    // Without a cwd we know the URL, not the file: point at the directory listing if one names it.
    let path: string | null = null;
    for (const [dir, files] of Object.entries(inputs.listings ?? {})) {
      const f = files.find((x) => x.path === `${dir}/${basename(s.path)}`);
      if (f !== undefined) path = f.path;
    }
    if (path === null) {
      directories.push({ path: `${s.host}${dirname(s.path)}`, count: s.count, user: null });
      continue;
    }
    scripts.push({ path, url: s.script, count: s.count, ips: rankIps([s.ips, inputs.access_ips?.[s.script] ?? []]), sender: s.senders[0]?.key ?? null });
  }
  for (const [url, ips] of Object.entries(inputs.access_ips ?? {})) {
    if (ips.length > 0) evidence.push({ source: 'access_log', detail: `${ips.length} client addresses requested ${url}`, count: ips.reduce((n, i) => n + i.count, 0) });
  }

  // Subjects repeated across senders.
  const subjectSenders = new Map<string, number>();
  for (const s of ml?.subjects ?? []) {
    if (s.count < t.min_subject_repeats) continue;
    evidence.push({ source: 'mainlog', detail: `subject sent ${s.count} times: ${s.subject}`, count: s.count });
    for (const who of s.senders) if (who.key !== '') subjectSenders.set(who.key, (subjectSenders.get(who.key) ?? 0) + who.count);
  }

  // Queue-only evidence: a sender with that many queued messages.
  for (const q of queueSenders) {
    if (q.key === '<>' || q.count < t.min_messages) continue;
    evidence.push({ source: 'queue', detail: `${q.count} messages from ${q.key} in the queue`, count: q.count });
  }

  mailboxes.sort((a, b) => b.count - a.count || (a.id < b.id ? -1 : 1));
  scripts.sort((a, b) => b.count - a.count || (a.path < b.path ? -1 : 1));
  const topMailbox = mailboxes[0];
  const topScript = scripts[0];
  const dirTop = directories[0];
  let kind: Verdict['kind'] = 'none';
  if (topMailbox !== undefined && (topScript === undefined || topMailbox.count >= topScript.count) && (dirTop === undefined || topMailbox.count >= dirTop.count)) kind = 'mailbox';
  else if (topScript !== undefined || dirTop !== undefined) kind = 'script';
  else {
    const heavy = queueSenders.find((q) => q.key !== '<>' && q.count >= t.min_messages);
    if (heavy !== undefined) kind = 'mailbox';
  }

  const senderCounts = new Map<string, number>();
  const addSender = (s: string | null | undefined, n: number): void => {
    if (s === null || s === undefined || s === '' || s === '<>') return;
    senderCounts.set(s, Math.max(senderCounts.get(s) ?? 0, n));
  };
  for (const m of mailboxes) addSender(m.id, m.count);
  for (const s of scripts) addSender(s.sender, s.count);
  for (const c of ml?.cwd ?? []) if (c.count >= t.min_messages && accountOf(c.path, inputs.home_roots) !== null) addSender(c.senders[0]?.key, c.count);
  for (const [s, n] of subjectSenders) addSender(s, n);
  for (const q of queueSenders) if (q.count >= t.min_messages) addSender(q.key, q.count);
  const senders = [...senderCounts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([s]) => s);

  let sender = '';
  let ips: string[] = [];
  // The addresses behind every flagged source, not only the winning kind: an incident with a
  // compromised mailbox and a spam script needs both kinds of attacker blocked.
  const scriptIps = scripts.map((s) => s.ips.map((ip) => ({ key: ip, count: s.count })));
  let mailboxIpCount = 0;
  if (kind === 'mailbox') {
    sender = topMailbox?.id ?? senders[0] ?? '';
    mailboxIpCount = rankIps([topMailbox?.ips ?? []]).length;
    ips = rankIps([topMailbox?.ips ?? [], ...scriptIps]);
  } else if (kind === 'script') {
    const dirSender = dirTop !== undefined ? ml?.cwd.find((c) => c.path === dirTop.path)?.senders[0]?.key ?? null : null;
    sender = (topScript !== undefined && (dirTop === undefined || topScript.count >= dirTop.count) ? topScript.sender : dirSender) ?? topScript?.sender ?? dirSender ?? '';
    ips = rankIps(scriptIps);
  }

  const ipReasons: Record<string, string> = {};
  const loggedIn = new Set(kind === 'mailbox' ? (topMailbox?.ips ?? []).map((i) => i.key) : []);
  for (const ip of ips) {
    const script = scripts.find((sc) => sc.ips.includes(ip));
    ipReasons[ip] = loggedIn.has(ip) || script === undefined ? `logged in as ${sender}` : `requested ${script.url ?? script.path}`;
  }

  const sentInWindow = (s: string): number =>
    (ml?.auth_senders.find((a) => a.id === s)?.count ?? 0) || (ml?.senders.find((x) => x.sender === s)?.count ?? 0);
  const counts = {
    queue: queueCount,
    sender_queued: sender === '' ? 0 : queued(sender),
    sender_sent: sender === '' ? 0 : sentInWindow(sender),
    bounces_queued: bouncesQueued,
    window_arrivals: ml?.totals.arrivals ?? 0,
  };
  const window = { since, from: ml?.window.from ?? null, to: ml?.window.last_time ?? null };
  const span = since !== null ? ` in ${since}` : '';
  let summary: string;
  if (kind === 'mailbox') {
    const alsoScripts = scripts.length > 0 ? `; also ${scripts.length} script${scripts.length === 1 ? '' : 's'}` : '';
    summary = `mailbox ${sender} sent ${counts.sender_sent}${span} (${counts.sender_queued} queued of ${counts.queue}) from ${mailboxIpCount} address${mailboxIpCount === 1 ? '' : 'es'}${alsoScripts}`;
  } else if (kind === 'script') {
    const what = topScript !== undefined && (dirTop === undefined || topScript.count >= dirTop.count) ? `script ${topScript.path}` : `directory ${dirTop?.path ?? '?'} (script not identified)`;
    const n = Math.max(topScript?.count ?? 0, dirTop?.count ?? 0);
    summary = `${what} sent ${n}${span} as ${sender || 'unknown sender'} (${counts.queue} queued), ${ips.length} client address${ips.length === 1 ? '' : 'es'}`;
  } else {
    summary = `no sender above ${t.min_messages} messages${span}; ${counts.queue} queued`;
  }
  return {
    kind,
    sender,
    senders,
    scripts: scripts.map(({ sender: _s, ...rest }) => rest),
    directories,
    ips,
    ip_reasons: ipReasons,
    counts,
    evidence: evidence.sort((a, b) => b.count - a.count || (a.detail < b.detail ? -1 : a.detail > b.detail ? 1 : 0)).slice(0, 30),
    thresholds: t,
    window,
    summary,
  };
}
