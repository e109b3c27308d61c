import { createHash, randomBytes } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { isEximId, spoolHeaderPath } from '../../parsers/exim-id.js';
import type { QueueMessage } from '../../parsers/exim-bp.js';
import { readHostFile } from '../files/host-read.js';
import { describeCommandFailure } from '../service/command-failure.js';
import { ActionError, defineAction, type ActionContext, type ActionPlan, type CommandSpec } from '../types.js';
import { listQueue, spoolInfo, type SpoolInfo } from './purge.js';

/*
 * The queue quarantine: before exim -Mrm, each message's spool files (-H envelope and headers,
 * -D body) are copied aside with a manifest (ID, sender, recipients, sha256 of every file), so
 * a wrongly removed message can be put back into the spool exactly as it was. The copies stay on
 * the host, beside Exim's spool (same filesystem, same owner), until `runbook quarantine prune`
 * deletes them past their retention (quarantine-prune.ts); a quarantine that would leave that
 * filesystem nearly full is refused before anything is removed.
 */

export const MANIFEST = 'manifest.json';
const FORMAT = 'runbook-quarantine/1';
/** Files per cp/sha256sum call: keeps argv far below ARG_MAX. */
const FILE_BATCH = 500;

export interface QuarantinedFile {
  name: string;
  sha256: string;
}

export interface ManifestEntry {
  id: string;
  sender: string;
  recipients: string[];
  files: QuarantinedFile[];
}

export interface QuarantineManifest {
  format: typeof FORMAT;
  created: string;
  host: string;
  /** Where the messages were: `exim -bP spool_directory` + `/input`, and whether the spool is split. */
  spool: { input_dir: string; split: boolean };
  messages: ManifestEntry[];
}

/** The spool-relative path of one of a message's files: `X/ID-H` on a split spool. */
function spoolName(id: string, suffix: 'H' | 'D', split: boolean): string {
  return spoolHeaderPath(id, split).replace(/-H$/, `-${suffix}`);
}

function spoolDirectory(spool: SpoolInfo): string {
  return spool.inputDir.replace(/\/input$/, '');
}

/** A fresh quarantine directory name under `base` (default: `runbook-quarantine` in Exim's spool directory). */
export function quarantineDirFor(spool: SpoolInfo, base: string | undefined, now: Date = new Date()): string {
  const parent = (base ?? `${spoolDirectory(spool)}/runbook-quarantine`).replace(/\/+$/, '');
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${parent}/${stamp}-${randomBytes(3).toString('hex')}`;
}

/** `sha256sum` output (`HASH  PATH` lines) as path → hash. Pure. */
export function parseSha256sum(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^\\?([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (m !== null) out.set(m[2] ?? '', m[1] ?? '');
  }
  return out;
}

async function sha256Files(ctx: ActionContext, paths: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < paths.length; i += FILE_BATCH) {
    const result = await ctx.exec({ argv: ['sha256sum', '--', ...paths.slice(i, i + FILE_BATCH)], okExitCodes: [0, 1], timeoutMs: 600_000 });
    for (const [path, hash] of parseSha256sum(result.stdout)) out.set(path, hash);
  }
  return out;
}

async function run(ctx: ActionContext, command: CommandSpec, what: string): Promise<void> {
  const result = await ctx.exec(command);
  if (result.exitCode !== 0) throw new ActionError(`cannot ${what}: ${describeCommandFailure(result)}`);
}

/** Free space a quarantine must leave on its filesystem: Exim stops taking mail on a full spool. Pure. */
export function quarantineReserve(filesystemBytes: number): number {
  return Math.min(Math.max(100 * 2 ** 20, Math.floor(filesystemBytes * 0.02)), 2 ** 30);
}

/** `df -B1 --output=size,avail` output: the filesystem's size and free bytes. Pure. */
export function parseDf(stdout: string): { size: number; avail: number } | undefined {
  const m = /^\s*(\d+)\s+(\d+)\s*$/m.exec(stdout.split('\n').slice(1).join('\n'));
  return m === null ? undefined : { size: Number(m[1]), avail: Number(m[2]) };
}

/** `du -c -b` output: its total line. Pure. */
export function parseDuTotal(stdout: string): number {
  const m = /^(\d+)\s+total$/m.exec(stdout);
  return m === null ? 0 : Number(m[1]);
}

export interface QuarantineSpace {
  /** Bytes of the messages' spool files. */
  need: number;
  avail: number;
  reserve: number;
  /** The existing directory `df` was asked about. */
  checked: string;
}

/**
 * Whether the copies of `ids` fit where the quarantine goes and leave the reserve free: the copies
 * go beside Exim's spool by default, and filling that filesystem would stop the server's mail.
 * Throws with what to do when they do not; nothing has been changed then.
 */
export async function checkQuarantineSpace(ctx: ActionContext, spool: SpoolInfo, base: string | undefined, ids: readonly string[]): Promise<QuarantineSpace> {
  const target = (base ?? `${spoolDirectory(spool)}/runbook-quarantine`).replace(/\/+$/, '') || '/';
  // The quarantine directory may not exist yet: ask about its nearest existing parent.
  let checked = target;
  let fs: { size: number; avail: number } | undefined;
  for (;;) {
    const r = await ctx.exec({ argv: ['df', '-B1', '--output=size,avail', '--', checked], okExitCodes: [0, 1], timeoutMs: 30_000 });
    fs = r.exitCode === 0 ? parseDf(r.stdout) : undefined;
    if (fs !== undefined || checked === '/') break;
    checked = checked.slice(0, checked.lastIndexOf('/')) || '/';
  }
  if (fs === undefined) throw new ActionError(`cannot tell how much room there is for the quarantine under ${target} (df answered nothing); nothing was removed.`);
  const files = ids.flatMap((id) => (['H', 'D'] as const).map((s) => `${spool.inputDir}/${spoolName(id, s, spool.split)}`));
  let need = 0;
  for (let i = 0; i < files.length; i += FILE_BATCH) {
    // Exit 1: a message delivered meanwhile has no files; it needs no room.
    const r = await ctx.exec({ argv: ['du', '-c', '-b', '--', ...files.slice(i, i + FILE_BATCH)], okExitCodes: [0, 1], timeoutMs: 600_000 });
    need += parseDuTotal(r.stdout);
  }
  const reserve = quarantineReserve(fs.size);
  const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (fs.avail - need < reserve) {
    throw new ActionError(
      `the quarantine needs ${mib(need)} under ${target}, and ${checked}'s filesystem has ${mib(fs.avail)} free: copying would leave less than ${mib(reserve)}, ` +
        `and a full spool filesystem stops Exim taking mail. Nothing was removed. Give quarantine_dir on a filesystem with room, free some space, or purge without quarantine (not restorable).`,
    );
  }
  return { need, avail: fs.avail, reserve, checked };
}

