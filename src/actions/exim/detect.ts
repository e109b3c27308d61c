/**
 * exim.detect: queue, main log, spool, suspect directories and access logs combined into one
 * verdict (see src/investigate/verdict.ts). Read-only, so it runs in a dry-run too and the
 * plan names this host's actual sender, scripts and addresses.
 */
import { Type } from '@sinclair/typebox';
import { buildVerdict, scriptLeads, type Thresholds, type VerdictInputs } from '../../investigate/verdict.js';
import { defineAction, type ActionContext } from '../types.js';
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
export async function gatherOnHost(ctx: ActionContext, params: { since?: string; mainlog?: string; spool_dir?: string; access_logs?: boolean }, t: Thresholds): Promise<{ inputs: VerdictInputs; problems: string[] }> {
  const problems: string[] = [];
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
  }
  ctx.progress(`scanning ${mainlog}`);
  try {
    inputs.mainlog = await scanMainlogOn(ctx, mainlog, { since: params.since ?? '24h' });
  } catch (err) {
    problems.push((err as Error).message);
  }
  ctx.progress(`reading ${spoolDir}/input`);
  try {
    inputs.spool = await scanSpoolOn(ctx, spoolDir, {});
  } catch (err) {
    problems.push((err as Error).message);
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
  return { inputs, problems };
}

export const eximDetect = defineAction({
  name: 'exim.detect',
  description: 'Decide whether a mailbox or a PHP script is sending spam: sender, scripts, client IPs, evidence.',
  mutates: false,
  params: DetectParams,
  outputs: {
    kind: "'mailbox' | 'script' | 'none'",
    sender: 'worst offender: AUTH id (mailbox) or envelope sender of the script mail',
    senders: 'all suspect senders (list of strings)',
    scripts: 'list of {path, url, count, ips}',
    ips: 'public client IPs to consider blocking (list of strings)',
    counts: '{queue, sender_queued, sender_sent, bounces_queued, window_arrivals}',
    evidence: 'list of {source, detail, count}',
    summary: 'one human line',
  },
  async run(ctx, params) {
    const t: Thresholds = { min_messages: params.min_messages ?? 100, min_subject_repeats: params.min_subject_repeats ?? 100 };
    const { inputs, problems } = await gatherOnHost(ctx, params, t);
    const verdict = buildVerdict(inputs, t, params.since ?? '24h');
    await ctx.note(`detect: ${verdict.summary}`, { kind: verdict.kind, sender: verdict.sender, ips: verdict.ips, scripts: verdict.scripts.map((s) => s.path) });
    return { changed: false, outputs: { ...verdict, problems } as unknown as Record<string, unknown>, summary: verdict.summary };
  },
});
