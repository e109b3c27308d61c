/**
 * exim.mainlog.scan and exim.spool.scan. Files are read directly when the host is this
 * machine; over SSH the remote scanners (src/remote/scan.ts) return the same result types.
 */
import { Type } from '@sinclair/typebox';
import type { MainlogScanOptions } from '../../investigate/mainlog-file.js';
import { scanMainlogWithRotation, type RotatedScanResult } from '../../investigate/rotated-logs.js';
import { scanSpoolDir, type SpoolScanOptions, type SpoolScanResult } from '../../investigate/spool.js';
import type { MainlogScanResult } from '../../parsers/mainlog-scan.js';
import { scanMainlogRemoteRotated } from '../../remote/rotated-scan.js';
import { scanSpoolRemote, type CounterReport } from '../../remote/scan.js';
import { recordedTransport } from '../recorded-transport.js';
import { ActionError, defineAction, type ActionContext } from '../types.js';
import { discoverExim } from './discover.js';

/**
 * The main log and the rotated files its window needs. Rotated files that could not be read are
 * left out and listed in `unreadable_files`; callers decide what a gap in the window means.
 */
export async function scanMainlogOn(ctx: ActionContext, path: string, options: MainlogScanOptions): Promise<MainlogScanResult & Pick<RotatedScanResult, 'unreadable_files'>> {
  const opts = { ...options, signal: ctx.signal };
  const counters: CounterReport[] = [];
  const counter = targetCounter(ctx);
  try {
    // A window reaching back before the last rotation also reads the rotated files it needs.
    const r = ctx.host.transport.kind === 'local'
      ? await scanMainlogWithRotation(path, opts)
      : await scanMainlogRemoteRotated(recordedTransport(ctx), path, { ...opts, counter, onCounter: (c) => counters.push(c) });
    if (counter === 'perl') await ctx.note('main log counted with perl: the host variable target_counter is perl, so nothing was uploaded', { file: path, counter: 'perl' });
    await noteCounters(ctx, path, counters);
    for (const u of r.unreadable_files ?? []) {
      ctx.progress(`cannot read rotated main log ${u.file}; the window before it is incomplete`);
      await ctx.note(`rotated main log not read: ${u.error}`, { file: u.file });
    }
    // How the rotations to read were chosen, when that needed saying (a zone not told).
    for (const n of r.notes ?? []) await ctx.note(n, { file: path });
    return r;
  } catch (err) {
    // An upload is on record even when the scan then failed.
    await noteCounters(ctx, path, counters);
    throw new ActionError(`cannot scan the main log ${path} on ${ctx.host.name}: ${(err as Error).message}`);
  }
}

/**
 * The host variable `target_counter` (inventory, like Ansible's host vars): `auto` (default) the
 * native counter where it runs, else perl; `perl` never uploads anything, for hosts whose policy
 * forbids running a binary brought in for the run; `native` fails rather than fall back.
 */
function targetCounter(ctx: ActionContext): 'auto' | 'perl' | 'native' {
  const v = ctx.host.vars.target_counter;
  if (v === undefined) return 'auto';
  if (v === 'auto' || v === 'perl' || v === 'native') return v;
  throw new ActionError(`host variable target_counter on ${ctx.host.name} is ${JSON.stringify(v)}; give auto, perl or native.`);
}

/**
 * What counted the main log on the host, in the audit log: an executable written to the host
 * for the run is a fact an operator must be able to find afterwards (where, which bytes, gone).
 */
async function noteCounters(ctx: ActionContext, path: string, counters: CounterReport[]): Promise<void> {
  for (const c of counters.splice(0)) await noteCounter(ctx, path, c);
}