/** Copies a purge's messages aside batch by batch and writes the manifest once they are removed. */
export class Quarantine {
  readonly dir: string;
  private readonly kept = new Map<string, QuarantinedFile[]>();

  private constructor(private readonly ctx: ActionContext, private readonly spool: SpoolInfo, dir: string) {
    this.dir = dir;
  }

  /** Creates the directory (mode 0700: message bodies are private). */
  static async open(ctx: ActionContext, spool: SpoolInfo, base: string | undefined): Promise<Quarantine> {
    const dir = quarantineDirFor(spool, base);
    await run(ctx, { argv: ['mkdir', '-p', '--', dir.slice(0, dir.lastIndexOf('/'))], timeoutMs: 30_000 }, `create the quarantine directory's parent for ${dir}`);
    await run(ctx, { argv: ['mkdir', '-m', '0700', '--', dir], timeoutMs: 30_000 }, `create the quarantine directory ${dir}`);
    return new Quarantine(ctx, spool, dir);
  }

  /**
   * Copies each message's -H and -D aside (owner, mode and times kept) and hashes the copies.
   * Returns the IDs whose two files were both copied: only those may be removed.
   */
  async keep(ids: readonly string[]): Promise<string[]> {
    const sources = ids.flatMap((id) => (['H', 'D'] as const).map((s) => `${this.spool.inputDir}/${spoolName(id, s, this.spool.split)}`));
    for (let i = 0; i < sources.length; i += FILE_BATCH) {
      // Exit 1: a message delivered or removed meanwhile has no files left; the hashes below tell.
      const result = await this.ctx.exec({ argv: ['cp', '-p', '--', ...sources.slice(i, i + FILE_BATCH), `${this.dir}/`], okExitCodes: [0, 1], timeoutMs: 600_000 });
      if (result.exitCode !== 0 && !/No such file/.test(result.stderr)) throw new ActionError(`cannot copy messages into the quarantine ${this.dir}: ${describeCommandFailure(result)}; nothing of this batch was removed.`);
    }
    const hashes = await sha256Files(this.ctx, ids.flatMap((id) => [`${this.dir}/${id}-H`, `${this.dir}/${id}-D`]));
    const complete: string[] = [];
    const partial: string[] = [];
    for (const id of ids) {
      const h = hashes.get(`${this.dir}/${id}-H`);
      const d = hashes.get(`${this.dir}/${id}-D`);
      if (h !== undefined && d !== undefined) {
        this.kept.set(id, [{ name: `${id}-H`, sha256: h }, { name: `${id}-D`, sha256: d }]);
        complete.push(id);
      } else partial.push(id);
    }
    await this.discard(partial);
    return complete;
  }

