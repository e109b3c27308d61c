/**
 * exim.detect: queue, main log, spool, suspect directories and access logs combined into one
 * verdict (see src/investigate/verdict.ts). Read-only, so it runs in a dry-run too and the
 * plan names this host's actual sender, scripts and addresses.
 */
import { posix } from 'node:path';
import { Type } from '@sinclair/typebox';
import { ActivityCollector } from '../../investigate/activity.js';
import { loadAllowList } from '../../investigate/allow-list.js';
import { loadProxyRanges } from '../../investigate/proxies.js';
import { rotatedNames } from '../../investigate/rotated-logs.js';
import { activityLeads, buildVerdict, scriptLeads, webmailUnread, type Thresholds, type VerdictInputs } from '../../investigate/verdict.js';
import { ownAddresses } from '../firewall/own-addresses.js';
import { ActionError, defineAction, type ActionContext } from '../types.js';
import { discoverExim } from './discover.js';
import { scanMainlogOn, scanSpoolOn } from './detect-scan.js';
import { listFiles, scriptClients } from './detect-web.js';
import { queueFacts } from './queue-read.js';

export const DetectParams = Type.Object({
  since: Type.Optional(Type.String({ default: '24h', description: 'main-log window (24h, 30m) or a time' })),
  min_messages: Type.Optional(Type.Integer({ minimum: 1, default: 100, description: 'messages that make a sender suspect' })),
  min_subject_repeats: Type.Optional(Type.Integer({ minimum: 1, default: 100, description: 'repeats that make a subject suspect' })),
  mainlog: Type.Optional(Type.String({ description: 'main log path (default: asked of Exim)' })),
  spool_dir: Type.Optional(Type.String({ description: 'spool directory (default: asked of Exim)' })),
  access_logs: Type.Optional(Type.Boolean({ default: true, description: 'look up script clients in the domlogs' })),
  maillog: Type.Optional(Type.String({ description: "Dovecot's log, to see who reads each mailbox (default /var/log/maillog, else /var/log/mail.log)" })),
  trusted_proxies: Type.Optional(Type.Array(Type.String(), { description: 'addresses/CIDRs of your own proxies: never blocked, clients found past them' })),
  proxy_ranges_file: Type.Optional(Type.String({ description: 'file (on this machine) of CDN ranges replacing the shipped Cloudflare list' })),
  allow: Type.Optional(Type.Array(Type.String(), { description: 'allow-list entries: x@domain, domain, /directory, address/CIDR' })),
  allow_file: Type.Optional(Type.String({ description: 'allow-list file (on this machine), one entry a line' })),
});

const DEFAULT_MAILLOGS = ['/var/log/maillog', '/var/log/mail.log'];
/** cpsrvd's session and login records: where a webmail user's address is (reference §1.6). */
const CPANEL_LOGIN_LOGS = ['/usr/local/cpanel/logs/session_log', '/usr/local/cpanel/logs/login_log'];

/** The newest rotated predecessor of the main log on the host (`exim_mainlog-YYYYMMDD[.gz]`, `.1`), or null. */
async function newestRotation(ctx: ActionContext, mainlog: string): Promise<string | null> {
  const dir = posix.dirname(mainlog);
  const listing = await ctx.exec({ argv: ['ls', '-1', '--', dir], okExitCodes: [0, 1, 2], timeoutMs: 30_000 });
  const name = rotatedNames(posix.basename(mainlog), listing.stdout.split('\n'))[0];
  return name === undefined ? null : posix.join(dir, name);
}

/**
 * Lines of `files` on the host that contain one of `needles` (fixed strings, any case). A
 * missing file gives nothing (grep exit 2 with -s); the caller says which were read.
 */
async function grepLines(ctx: ActionContext, files: string[], needles: string[], tool: 'grep' | 'zgrep' = 'grep'): Promise<{ lines: string[]; read: boolean }> {
  if (needles.length === 0 || files.length === 0) return { lines: [], read: true };
  const argv = [tool, '-F', '-i', '-h', '-s'];
  for (const n of needles) argv.push('-e', n);
  argv.push('--', ...files);
  const r = await ctx.exec({ argv, okExitCodes: [0, 1, 2], timeoutMs: 600_000, maxOutputBytes: 512 * 1024 * 1024 });
  return { lines: r.stdout.split('\n'), read: r.exitCode !== 2 };
}

