/** Read-only queue actions: count, senders ranked, one message's headers. */
import { Type } from '@sinclair/typebox';
import { isEximId } from '../../parsers/exim-id.js';
import { parseQueueCount, parseQueueListing, queueSenders } from '../../parsers/exim-bp.js';
import { findHeader, parseSpoolHeader, parseXPhpOriginatingScript, parseXPhpScript } from '../../parsers/exim-spool-header.js';
import type { QueueFacts } from '../../investigate/verdict.js';
import { ActionError, defineAction, type ActionContext } from '../types.js';

export async function queueCount(ctx: ActionContext): Promise<number> {
  const r = await ctx.exec({ argv: [ctx.host.tools.exim, '-bpc'], timeoutMs: 120_000 });
  const c = parseQueueCount(r.stdout);
  if (r.exitCode !== 0 || !c.ok) throw new ActionError(`exim -bpc failed on ${ctx.host.name}: ${c.ok ? r.stderr.trim() : c.error}`);
  return c.count;
}

/** `exim -bpr` (unsorted: faster on big queues) parsed into senders ranked by message count. */
export async function queueFacts(ctx: ActionContext): Promise<QueueFacts & { frozen: number; bounces: number; unparsed: number }> {
  const r = await ctx.exec({ argv: [ctx.host.tools.exim, '-bpr'], timeoutMs: 600_000, maxOutputBytes: 1024 * 1024 * 1024 });
  if (r.exitCode !== 0) throw new ActionError(`exim -bpr failed on ${ctx.host.name} (exit ${r.exitCode}): ${r.stderr.trim().slice(0, 300)}`);
  const listing = parseQueueListing(r.stdout);
  return {
    count: listing.messages.length,
    senders: queueSenders(listing).map((s) => ({ key: s.key, count: s.count })),
    frozen: listing.messages.filter((m) => m.frozen).length,
    bounces: listing.messages.filter((m) => m.bounce).length,
    unparsed: listing.unparsed.length,
  };
}

export const eximQueueCount = defineAction({
  name: 'exim.queue.count',
  description: 'Number of messages in the Exim queue (exim -bpc).',
  mutates: false,
  params: Type.Object({}),
  outputs: { count: 'messages in the queue (integer)' },
  async run(ctx) {
    const count = await queueCount(ctx);
    return { changed: false, outputs: { count }, summary: `${count} messages queued` };
  },
});

export const eximQueueList = defineAction({
  name: 'exim.queue.list',
  description: 'Queue senders ranked by message count (exim -bpr); bounces are listed as <>.',
  mutates: false,
  params: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, default: 20 })) }),
  outputs: { count: 'messages', senders: 'list of {sender, count}', frozen: 'frozen messages', bounces: 'bounces (<>)' },
  async run(ctx, params) {
    const facts = await queueFacts(ctx);
    const senders = facts.senders.slice(0, params.limit ?? 20).map((s) => ({ sender: s.key, count: s.count }));
    const top = senders.find((s) => s.sender !== '<>');
    return {
      changed: false,
      outputs: { count: facts.count, senders, frozen: facts.frozen, bounces: facts.bounces },
      summary: `${facts.count} queued${top !== undefined ? `; most from ${top.sender} (${top.count})` : ''}`,
    };
  },
});

export const eximQueueHeaders = defineAction({
  name: 'exim.queue.headers',
  description: "One queued message's envelope and headers (exim -Mvh ID), with X-PHP-Script decoded.",
  mutates: false,
  params: Type.Object({ id: Type.String({ description: 'Exim message ID (16 or 23 characters)' }) }),
  outputs: { sender: 'envelope sender', auth_id: 'SMTP AUTH id or null', host_address: 'client IP or null', subject: 'Subject or null', php_script: 'X-PHP-Script {host, path, client_ip} or null', headers: 'list of {name, value}' },
  async run(ctx, params) {
    if (!isEximId(params.id)) throw new ActionError(`not an Exim message ID: ${JSON.stringify(params.id)}`);
    const r = await ctx.exec({ argv: [ctx.host.tools.exim, '-Mvh', params.id], okExitCodes: [0, 1], timeoutMs: 60_000 });
    const parsed = parseSpoolHeader(r.stdout);
    if (!parsed.ok) throw new ActionError(`cannot read message ${params.id}: ${parsed.error}${r.stderr.trim() !== '' ? ` (${r.stderr.trim().slice(0, 200)})` : ''}`);
    const h = parsed.header;
    const xphp = findHeader(h, 'X-PHP-Script');
    const script = xphp === null ? null : parseXPhpScript(xphp);
    const orig = findHeader(h, 'X-PHP-Originating-Script');
    return {
      changed: false,
      outputs: {
        id: h.id,
        sender: h.sender,
        auth_id: h.authId,
        host_address: h.hostAddress,
        ident: h.ident,
        frozen: h.frozen,
        recipients: h.recipients,
        subject: findHeader(h, 'Subject'),
        php_script: script === null ? null : { host: script.host, path: script.path, client_ip: script.clientIp, addresses: script.addresses },
        php_originating_script: orig === null ? null : parseXPhpOriginatingScript(orig),
        headers: h.headers.map((x) => ({ name: x.name, value: x.value })),
      },
      summary: `${h.id} from <${h.sender}>${h.authId !== null ? ` auth ${h.authId}` : ''}`,
    };
  },
});