  /** The messages copied so far (both files). */
  keptIds(): string[] {
    return [...this.kept.keys()];
  }

  /** Removes the copies of messages that were not removed from the queue after all. */
  async discard(ids: readonly string[]): Promise<void> {
    const paths = ids.flatMap((id) => [`${this.dir}/${id}-H`, `${this.dir}/${id}-D`]);
    for (const id of ids) this.kept.delete(id);
    for (let i = 0; i < paths.length; i += FILE_BATCH) await run(this.ctx, { argv: ['rm', '-f', '--', ...paths.slice(i, i + FILE_BATCH)], timeoutMs: 120_000 }, 'remove unneeded quarantine copies');
  }

  /** Writes the manifest of the removed messages; returns its sha256. */
  async writeManifest(removed: readonly string[], listed: ReadonlyMap<string, QueueMessage>): Promise<{ sha256: string; count: number }> {
    await this.discard([...this.kept.keys()].filter((id) => !removed.includes(id)));
    const manifest: QuarantineManifest = {
      format: FORMAT,
      created: new Date().toISOString(),
      host: this.ctx.host.name,
      spool: { input_dir: this.spool.inputDir, split: this.spool.split },
      messages: removed.flatMap((id) => {
        const files = this.kept.get(id);
        const m = listed.get(id);
        return files === undefined ? [] : [{ id, sender: m?.sender ?? '', recipients: (m?.recipients ?? []).filter((r) => !r.delivered).map((r) => r.address), files }];
      }),
    };
    const text = `${JSON.stringify(manifest, null, 1)}\n`;
    await run(this.ctx, { argv: ['dd', `of=${this.dir}/${MANIFEST}`, 'status=none'], stdin: text, timeoutMs: 120_000 }, `write the quarantine manifest in ${this.dir}`);
    return { sha256: createHash('sha256').update(text).digest('hex'), count: manifest.messages.length };
  }
}

/** A manifest as read back from the host; refuses anything that is not one. Pure. */
export function parseManifest(text: string, dir: string): QuarantineManifest {
  let data: unknown;
  try {
    data = JSON.parse(text) as unknown;
  } catch {
    throw new ActionError(`${dir}/${MANIFEST} is not valid JSON; it is not a runbook quarantine manifest.`);
  }
  const m = data as Partial<QuarantineManifest>;
  if (m.format !== FORMAT || !Array.isArray(m.messages)) throw new ActionError(`${dir}/${MANIFEST} is not a runbook quarantine manifest (${FORMAT}).`);
  for (const e of m.messages) {
    const names = Array.isArray(e?.files) ? e.files.map((f) => f.name).sort() : [];
    if (typeof e?.id !== 'string' || !isEximId(e.id) || names.join(',') !== `${e.id}-D,${e.id}-H` || !e.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256))) {
      throw new ActionError(`${dir}/${MANIFEST} has an entry runbook will not restore from (${JSON.stringify(e?.id ?? null)}); check the manifest by hand.`);
    }
  }
  return m as QuarantineManifest;
}

const RestoreParams = Type.Object(
  {
    quarantine: Type.String({ pattern: '^/', minLength: 2, maxLength: 4096, description: 'The quarantine directory a purge recorded' }),
    ids: Type.Optional(Type.Array(Type.String({ pattern: '^[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}$' }), { description: 'Only these messages (default: every one in the manifest)' })),
    manifest_sha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$', description: 'Refuse unless the manifest still has this sha256 (the purge recorded it)' })),
  },
  { additionalProperties: false },
);

interface RestorePlanData {
  dir: string;
  ids: string[];
}