/** Gathers inputs on the host; problems with one source are recorded, not fatal. */
export async function gatherOnHost(ctx: ActionContext, params: { since?: string; mainlog?: string; spool_dir?: string; access_logs?: boolean; maillog?: string; trusted_proxies?: string[]; proxy_ranges_file?: string; allow?: string[]; allow_file?: string }, t: Thresholds): Promise<{ inputs: VerdictInputs; problems: string[]; sourcesFailed: string[]; filesMissed: string[] }> {
  const problems: string[] = [];
  /** The primary evidence sources that could not be read: a verdict without them is incomplete. */
  const sourcesFailed: string[] = [];
  /**
   * Rotated main logs the window needed but that could not be read. The main log itself was
   * read, so it is not a failed source; but the part of the window in them is missing, so the
   * verdict is incomplete all the same.
   */
  const filesMissed: string[] = [];
  const inputs: VerdictInputs = { listings: {}, access_ips: {}, home_roots: ctx.host.layout.homeRoots };
  try {
    inputs.proxies = await loadProxyRanges({ ...(params.proxy_ranges_file !== undefined ? { rangesFile: params.proxy_ranges_file } : {}), trusted: params.trusted_proxies ?? [] });
    inputs.allow = await loadAllowList(params.allow_file, params.allow ?? []);
  } catch (err) {
    throw new ActionError(`detection settings: ${(err as Error).message}`);
  }
  let spoolDir = params.spool_dir;
  let mainlog = params.mainlog;
  if (spoolDir === undefined || mainlog === undefined) {
    const layout = await discoverExim(ctx);
    spoolDir ??= layout.spool_dir;
    mainlog ??= layout.mainlog;
  }
  ctx.progress('reading the queue');
  try {
    inputs.queue = await queueFacts(ctx);
  } catch (err) {
    problems.push((err as Error).message);
    sourcesFailed.push('queue');
  }
  ctx.progress(`scanning ${mainlog}`);
  try {
    const scanned = await scanMainlogOn(ctx, mainlog, { since: params.since ?? '24h' });
    inputs.mainlog = scanned;
    for (const u of scanned.unreadable_files ?? []) {
      // The scanners' messages often start with the path already; it is named once here.
      const why = u.error.startsWith(`${u.file}: `) ? u.error.slice(u.file.length + 2) : u.error;
      problems.push(`cannot read the rotated main log ${u.file} on ${ctx.host.name}: ${why}; its part of the window was not scanned`);
      filesMissed.push(u.file);
    }
  } catch (err) {
    problems.push((err as Error).message);
    sourcesFailed.push('mainlog');
  }
  ctx.progress(`reading ${spoolDir}/input`);
  try {
    inputs.spool = await scanSpoolOn(ctx, spoolDir, {});
  } catch (err) {
    problems.push((err as Error).message);
    sourcesFailed.push('spool');
  }
  // Who used the flagged mailboxes, when, and who reads their mail: owner or attacker.
  if (inputs.mainlog !== undefined && mainlog !== undefined) {
    const wanted = activityLeads(inputs, t);
    const collector = new ActivityCollector(wanted.authIds, wanted.senders, wanted.sharedIps);
    ctx.progress('reading the flagged mailboxes\' history');
    try {
      for (const line of (await grepLines(ctx, [mainlog], collector.needles)).lines) collector.mainlogLine(line);
      // The owners' history before the last rotation: the newest rotated log too.
      const previous = await newestRotation(ctx, mainlog);
      if (previous !== null) {
        for (const line of (await grepLines(ctx, [previous], collector.needles, previous.endsWith('.gz') ? 'zgrep' : 'grep')).lines) collector.mainlogLine(line);
      }
      const head = await ctx.exec({ argv: ['head', '-n', '1', '--', mainlog], okExitCodes: [0, 1], timeoutMs: 30_000 });
      collector.logStartLine(head.stdout.split('\n')[0] ?? '');
      const mailboxes = collector.needles.filter((n) => n.includes('@'));
      const chosen = params.maillog ?? ctx.host.layout.maillog;
      const maillogs = chosen !== undefined ? [chosen] : DEFAULT_MAILLOGS;
      const read = await grepLines(ctx, maillogs, mailboxes.map((m) => `user=<${m}>`));
      if (!read.read && chosen !== undefined) problems.push(`cannot read the maillog ${chosen} on ${ctx.host.name}: owners who read their mail are not recognised`);
      for (const line of read.lines) collector.maillogLine(line);
      // Mail sent through webmail reaches Exim from 127.0.0.1: who logged in is in cpsrvd's logs.
      const web = await grepLines(ctx, CPANEL_LOGIN_LOGS, mailboxes.flatMap((m) => [` NEW ${m}:`, ` - ${m} (possessor`]));
      if (web.read || web.lines.some((l) => l !== '')) collector.webmailRead();
      for (const line of web.lines) collector.webmailLine(line);
      inputs.activity = collector.finish();
    } catch (err) {
      problems.push(`cannot read the flagged mailboxes' history on ${ctx.host.name}: ${(err as Error).message}; owner and attacker addresses are not told apart`);
    }
    inputs.server_ips = (await ownAddresses(ctx)).map((a) => a.address);
  }
  const leads = scriptLeads(inputs, t);
  for (const dir of leads.dirs.slice(0, 5)) {
    try {
      inputs.listings![dir] = await listFiles(ctx, dir, 1);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (params.access_logs !== false) {
    for (const u of leads.urls.slice(0, 5)) {
      try {
        inputs.access_ips![`${u.host}${u.path}`] = (await scriptClients(ctx, u.host, u.path)).clients;
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
  }
  return { inputs, problems, sourcesFailed, filesMissed };
}

export const eximDetect = defineAction({
  name: 'exim.detect',
  finds: true,
  description: 'Decide whether a mailbox or a PHP script is sending spam: sender, scripts, client IPs, evidence.',
  mutates: false,
  params: DetectParams,
  outputs: {
    kind: "'mailbox' | 'script' | 'none'",
    sender: 'worst offender: AUTH id (mailbox) or envelope sender of the script mail',
    senders: "envelope senders whose queued mail is purged, worst first (never system, cron or allow-listed senders)",
    auth_ids: 'AUTH ids whose queued mail is purged (list of strings)',
    sources: "every compromised source, worst first: list of {kind: 'mailbox'|'account'|'script', id, ips, confidence, reasons, counts, began}",
    scripts: 'list of {path, url, count, ips}: the files to disable',
    ips: 'attacker addresses and prefixes (CIDR) behind every source: exactly what is blocked',
    ip_reasons: "map of each of ips to why it is there: 'logged in as SENDER' or 'requested SCRIPT'",
    not_blocked: "addresses seen behind a source and not blocked: list of {ip, class: 'owner'|'server'|'proxy'|'private'|'allowed', reason}",
    began: 'when the incident began (ISO log time) or null',
    counts: '{queue, sender_queued, sender_sent, bounces_queued, window_arrivals}',
    evidence: 'list of {source, detail, count}',
    summary: 'one human line',
    problems: 'what could not be read or understood (messages)',
    sources_failed: "primary sources that could not be read: 'queue', 'mainlog', 'spool'",
    incomplete: 'true when a primary source, or a rotated main log the window needs, could not be read: the verdict may miss the sender',
  },
  async run(ctx, params) {
    const t: Thresholds = { min_messages: params.min_messages ?? 100, min_subject_repeats: params.min_subject_repeats ?? 100 };
    const { inputs, problems, sourcesFailed, filesMissed } = await gatherOnHost(ctx, params, t);
    if (sourcesFailed.length === 3) {
      throw new ActionError(`no evidence could be read (queue, main log and spool all failed): ${problems.join('; ')}`);
    }
    const verdict = buildVerdict(inputs, t, params.since ?? '24h');
    if (inputs.activity?.webmail === undefined) problems.push(...webmailUnread(verdict));
    await ctx.note(`detect: ${verdict.summary}`, { kind: verdict.kind, sender: verdict.sender, ips: verdict.ips, scripts: verdict.scripts.map((s) => s.path) });
    // A verdict built without one of its sources must not read as a clean "none".
    const unread = [...sourcesFailed, ...filesMissed.map((f) => `rotated main log ${f}`)];
    const incomplete = unread.length > 0;
    const summary = incomplete ? `${verdict.summary} — INCOMPLETE: could not read the ${unread.join(', ')}` : verdict.summary;
    return { changed: false, outputs: { ...verdict, summary, problems, sources_failed: sourcesFailed, incomplete } as unknown as Record<string, unknown>, summary };
  },
});
