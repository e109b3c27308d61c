/**
 * The one gather path: the evidence a verdict is built from, read from any evidence source in
 * the same order with the same rules. Files copied off a server (src/investigate/file-source.ts)
 * and a host over its transport (src/actions/exim/host-source.ts: this machine, the demo host,
 * SSH) differ only in how a source reads; what is read, when, and what a failure means is here.
 *
 * A new kind of evidence is one more method of EvidenceSource and one more step below; a new
 * per-sender counter of the main log is declared in src/parsers/count-registry.ts (its recipe),
 * which every source's main-log scan shares.
 */
import { isDomainName, isRequestPath } from '../parsers/access-log.js';
import type { MainlogScanResult, RankedItem } from '../parsers/mainlog-scan.js';
import type { ActivityFacts } from './activity.js';
import { loadAllowList } from './allow-list.js';
import { loadProxyRanges } from './proxies.js';
import type { UnreadableLog } from './rotated-logs.js';
import type { SpoolScanResult } from './spool.js';
import { activityLeads, buildVerdict, scriptLeads, webmailProblems, type FileFact, type Thresholds, type Verdict, type VerdictInputs } from './verdict.js';

/** The flagged ids and addresses whose history the second pass reads. */
export type ActivityLeads = ReturnType<typeof activityLeads>;

/** Where evidence is read from. Methods a source lacks are evidence it does not have. */
export interface EvidenceSource {
  /** ` on HOST` for messages about a host; empty for files. */
  readonly where: string;
  /** Parents of account homes on this source, when known. */
  readonly homeRoots?: string[];
  /** The mail queue as Exim lists it. */
  queue?(): Promise<NonNullable<VerdictInputs['queue']>>;
  /** The main-log scan of the window (rotated predecessors included); rotated files not read are listed. */
  mainlog?(since: string): Promise<MainlogScanResult & { unreadable_files?: UnreadableLog[] }>;
  spool?(): Promise<SpoolScanResult>;
  /** Who used the flagged ids, when, and who reads their mail (null: none could be read); problems say what could not be read. */
  /**
   * `skip`: main logs the scan found broken, said once by the scan and not half-read again.
   */
  history(leads: ActivityLeads, skip: ReadonlySet<string>): Promise<{ facts: ActivityFacts | null; problems: string[] }>;
  /** This server's own addresses. */
  serverIps?(): Promise<string[]>;
  /**
   * cPanel's per-account distinct recipients per hour thresholds of these mailboxes (lower-cased
   * mailbox → threshold), for the mailboxes whose account overrides the server's; problems say
   * which accounts' overrides could not be read (their mailboxes keep the server's).
   */
  recipientThresholds?(mailboxes: string[]): Promise<{ thresholds: Record<string, number>; problems: string[]; accounts?: Record<string, string> }>;
  /** Files in a directory the log names; null when it is not on this source (a copied log). */
  listDir(dir: string): Promise<FileFact[] | null>;
  /** Clients that requested a script, from the access logs; absent when there are none to read. */
  scriptClients?(host: string, path: string): Promise<RankedItem[]>;
  /** A progress line for the operator. */
  progress?(text: string): void;
}

/** A primary evidence source: without it a verdict may miss the sender. */
export type PrimarySource = 'queue' | 'mainlog' | 'spool';

export interface GatherSettings {
  since: string;
  trustedProxies?: string[];
  proxyRangesFile?: string;
  allowFile?: string;
  allow?: string[];
}

export interface Gathered {
  inputs: VerdictInputs;
  /** What could not be read or understood, for the verdict's problems. */
  problems: string[];
  /** Primary sources that could not be read. */
  sourcesFailed: PrimarySource[];
  /** Rotated main logs the window needed but that could not be read. */
  filesMissed: string[];
  /** Parts of the main log the scan did not read, described. */
  partsLeftOut: string[];
}

/** The proxy ranges or allow-list given could not be read: the operator's to fix first. */
export class GatherSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GatherSettingsError';
  }
}

/**
 * What a main-log scan did not read, as problems: a verdict over input that was not read is
 * incomplete, never a clean "nothing found".
 */
export function leftOutProblems(scan: Pick<MainlogScanResult, 'left_out'>): string[] {
  return scan.left_out.map((part) => `main log ${part.file ?? '(input)'}: ${part.bytes} bytes not read: ${part.reason}`);
}

