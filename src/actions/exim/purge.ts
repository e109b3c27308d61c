import { createHash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { isEximId, spoolHeaderPath } from '../../parsers/exim-id.js';
import { parseQueueListing, type QueueMessage } from '../../parsers/exim-bp.js';
import { describeCommandFailure } from '../service/command-failure.js';
import { ActionError, defineAction, type Action, type ActionContext, type ActionPlan, type ActionResult, type UndoRecord } from '../types.js';
import { checkQuarantineSpace, Quarantine, queueRestore } from './quarantine.js';

/*
 * exim.queue.purge: remove one sender's messages from the queue, keeping evidence first.
 * Listing, spool lookup and header scanning are exported for exim.queue.watch and the bench.
 */

const Params = Type.Object(
  {
    sender: Type.Optional(Type.String({ minLength: 3, maxLength: 320, description: 'Envelope sender to purge; matched exactly, case-insensitively' })),
    auth_id: Type.Optional(Type.String({ minLength: 1, maxLength: 320, description: 'Also (or only) purge messages that arrived over SMTP AUTH as this id, whatever their envelope sender' })),
    max: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000, default: 5000, description: 'Refuse when more messages match' })),
    batch: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, default: 1000, description: 'IDs per exim -Mrm call' })),
    quarantine: Type.Optional(Type.Boolean({ default: false, description: "Copy each message's spool files aside with a manifest before removing it, so runbook undo can put it back" })),
    quarantine_dir: Type.Optional(Type.String({ pattern: '^/', maxLength: 4096, description: "Where quarantines go on the host (default: runbook-quarantine in Exim's spool directory)" })),
  },
  { additionalProperties: false },
);
export type PurgeParams = Static<typeof Params>;

/** The quarantining purge always keeps the messages: it takes no `quarantine` switch. */
const { quarantine: _always, ...quarantineFields } = Params.properties;
const QuarantineParams = Type.Object(quarantineFields, { additionalProperties: false });

const DEFAULT_MAX = 5000;
const DEFAULT_BATCH = 1000;
/** Header files read per grep call: keeps argv far below ARG_MAX. */
const SCAN_BATCH = 1000;
/** Lines kept per message: a spammer may repeat a header thousands of times. */
const LINES_PER_MESSAGE = 12;
const VALUE_LIMIT = 200;
/** A plan older than this is listed again at run time: new spam keeps arriving while a gate waits. */
const STALE_PLAN_MS = 15_000;

// eslint-disable-next-line no-control-regex
const WILDCARD_OR_SPACE = /[*?%\s<>\u0000-\u001f\u007f]/;

/** The sender as purge (or freeze: `verb`) will match it; refuses empty, bounce, wildcard and non-address senders. */
export function requireSender(text: string, verb = 'purge'): string {
  const sender = text.trim();
  if (sender === '' || sender === '<>' || WILDCARD_OR_SPACE.test(sender) || !/^[^@]+@[^@]+\.[^@]+$/.test(sender)) {
    throw new ActionError(
      `refusing to ${verb} by sender "${text}": ${verb} needs one exact envelope address (local@domain), never an empty, bounce (<>) or wildcard sender.`,
    );
  }
  return sender.toLowerCase();
}

export function requireAuthId(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const id = text.trim();
  if (id === '' || WILDCARD_OR_SPACE.test(id)) throw new ActionError(`refusing auth_id "${text}": it must be one exact SMTP AUTH id, no wildcards or spaces.`);
  return id.toLowerCase();
}

export interface SpoolInfo {
  /** `<spool_directory>/input`. */
  inputDir: string;
  split: boolean;
}

/** `exim -bP spool_directory split_spool_directory` output. Pure. */
export function parseSpoolInfo(text: string): SpoolInfo | undefined {
  let dir: string | undefined;
  let split = false;
  for (const line of text.split('\n')) {
    const m = /^spool_directory = (\S.*)$/.exec(line.trim());
    if (m !== null) dir = m[1];
    if (/^split_spool_directory( = (true|yes|1))?$/.test(line.trim())) split = true;
  }
  return dir === undefined ? undefined : { inputDir: `${dir.replace(/\/+$/, '')}/input`, split };
}

