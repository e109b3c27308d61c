/**
 * exim.detect: queue, main log, spool, suspect directories and access logs combined into one
 * verdict (see src/investigate/verdict.ts). Read-only, so it runs in a dry-run too and the
 * plan names this host's actual sender, scripts and addresses.
 */
import { Type } from '@sinclair/typebox';
import { buildVerdict, scriptLeads, type Thresholds, type VerdictInputs } from '../../investigate/verdict.js';
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
});

/** Gathers inputs on the host; problems with one source are recorded, not fatal. */
export async function gatherOnHost(ctx: ActionContext, params: { since?: string; mainlog?: string; spool_dir?: string; access_logs?: boolean }, t: Thresholds): Promise<{ inputs: VerdictInputs; problems: string[]; sourcesFailed: string[]; filesMissed: string[] }> {
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
    senders: 'every suspect sender, worst first: the mailbox and the scripts\' envelope senders (list of strings)',
    scripts: 'list of {path, url, count, ips}',
    ips: 'client IPs behind every flagged source (the mailbox logins and the script requests), to consider blocking',
    ip_reasons: "map of each of ips to why it is there: 'logged in as SENDER' or 'requested SCRIPT'",
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
    await ctx.note(`detect: ${verdict.summary}`, { kind: verdict.kind, sender: verdict.sender, ips: verdict.ips, scripts: verdict.scripts.map((s) => s.path) });
    // A verdict built without one of its sources must not read as a clean "none".
    const unread = [...sourcesFailed, ...filesMissed.map((f) => `rotated main log ${f}`)];
    const incomplete = unread.length > 0;
    const summary = incomplete ? `${verdict.summary} — INCOMPLETE: could not read the ${unread.join(', ')}` : verdict.summary;
    return { changed: false, outputs: { ...verdict, summary, problems, sources_failed: sourcesFailed, incomplete } as unknown as Record<string, unknown>, summary };
  },
});