/** Read every piece of evidence `source` has; problems with one piece are recorded, not fatal. */
export async function gatherEvidence(source: EvidenceSource, settings: GatherSettings, t: Thresholds): Promise<Gathered> {
  const problems: string[] = [];
  const sourcesFailed: PrimarySource[] = [];
  const filesMissed: string[] = [];
  const partsLeftOut: string[] = [];
  const inputs: VerdictInputs = { listings: {}, access_ips: {}, ...(source.homeRoots !== undefined ? { home_roots: source.homeRoots } : {}) };
  // Settings errors are the operator's to fix before anything is read.
  try {
    inputs.proxies = await loadProxyRanges({ ...(settings.proxyRangesFile !== undefined ? { rangesFile: settings.proxyRangesFile } : {}), trusted: settings.trustedProxies ?? [] });
    inputs.allow = await loadAllowList(settings.allowFile, settings.allow ?? []);
  } catch (err) {
    throw new GatherSettingsError((err as Error).message);
  }

  if (source.queue !== undefined) {
    source.progress?.('reading the queue');
    try {
      inputs.queue = await source.queue();
    } catch (err) {
      problems.push((err as Error).message);
      sourcesFailed.push('queue');
    }
  }
  if (source.mainlog !== undefined) {
    try {
      const scanned = await source.mainlog(settings.since);
      inputs.mainlog = scanned;
      for (const u of scanned.unreadable_files ?? []) {
        // The scanners' messages often start with the path already; it is named once here.
        const why = u.error.startsWith(`${u.file}: `) ? u.error.slice(u.file.length + 2) : u.error;
        problems.push(`cannot read the rotated main log ${u.file}${source.where}: ${why}; its part of the window was not scanned`);
        filesMissed.push(u.file);
      }
      problems.push(...leftOutProblems(scanned));
      for (const part of scanned.left_out) partsLeftOut.push(`main log ${part.file ?? '(input)'} (${part.bytes} bytes not read)`);
    } catch (err) {
      problems.push((err as Error).message);
      sourcesFailed.push('mainlog');
    }
  }
  if (source.spool !== undefined) {
    try {
      inputs.spool = await source.spool();
    } catch (err) {
      problems.push((err as Error).message);
      sourcesFailed.push('spool');
    }
  }
  if (inputs.mainlog !== undefined && inputs.mainlog !== null) {
    // The accounts' own thresholds before the leads: one under the server's makes a mailbox a
    // lead at fewer recipients, and only a lead's history has its hours counted.
    const ml = inputs.mainlog;
    const mailboxes = [...new Set([...ml.auth_senders.map((a) => a.id), ...(ml.failing_auth ?? []).map((f) => f.id), ...(ml.failing_senders ?? []).map((f) => f.sender), ...(inputs.spool?.auth_ids ?? []).map((a) => a.id)].filter((id) => id.includes('@')).map((id) => id.toLowerCase()))];
    if (source.recipientThresholds !== undefined && mailboxes.length > 0) {
      try {
        const read = await source.recipientThresholds(mailboxes);
        inputs.recipient_thresholds = read.thresholds;
        if (read.accounts !== undefined) inputs.mailbox_accounts = read.accounts;
        problems.push(...read.problems);
      } catch (err) {
        problems.push(`cannot read cPanel's per-account outbound spam thresholds${source.where}: ${(err as Error).message}; the threshold given applies to every mailbox`);
      }
    }
    source.progress?.("reading the flagged mailboxes' history");
    const read = await source.history(activityLeads(inputs, t), new Set(filesMissed));
    if (read.facts !== null) inputs.activity = read.facts;
    problems.push(...read.problems);
    if (source.serverIps !== undefined) inputs.server_ips = await source.serverIps();
  }
  const leads = scriptLeads(inputs, t);
  for (const dir of leads.dirs.slice(0, 5)) {
    // A cwd= the log names that is no absolute path (hostile or mangled) names no directory
    // on any source: nothing to list.
    if (!isAbsoluteDirectory(dir)) continue;
    try {
      const listing = await source.listDir(dir);
      if (listing !== null) inputs.listings![dir] = listing;
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (source.scriptClients !== undefined) {
    for (const u of leads.urls.slice(0, 5)) {
      // A script named by a hostile header with a path no request line can hold (a quote, a
      // space) or a host that is no domain was never requested as such: no client to look up,
      // on any source.
      if (!isDomainName(u.host) || !isRequestPath(u.path)) continue;
      try {
        inputs.access_ips![`${u.host}${u.path}`] = await source.scriptClients(u.host, u.path);
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
  }
  return { inputs, problems, sourcesFailed, filesMissed, partsLeftOut };
}

/** An absolute path without `..` or NUL: the only kind of directory a source lists. */
export function isAbsoluteDirectory(dir: string): boolean {
  return dir.startsWith('/') && !dir.includes('\0') && !dir.split('/').includes('..');
}

/** The verdict of gathered evidence, with what could not be read: the same for every source. */
export type GatheredVerdict = Verdict & {
  /** Everything that could not be read or understood, as messages. */
  problems: string[];
  /** Primary sources that could not be read. */
  sources_failed: PrimarySource[];
  /** Some evidence could not be read or understood: the verdict may miss the sender. */
  incomplete: boolean;
};

/**
 * The verdict of what was gathered, finished the one way every source's is: a verdict built
 * over evidence that was not read says so in its summary and is incomplete, never a clean
 * "nothing found".
 */
export function verdictOf(gathered: Gathered, t: Thresholds, since: string, onHost?: { host: string; logs: string[] }): GatheredVerdict {
  const { inputs, sourcesFailed, filesMissed, partsLeftOut } = gathered;
  const verdict = buildVerdict(inputs, t, since);
  const problems = [...gathered.problems, ...webmailProblems(inputs, verdict, onHost)];
  const unread = [...sourcesFailed, ...filesMissed.map((f) => `rotated main log ${f}`), ...partsLeftOut];
  const incomplete = unread.length > 0 || problems.length > 0;
  const why = unread.length > 0 ? `could not read the ${unread.join(', ')}` : `see ${problems.length === 1 ? 'the problem' : `the ${problems.length} problems`}`;
  return { ...verdict, summary: incomplete ? `${verdict.summary} — INCOMPLETE: ${why}` : verdict.summary, problems, sources_failed: [...sourcesFailed], incomplete };
}