/** Asks Exim where its spool is, so cPanel (split) and Debian layouts both work. */
export async function spoolInfo(ctx: ActionContext): Promise<SpoolInfo> {
  const result = await ctx.exec({ argv: [ctx.host.tools.exim, '-bP', 'spool_directory', 'split_spool_directory'], timeoutMs: 30_000 });
  const info = result.exitCode === 0 ? parseSpoolInfo(result.stdout) : undefined;
  if (info === undefined) throw new ActionError(`cannot ask Exim for its spool directory: ${describeCommandFailure(result)}`);
  return info;
}

/** The whole queue (`exim -bpr`: the -bp format without sorting, cheaper on big queues). */
export async function listQueue(ctx: ActionContext): Promise<QueueMessage[]> {
  const result = await ctx.exec({ argv: [ctx.host.tools.exim, '-bpr'], timeoutMs: 600_000, maxOutputBytes: 1024 * 1024 * 1024 });
  if (result.exitCode !== 0) throw new ActionError(`cannot list the Exim queue: ${describeCommandFailure(result)}`);
  if (result.truncated) throw new ActionError('the Exim queue listing was too large to read in one piece; purge in steps with exiqgrep-sized filters.');
  return parseQueueListing(result.stdout).messages;
}

export interface HeaderEvidence {
  authId?: string;
  hostAddress?: string;
  subject?: string;
  from?: string;
  phpScript?: string;
  phpOriginatingScript?: string;
}

export interface HeaderScan {
  byId: Map<string, HeaderEvidence>;
  /** sha256 over every byte the scan read, in order: the evidence fingerprint. */
  sha256: string;
  bytes: number;
  truncated: boolean;
}

const EVIDENCE_PATTERN = '^(--?auth_id |--?host_address |[0-9]{3}[A-Za-z* ] (subject|from|x-php-script|x-php-originating-script):)';

function clip(value: string): string {
  const v = value.trim();
  return v.length > VALUE_LIMIT ? `${v.slice(0, VALUE_LIMIT)}…` : v;
}

/** One `PATH-H:LINE` line of the scan into the evidence record. Pure. */
export function absorbEvidenceLine(record: HeaderEvidence, line: string): void {
  let m: RegExpExecArray | null;
  if ((m = /^--?auth_id (.*)$/.exec(line)) !== null) record.authId ??= clip(m[1] ?? '');
  else if ((m = /^--?host_address \[?([0-9A-Fa-f:.]+)\]?/.exec(line)) !== null) record.hostAddress ??= m[1] ?? '';
  else if ((m = /^[0-9]{3}[A-Za-z* ] ([A-Za-z-]+):(.*)$/.exec(line)) !== null) {
    const name = (m[1] ?? '').toLowerCase();
    const value = clip(m[2] ?? '');
    if (name === 'subject') record.subject ??= value;
    else if (name === 'from') record.from ??= value;
    else if (name === 'x-php-script') record.phpScript ??= value;
    else if (name === 'x-php-originating-script') record.phpOriginatingScript ??= value;
  }
}

/**
 * Reads the interesting lines of each message's -H file (auth id, client address, Subject,
 * From, X-PHP-Script) with grep in batches: one process per thousand messages instead of
 * one `exim -Mvh` per message. Messages gone meanwhile are simply absent.
 */
export async function scanHeaders(ctx: ActionContext, spool: SpoolInfo, ids: readonly string[]): Promise<HeaderScan> {
  const hash = createHash('sha256');
  const byId = new Map<string, HeaderEvidence>();
  let bytes = 0;
  let truncated = false;
  const prefix = `${spool.inputDir}/`;
  const lineRe = /^(?:[0-9A-Za-z]\/)?([0-9A-Za-z-]{16,23})-H:(.*)$/;
  for (let i = 0; i < ids.length; i += SCAN_BATCH) {
    const batch = ids.slice(i, i + SCAN_BATCH);
    const paths = batch.map((id) => `${prefix}${spoolHeaderPath(id, spool.split)}`);
    const result = await ctx.exec({
      argv: ['grep', '-H', '-i', '-E', '-m', String(LINES_PER_MESSAGE), '--binary-files=text', '-e', EVIDENCE_PATTERN, '--', ...paths],
      okExitCodes: [0, 1, 2],
      timeoutMs: 300_000,
      maxOutputBytes: 64 * 1024 * 1024,
    });
    if (result.exitCode === 2 && result.stdout === '' && !/No such file/.test(result.stderr)) {
      throw new ActionError(`cannot read the queued messages' headers: ${describeCommandFailure(result)}`);
    }
    hash.update(result.stdout);
    bytes += result.stdoutBytes;
    truncated ||= result.truncated;
    for (const line of result.stdout.split('\n')) {
      if (!line.startsWith(prefix)) continue;
      const m = lineRe.exec(line.slice(prefix.length));
      if (m === null || !isEximId(m[1] ?? '')) continue;
      const id = m[1] ?? '';
      let record = byId.get(id);
      if (record === undefined) byId.set(id, (record = {}));
      absorbEvidenceLine(record, m[2] ?? '');
    }
    ctx.progress(`read headers of ${Math.min(i + SCAN_BATCH, ids.length)}/${ids.length} messages`);
  }
  return { byId, sha256: hash.digest('hex'), bytes, truncated };
}