async function noteCounter(ctx: ActionContext, path: string, c: CounterReport): Promise<void> {
  const upload = c.native === undefined ? {} : { upload: { ...c.native } };
  if (c.native !== undefined && c.native.path !== '' && !c.native.removed) {
    ctx.progress(`could not confirm that ${c.native.path} was removed from ${ctx.host.name}; remove it by hand`);
  }
  if (c.counter === 'native') {
    await ctx.note(`main log counted on the host by the native counter uploaded for this run${c.native?.removed ? ' (removed afterwards)' : ''}`, { file: path, counter: 'native', ...upload });
  } else if (c.fallback !== undefined) {
    ctx.progress(`native counter not used on ${ctx.host.name} (${c.fallback}); counting with perl`);
    await ctx.note(`native counter not used: ${c.fallback}; main log counted with perl`, { file: path, counter: 'perl', fallback: c.fallback, ...upload });
  }
}

export async function scanSpoolOn(ctx: ActionContext, spoolDir: string, options: SpoolScanOptions): Promise<SpoolScanResult> {
  const opts = { ...options, signal: ctx.signal };
  try {
    if (ctx.host.transport.kind === 'local') return await scanSpoolDir(spoolDir, opts);
    return await scanSpoolRemote(recordedTransport(ctx), spoolDir, opts);
  } catch (err) {
    throw new ActionError(`cannot scan the spool ${spoolDir} on ${ctx.host.name}: ${(err as Error).message}`);
  }
}

export const eximMainlogScan = defineAction({
  name: 'exim.mainlog.scan',
  description: 'One pass over the Exim main log: sending directories (cwd=), authenticated senders (dovecot_login and dovecot_plain) with client IPs, repeated subjects, local users.',
  mutates: false,
  params: Type.Object({
    since: Type.Optional(Type.String({ default: '24h', description: 'window back from the last log line (24h, 30m) or a time' })),
    path: Type.Optional(Type.String({ description: 'main log path; asked of Exim when omitted' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
  }),
  outputs: { cwd: 'list of {path, count, user, senders}', auth_senders: 'list of {id, count, authenticators, ips}', subjects: 'list of {subject, count, senders}', senders: 'list of {sender, count, ips}', totals: 'counters', window: 'scanned range' },
  async run(ctx, params) {
    const path = params.path ?? (await discoverExim(ctx)).mainlog;
    ctx.progress(`scanning ${path}`);
    const r = await scanMainlogOn(ctx, path, { since: params.since ?? '24h', limit: params.limit ?? 50 });
    const top = r.auth_senders[0];
    return {
      changed: false,
      outputs: r as unknown as Record<string, unknown>,
      summary: `${r.totals.arrivals} arrivals since ${r.window.from ?? 'start'}; top cwd ${r.cwd[0]?.path ?? '-'} (${r.cwd[0]?.count ?? 0}); top auth ${top?.id ?? '-'} (${top?.count ?? 0})`,
    };
  },
});

export const eximSpoolScan = defineAction({
  name: 'exim.spool.scan',
  description: "Read the queue's -H files: X-PHP-Script scripts with their real client IPs, AUTH ids, senders.",
  mutates: false,
  params: Type.Object({
    spool_dir: Type.Optional(Type.String({ description: 'spool directory; asked of Exim when omitted' })),
    max_messages: Type.Optional(Type.Integer({ minimum: 1, default: 200000 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
  }),
  outputs: { scripts: 'list of {script, host, path, count, ips, senders, originating}', auth_ids: 'list of {id, count, ips}', senders: 'list of {key, count}', messages: 'messages read' },
  async run(ctx, params) {
    const spool = params.spool_dir ?? (await discoverExim(ctx)).spool_dir;
    ctx.progress(`reading ${spool}/input`);
    const r = await scanSpoolOn(ctx, spool, { maxMessages: params.max_messages ?? 200_000, limit: params.limit ?? 50 });
    return {
      changed: false,
      outputs: r as unknown as Record<string, unknown>,
      summary: `${r.messages} queued messages read; top script ${r.scripts[0]?.script ?? '-'} (${r.scripts[0]?.count ?? 0})`,
    };
  },
});
