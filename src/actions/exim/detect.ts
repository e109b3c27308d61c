/**
 * exim.detect: queue, main log, spool, suspect directories and access logs combined into one
 * verdict (see src/investigate/verdict.ts). Read-only, so it runs in a dry-run too and the
 * plan names this host's actual sender, scripts and addresses.
 */
import { Type } from '@sinclair/typebox';
import { CPANEL_WEBMAIL_LOGS } from '../../hosts/types.js';
import { gatherEvidence, GatherSettingsError, verdictOf, type Gathered } from '../../investigate/gather.js';
import type { Thresholds } from '../../investigate/verdict.js';
import { ActionError, defineAction, type ActionContext } from '../types.js';
import { hostSource } from './host-source.js';

export const DetectParams = Type.Object({
  since: Type.Optional(Type.String({ default: '24h', description: 'main-log window (24h, 30m) or a time' })),
  min_messages: Type.Optional(Type.Integer({ minimum: 1, default: 100, description: 'messages that make a sender suspect' })),
  min_subject_repeats: Type.Optional(Type.Integer({ minimum: 1, default: 100, description: 'repeats that make a subject suspect' })),
  unique_recipients_per_hour: Type.Optional(Type.Integer({ minimum: 1, default: 500, description: "distinct recipients in one hour that flag a mailbox (cPanel's email_outbound_spam_detect_threshold)" })),
  mainlog: Type.Optional(Type.String({ description: 'main log path (default: asked of Exim)' })),
  spool_dir: Type.Optional(Type.String({ description: 'spool directory (default: asked of Exim)' })),
  access_logs: Type.Optional(Type.Boolean({ default: true, description: 'look up script clients in the domlogs' })),
  maillog: Type.Optional(Type.String({ description: "Dovecot's log, to see who reads each mailbox (default /var/log/maillog, else /var/log/mail.log)" })),
  trusted_proxies: Type.Optional(Type.Array(Type.String(), { description: 'addresses/CIDRs of your own proxies: never blocked, clients found past them' })),
  proxy_ranges_file: Type.Optional(Type.String({ description: 'file (on this machine) of CDN ranges replacing the shipped Cloudflare list' })),
  allow: Type.Optional(Type.Array(Type.String(), { description: 'allow-list entries: x@domain, domain, /directory, address/CIDR' })),
  allow_file: Type.Optional(Type.String({ description: 'allow-list file (on this machine), one entry a line' })),
});

/** Gathers inputs on the host through the one gather path; problems with one source are recorded, not fatal. */
export async function gatherOnHost(ctx: ActionContext, params: { since?: string; mainlog?: string; spool_dir?: string; access_logs?: boolean; maillog?: string; trusted_proxies?: string[]; proxy_ranges_file?: string; allow?: string[]; allow_file?: string }, t: Thresholds): Promise<Gathered> {
  const source = hostSource(ctx, {
    ...(params.mainlog !== undefined ? { mainlog: params.mainlog } : {}),
    ...(params.spool_dir !== undefined ? { spool_dir: params.spool_dir } : {}),
    ...(params.access_logs !== undefined ? { access_logs: params.access_logs } : {}),
    ...(params.maillog !== undefined ? { maillog: params.maillog } : {}),
  });
  try {
    return await gatherEvidence(source, {
      since: params.since ?? '24h',
      trustedProxies: params.trusted_proxies ?? [],
      ...(params.proxy_ranges_file !== undefined ? { proxyRangesFile: params.proxy_ranges_file } : {}),
      ...(params.allow !== undefined ? { allow: params.allow } : {}),
      ...(params.allow_file !== undefined ? { allowFile: params.allow_file } : {}),
    }, t);
  } catch (err) {
    if (err instanceof GatherSettingsError) throw new ActionError(`detection settings: ${err.message}`);
    throw err;
  }
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
    review: 'mailboxes not flagged that need a look (a flood through webmail without its login logs): list of {id, reason}; nothing acts on them',
    began: 'when the incident began (ISO log time) or null',
    counts: '{queue, sender_queued, sender_sent, bounces_queued, window_arrivals}',
    evidence: 'list of {source, detail, count}',
    summary: 'one human line',
    problems: 'what could not be read or understood (messages)',
    sources_failed: "primary sources that could not be read: 'queue', 'mainlog', 'spool'",
    incomplete: 'true when any evidence could not be read or understood (a primary source, a rotated main log the window needs, part of the main log, or what problems name): the verdict may miss the sender',
  },
  async run(ctx, params) {
    const t: Thresholds = { min_messages: params.min_messages ?? 100, min_subject_repeats: params.min_subject_repeats ?? 100, unique_recipients_per_hour: params.unique_recipients_per_hour ?? 500 };
    const gathered = await gatherOnHost(ctx, params, t);
    if (gathered.sourcesFailed.length === 3) {
      throw new ActionError(`no evidence could be read (queue, main log and spool all failed): ${gathered.problems.join('; ')}`);
    }
    // Finished as files' are (src/investigate/gather.ts): one verdict for the same evidence.
    const verdict = verdictOf(gathered, t, params.since ?? '24h', { host: ctx.host.name, logs: ctx.host.layout.webmailLogs ?? CPANEL_WEBMAIL_LOGS });
    await ctx.note(`detect: ${verdict.summary}`, { kind: verdict.kind, sender: verdict.sender, ips: verdict.ips, scripts: verdict.scripts.map((s) => s.path) });
    return { changed: false, outputs: verdict as unknown as Record<string, unknown>, summary: verdict.summary };
  },
});