function top(values: Iterable<string | undefined>, limit = 10): Array<{ value: string; count: number }> {
  const counts = new Map<string, number>();
  for (const v of values) if (v !== undefined && v !== '') counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts]
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
    .slice(0, limit);
}

export interface EvidenceSummary {
  messages: number;
  headers_read: number;
  sha256: string;
  bytes: number;
  truncated: boolean;
  subjects: Array<{ value: string; count: number }>;
  from: Array<{ value: string; count: number }>;
  php_scripts: Array<{ value: string; count: number }>;
  auth_ids: Array<{ value: string; count: number }>;
  client_ips: Array<{ value: string; count: number }>;
}

export function summariseEvidence(ids: readonly string[], scan: HeaderScan): EvidenceSummary {
  const records = ids.map((id) => scan.byId.get(id)).filter((r): r is HeaderEvidence => r !== undefined);
  return {
    messages: ids.length,
    headers_read: records.length,
    sha256: scan.sha256,
    bytes: scan.bytes,
    truncated: scan.truncated,
    subjects: top(records.map((r) => r.subject)),
    from: top(records.map((r) => r.from), 5),
    php_scripts: top(records.map((r) => r.phpScript ?? r.phpOriginatingScript)),
    auth_ids: top(records.map((r) => r.authId)),
    client_ips: top(records.map((r) => r.hostAddress)),
  };
}

export type RemovalStatus = 'removed' | 'gone' | 'locked' | 'unknown';

/** `exim -Mrm` stdout: the last word on each ID. Pure. */
export function parseRemovalOutput(stdout: string, ids: readonly string[]): Map<string, RemovalStatus> {
  const status = new Map<string, RemovalStatus>(ids.map((id) => [id, 'unknown']));
  for (const line of stdout.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^Message (\S+) has been removed or did not exist$/.exec(line.trim())) !== null) {
      if (status.has(m[1] ?? '')) status.set(m[1] ?? '', 'gone');
    } else if ((m = /^Message (\S+) has been removed$/.exec(line.trim())) !== null) {
      if (status.has(m[1] ?? '')) status.set(m[1] ?? '', 'removed');
    } else if ((m = /^Message (\S+) is locked$/.exec(line.trim())) !== null) {
      if (status.has(m[1] ?? '')) status.set(m[1] ?? '', 'locked');
    }
  }
  return status;
}

export interface RemovalReport {
  removed: string[];
  gone: string[];
  locked: string[];
  unknown: string[];
}

async function removeBatch(ctx: ActionContext, batch: readonly string[], report: RemovalReport): Promise<void> {
  const result = await ctx.exec({ argv: [ctx.host.tools.exim, '-Mrm', ...batch], okExitCodes: [0, 1], timeoutMs: 600_000 });
  if (/malformed message id/.test(result.stderr)) {
    throw new ActionError(`Exim refused the removal batch as malformed (nothing in it was removed): ${describeCommandFailure(result)}`);
  }
  for (const [id, status] of parseRemovalOutput(result.stdout, batch)) report[status === 'removed' ? 'removed' : status].push(id);
}

/** `exim -Mrm` in batches. Every ID was validated; one malformed ID would void a whole batch. */
export async function removeMessages(ctx: ActionContext, ids: readonly string[], batchSize: number): Promise<RemovalReport> {
  const report: RemovalReport = { removed: [], gone: [], locked: [], unknown: [] };
  for (let i = 0; i < ids.length; i += batchSize) {
    await removeBatch(ctx, ids.slice(i, i + batchSize), report);
    ctx.progress(`removed ${report.removed.length}/${ids.length} messages`);
  }
  await retryLocked(ctx, report, batchSize);
  return report;
}