export const queueRestore = defineAction({
  name: 'exim.queue.restore',
  description: 'Put quarantined messages back into the Exim queue, files checked against the manifest; the undo of a purge with quarantine',
  mutates: true,
  reversible: false,
  params: RestoreParams,
  outputs: { restored: 'messages back in the queue', ids: 'their IDs', already_queued: 'messages that were still (or again) queued' },
  async plan(ctx, params: Static<typeof RestoreParams>): Promise<ActionPlan<RestorePlanData>> {
    const dir = params.quarantine.replace(/\/+$/, '');
    if (dir.split('/').includes('..')) throw new ActionError(`quarantine "${params.quarantine}" must be a plain absolute path.`);
    const text = await readHostFile(ctx, `${dir}/${MANIFEST}`);
    if (text === null) throw new ActionError(`${dir}/${MANIFEST} does not exist on ${ctx.host.name}; the quarantine was moved or deleted, nothing can be restored from it.`);
    if (params.manifest_sha256 !== undefined && createHash('sha256').update(text).digest('hex') !== params.manifest_sha256) {
      throw new ActionError(`${dir}/${MANIFEST} changed since the purge wrote it (sha256 differs); runbook will not restore from it.`);
    }
    const manifest = parseManifest(text, dir);
    const byId = new Map(manifest.messages.map((e) => [e.id, e]));
    const wanted = params.ids ?? manifest.messages.map((e) => e.id);
    const unknown = wanted.filter((id) => !byId.has(id));
    if (unknown.length > 0) throw new ActionError(`${unknown.length} of the messages to restore are not in ${dir}/${MANIFEST} (${unknown.slice(0, 3).join(', ')}); nothing was restored.`);
    const queued = new Set((await listQueue(ctx)).map((m) => m.id));
    const ids = wanted.filter((id) => !queued.has(id));
    const facts = { in_manifest: manifest.messages.length, already_queued: wanted.length - ids.length };
    if (ids.length === 0) return { summary: `every message of ${dir} is queued already`, commands: [], noop: true, data: { dir, ids }, facts };
    // The copies must be what was removed: a changed file is not put into Exim's spool.
    const hashes = await sha256Files(ctx, ids.flatMap((id) => byId.get(id)!.files.map((f) => `${dir}/${f.name}`)));
    for (const id of ids) {
      for (const f of byId.get(id)!.files) {
        const now = hashes.get(`${dir}/${f.name}`);
        if (now !== f.sha256) throw new ActionError(`${dir}/${f.name} ${now === undefined ? 'is missing' : 'does not match its sha256 in the manifest'}; nothing was restored.`);
      }
    }
    const spool = await spoolInfo(ctx);
    const commands: CommandSpec[] = [];
    const bySubdir = new Map<string, string[]>();
    for (const id of ids) {
      const sub = spool.split ? `${spool.inputDir}/${id.charAt(5)}` : spool.inputDir;
      bySubdir.set(sub, [...(bySubdir.get(sub) ?? []), id]);
    }
    for (const sub of bySubdir.keys()) {
      if (sub === spool.inputDir) continue;
      // Exim creates split-spool directories as its own user; one made here must be Exim's too.
      commands.push({ argv: ['mkdir', '-p', '--', sub], timeoutMs: 30_000 });
      commands.push({ argv: ['chown', `--reference=${spool.inputDir}`, '--', sub], timeoutMs: 30_000 });
      commands.push({ argv: ['chmod', `--reference=${spool.inputDir}`, '--', sub], timeoutMs: 30_000 });
    }
    // Bodies first: Exim sees a message by its -H file, which must not appear before its -D.
    for (const suffix of ['D', 'H'] as const) {
      for (const [sub, group] of bySubdir) {
        for (let i = 0; i < group.length; i += FILE_BATCH) {
          commands.push({ argv: ['cp', '-p', '--', ...group.slice(i, i + FILE_BATCH).map((id) => `${dir}/${id}-${suffix}`), `${sub}/`], timeoutMs: 600_000 });
        }
      }
    }
    return { summary: `put ${ids.length} quarantined messages back into the queue from ${dir}`, commands, hashed: { dir, ids }, data: { dir, ids }, facts };
  },
  async run(ctx, _params, plan) {
    const { dir, ids } = plan.data!;
    if (plan.noop === true || plan.commands.length === 0) return { changed: false, outputs: { restored: 0, ids: [], already_queued: ids.length }, summary: plan.summary };
    for (const command of plan.commands) await run(ctx, command, `put quarantined messages back from ${dir}`);
    const queued = new Set((await listQueue(ctx)).map((m) => m.id));
    const back = ids.filter((id) => queued.has(id));
    const missing = ids.filter((id) => !queued.has(id));
    if (missing.length > 0) await ctx.note(`${missing.length} restored messages are not listed by exim -bpr (delivered at once, or unreadable); check the spool`, { missing: missing.slice(0, 100) });
    return {
      changed: true,
      outputs: { restored: back.length, ids: back, already_queued: 0 },
      summary: `put ${back.length} messages back into the queue from ${dir}`,
      changes: [{ kind: 'messages-restored', count: ids.length, ids: [...ids], quarantine: dir }],
    };
  },
  counters: { messages_restored: 'messages restored from quarantine' },
  counts: (result) => ({ messages_restored: typeof result.outputs.restored === 'number' ? result.outputs.restored : 0 }),
});