/** A message being delivered at that instant is locked; one more try after the rest. */
async function retryLocked(ctx: ActionContext, report: RemovalReport, batchSize: number): Promise<void> {
  if (report.locked.length === 0) return;
  const retry = report.locked.splice(0);
  for (let i = 0; i < retry.length; i += batchSize) await removeBatch(ctx, retry.slice(i, i + batchSize), report);
}

/** Two lanes: one reads a batch's headers while the other removes the batch it has read. */
const PURGE_LANES = 2;

/**
 * Evidence, then removal, batch by batch: each batch's headers are read before that batch is
 * removed, and two lanes overlap one batch's reading with another's removal. The evidence
 * fingerprint is the sha256 over the per-batch sha256 digests, in batch order.
 */
export async function evidenceThenRemove(
  ctx: ActionContext,
  spool: SpoolInfo,
  ids: readonly string[],
  batchSize: number,
  /** Runs on each batch after its headers are read and before it is removed; returns the IDs that may be removed. */
  beforeRemove?: (batch: readonly string[]) => Promise<readonly string[]>,
): Promise<{ scan: HeaderScan; report: RemovalReport }> {
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += batchSize) batches.push(ids.slice(i, i + batchSize));
  const scans: HeaderScan[] = new Array<HeaderScan>(batches.length);
  const report: RemovalReport = { removed: [], gone: [], locked: [], unknown: [] };
  let next = 0;
  let failure: unknown;
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < batches.length) {
      const index = next++;
      const batch = batches[index]!;
      try {
        scans[index] = await scanHeaders(ctx, spool, batch);
        const removable = beforeRemove === undefined ? batch : await beforeRemove(batch);
        if (removable.length > 0) await removeBatch(ctx, removable, report);
      } catch (error) {
        failure ??= error;
      }
      ctx.progress(`removed ${report.removed.length}/${ids.length} messages`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PURGE_LANES, batches.length) }, lane));
  if (failure !== undefined) throw failure;
  await retryLocked(ctx, report, batchSize);
  const combined = createHash('sha256');
  const byId = new Map<string, HeaderEvidence>();
  let bytes = 0;
  let truncated = false;
  for (const scan of scans) {
    combined.update(`${scan.sha256}\n`);
    for (const [id, record] of scan.byId) byId.set(id, record);
    bytes += scan.bytes;
    truncated ||= scan.truncated;
  }
  return { scan: { byId, sha256: combined.digest('hex'), bytes, truncated }, report };
}

export interface Selection {
  ids: string[];
  /** The selected messages as `exim -bpr` listed them, in queue order. */
  messages: QueueMessage[];
  queueTotal: number;
}

/**
 * Messages whose envelope sender is `sender`, or that arrived over SMTP AUTH as `authId`. Only
 * messages with a client address count for the AUTH id: a local submission (cron, a script)
 * carries its Unix login as auth id, and a cPanel account's name is that login too.
 */
export async function selectMessages(ctx: ActionContext, sender: string | undefined, authId: string | undefined, spool: () => Promise<SpoolInfo>): Promise<Selection> {
  const queue = await listQueue(ctx);
  const chosen = new Set<string>();
  if (sender !== undefined) for (const m of queue) if (!m.bounce && m.sender.toLowerCase() === sender && isEximId(m.id)) chosen.add(m.id);
  if (authId !== undefined) {
    const rest = queue.filter((m) => !chosen.has(m.id) && isEximId(m.id)).map((m) => m.id);
    const scan = await scanHeaders(ctx, await spool(), rest);
    for (const [id, evidence] of scan.byId) if (evidence.authId?.toLowerCase() === authId && evidence.hostAddress !== undefined) chosen.add(id);
  }
  const messages = queue.filter((m) => chosen.has(m.id));
  return { ids: messages.map((m) => m.id), messages, queueTotal: queue.length };
}

interface PlanData {
  sender: string | undefined;
  authId: string | undefined;
  max: number;
  batch: number;
  ids: string[];
  /** The selected messages as listed (sender, recipients) for the quarantine manifest. */
  listed: Map<string, QueueMessage>;
  listedAt: number;
  quarantine: boolean;
  quarantineDir: string | undefined;
}

function tooMany(count: number, max: number, who: string): ActionError {
  return new ActionError(`${count} queued messages match ${who}, more than max ${max}; nothing was removed. Check the sender, then raise max to at least ${count} if it is right.`);
}

function describeWho(sender: string | undefined, authId: string | undefined): string {
  if (sender === undefined) return `auth id ${authId ?? '?'}`;
  return `${sender}${authId !== undefined ? ` or auth id ${authId}` : ''}`;
}

function purgeAction(alwaysQuarantine: boolean): Action<typeof Params> {
  const name = alwaysQuarantine ? 'exim.queue.quarantine' : 'exim.queue.purge';
  return defineAction({
  name,
  description: alwaysQuarantine
    ? "Remove one sender's messages from the Exim queue, each kept aside (spool files and a manifest) so runbook undo can put it back"
    : "Remove one sender's messages from the Exim queue (exact envelope sender or SMTP AUTH id), keeping header evidence first; quarantine: true keeps the messages too",
  mutates: true,
  reversible: alwaysQuarantine,
  ...(alwaysQuarantine ? {} : { example: '--with sender=spammer@example.com' }),
  params: (alwaysQuarantine ? QuarantineParams : Params) as typeof Params,
  outputs: {
    matched: 'messages that matched',
    removed: 'messages removed',
    removed_ids: 'every removed message ID',
    evidence: 'summary of the removed messages\' headers with the sha256 of everything read',
    quarantine: 'the host directory holding the removed messages and their manifest, or null',
  },
  async plan(ctx, params: PurgeParams): Promise<ActionPlan<PlanData>> {
    const authId = requireAuthId(params.auth_id);
    if (params.sender === undefined && authId === undefined) throw new ActionError(`${name} needs a sender, an auth_id or both.`);
    const sender = params.sender === undefined ? undefined : requireSender(params.sender);
    const max = params.max ?? DEFAULT_MAX;
    const batch = params.batch ?? DEFAULT_BATCH;
    const quarantine = alwaysQuarantine || params.quarantine === true;
    let spool: SpoolInfo | undefined;
    const getSpool = async (): Promise<SpoolInfo> => (spool ??= await spoolInfo(ctx));
    const selection = await selectMessages(ctx, sender, authId, getSpool);
    const count = selection.ids.length;
    const who = describeWho(sender, authId);
    if (count > max) throw tooMany(count, max, who);
    const data: PlanData = {
      sender,
      authId,
      max,
      batch,
      ids: selection.ids,
      listed: new Map(selection.messages.map((m) => [m.id, m])),
      listedAt: Date.now(),
      quarantine,
      quarantineDir: params.quarantine_dir,
    };
    // Refused here, in the plan a dry-run shows, when the copies would fill the spool's filesystem.
    const room = quarantine && count > 0 ? await checkQuarantineSpace(ctx, await getSpool(), params.quarantine_dir, selection.ids) : undefined;
    const facts = { matched: count, queue_total: selection.queueTotal, sample_ids: selection.ids.slice(0, 5), restorable: quarantine, ...(room !== undefined ? { quarantine_bytes: room.need, free_bytes: room.avail } : {}) };
    const hashed = { sender: sender ?? null, auth_id: authId ?? null, max, ...(quarantine ? { quarantine: params.quarantine_dir ?? true } : {}) };
    if (count === 0) return { summary: `no queued messages from ${who}`, commands: [], noop: true, hashed, data, facts };
    const commands = [];
    for (let i = 0; i < count; i += batch) commands.push({ argv: [ctx.host.tools.exim, '-Mrm', ...selection.ids.slice(i, i + batch)], okExitCodes: [0, 1] });
    const kept = quarantine
      ? 'headers kept as evidence and the messages kept in quarantine first; runbook undo can put them back'
      : 'headers kept as evidence first; NOTHING CAN RESTORE the messages: add quarantine: true to keep them';
    return { summary: `remove ${count} of ${selection.queueTotal} queued messages from ${who} (${kept})`, commands, hashed, data, facts };
  },
  async run(ctx, _params, plan) {
    const data = plan.data!;
    let spool: SpoolInfo | undefined;
    const getSpool = async (): Promise<SpoolInfo> => (spool ??= await spoolInfo(ctx));
    let ids = data.ids;
    let listed = data.listed;
    if (Date.now() - data.listedAt > STALE_PLAN_MS || plan.noop === true) {
      const fresh = await selectMessages(ctx, data.sender, data.authId, getSpool);
      ids = fresh.ids;
      listed = new Map(fresh.messages.map((m) => [m.id, m]));
      if (ids.length > data.max) throw tooMany(ids.length, data.max, describeWho(data.sender, data.authId));
    }
    const who = describeWho(data.sender, data.authId);
    const base = { sender: data.sender ?? null, auth_id: data.authId ?? null, matched: ids.length };
    if (ids.length === 0) {
      return { changed: false, outputs: { ...base, removed: 0, removed_ids: [], gone_ids: [], locked_ids: [], quarantine: null }, summary: `no queued messages from ${who}` };
    }
    const quarantine = data.quarantine ? await Quarantine.open(ctx, await getSpool(), data.quarantineDir) : undefined;
    let removal: Awaited<ReturnType<typeof evidenceThenRemove>>;
    try {
      removal = await evidenceThenRemove(ctx, await getSpool(), ids, data.batch, quarantine === undefined ? undefined : (batch) => quarantine.keep(batch));
    } catch (error) {
      // Some batches may be gone already: their copies get a manifest so they can be put back.
      if (quarantine !== undefined && quarantine.keptIds().length > 0) {
        const kept = await quarantine.writeManifest(quarantine.keptIds(), listed);
        await ctx.note(`the purge stopped part-way; ${kept.count} messages copied so far are kept in ${quarantine.dir} (manifest sha256 ${kept.sha256}); ${queueRestore.name} with quarantine: ${quarantine.dir} puts back those no longer queued`, { quarantine: quarantine.dir, manifest_sha256: kept.sha256 });
      }
      throw error;
    }
    const { scan, report } = removal;
    const evidence = summariseEvidence(ids, scan);
    await ctx.note(`evidence: headers of ${evidence.headers_read} of ${ids.length} messages, each batch read before it was removed (sha256 ${evidence.sha256})`, { evidence });
    const kept = quarantine === undefined ? undefined : { dir: quarantine.dir, ...(await quarantine.writeManifest(report.removed, listed)) };
    if (kept !== undefined) await ctx.note(`quarantine: ${kept.count} removed messages kept in ${kept.dir} (manifest sha256 ${kept.sha256})`, { quarantine: kept.dir, manifest_sha256: kept.sha256 });
    const outputs = {
      ...base,
      removed: report.removed.length,
      removed_ids: report.removed,
      gone_ids: report.gone,
      locked_ids: report.locked,
      unknown_ids: report.unknown,
      evidence,
      quarantine: kept?.dir ?? null,
    };
    if (report.locked.length > 0 || report.unknown.length > 0) {
      await ctx.note(`${report.locked.length} messages stayed locked and ${report.unknown.length} got no answer from exim -Mrm; they are still queued`, {
        locked: report.locked.slice(0, 100),
        unknown: report.unknown.slice(0, 100),
      });
    }
    const removed = report.removed.length > 0;
    const undo: UndoRecord[] =
      removed && kept !== undefined
        ? [{ action: queueRestore.name, params: { quarantine: kept.dir, ids: [...report.removed], manifest_sha256: kept.sha256 }, description: `put the ${report.removed.length} removed messages back into the queue from ${kept.dir}` }]
        : [];
    // Each record gets its own copy of an ID list: the audit writer would print a shared one as [circular].
    const result: ActionResult = {
      changed: removed,
      outputs,
      summary: `removed ${report.removed.length} messages from ${who}` +
        (kept !== undefined ? ` (kept in ${kept.dir})` : '') +
        (report.gone.length > 0 ? `, ${report.gone.length} already gone` : '') +
        (report.locked.length > 0 ? `, ${report.locked.length} locked (still queued)` : ''),
      changes: removed
        ? [{ kind: 'messages-removed', count: report.removed.length, ids: [...report.removed], ...(data.sender !== undefined ? { sender: data.sender } : {}), ...(data.authId !== undefined ? { authId: data.authId } : {}), ...(kept !== undefined ? { quarantine: kept.dir } : {}) }]
        : [],
      ...(undo.length > 0 ? { undo } : {}),
      irreversible: removed && kept === undefined ? [`${report.removed.length} queued messages from ${who} were deleted; their headers' evidence sha256 is ${evidence.sha256}`] : [],
    };
    return result;
  },
  counters: { messages_purged: 'messages purged' },
  counts: (result) => ({ messages_purged: typeof result.outputs.removed === 'number' ? result.outputs.removed : 0 }),
  });
}

export const queuePurge = purgeAction(false);
/** The purge that always keeps the messages: reversible, so an unattended run may use it. */
export const queueQuarantine = purgeAction(true);
