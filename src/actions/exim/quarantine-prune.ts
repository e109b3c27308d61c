import { createHash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { readHostFile } from '../files/host-read.js';
import { describeCommandFailure } from '../service/command-failure.js';
import { ActionError, defineAction, type ActionContext, type CommandSpec } from '../types.js';
import { MANIFEST, parseManifest } from './quarantine.js';

/*
 * Deleting a purge's quarantine once it is no longer wanted (past its retention, or its
 * messages put back). Only what the manifest lists is removed, then the empty directory: a
 * path read from an audit log never reaches `rm -r`, and a directory holding anything else is
 * left for a human. Irreversible: the copies were the only way to put the messages back.
 */

/** Files per rm call: keeps argv far below ARG_MAX. */
const FILE_BATCH = 500;
/** The last path element a purge gives its quarantine: `20261207T101500Z-a1b2c3`. */
const QUARANTINE_NAME = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;

const Params = Type.Object(
  {
    quarantine: Type.String({ pattern: '^/', minLength: 2, maxLength: 4096, description: 'The quarantine directory a purge recorded' }),
    manifest_sha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$', description: 'Refuse unless the manifest still has this sha256 (the purge recorded it)' })),
  },
  { additionalProperties: false },
);

/**
 * Refuses unless `dir` itself is a directory, not a symbolic link to one: the deletions name
 * files under it, and through a link they would land wherever it points. find -P (its default)
 * reports a link given as the starting point as a link.
 */
async function assertRealDirectory(ctx: ActionContext, dir: string): Promise<void> {
  const r = await ctx.exec({ argv: ['find', dir, '-maxdepth', '0', '-printf', '%y'], okExitCodes: [0, 1], timeoutMs: 30_000 });
  const type = r.exitCode === 0 ? r.stdout.trim() : '';
  if (type !== 'd') throw new ActionError(`${dir} is ${type === 'l' ? 'a symbolic link' : 'not a directory'}; runbook deletes only from the quarantine directory itself, nothing was deleted. Check it by hand.`);
}

interface PruneData {
  dir: string;
  messages: number;
  /** Files the manifest lists that were already gone (an earlier prune stopped part-way). */
  gone: number;
  goneFiles: string[];
}

/** The names directly in `dir`, or an error that nothing was deleted. */
async function namesIn(ctx: ActionContext, dir: string): Promise<string[]> {
  const present = await ctx.exec({ argv: ['find', dir, '-mindepth', '1', '-maxdepth', '1', '-printf', '%f\\n'], timeoutMs: 120_000 });
  if (present.exitCode !== 0) throw new ActionError(`cannot list ${dir}: ${describeCommandFailure(present)}; nothing was deleted.`);
  return present.stdout.split('\n').filter((n) => n !== '');
}

export const quarantinePrune = defineAction({
  name: 'exim.quarantine.prune',
  description: "Delete a purge's quarantine copies (the files its manifest lists, then the directory); after this the purge cannot be undone",
  mutates: true,
  reversible: false,
  params: Params,
  example: 'quarantine=/var/spool/exim/runbook-quarantine/20261207T101500Z-a1b2c3',
  outputs: { removed: 'messages whose copies were deleted', quarantine: 'the directory' },
  removes: (params: Static<typeof Params>) => params.quarantine.replace(/\/+$/, ''),
  async plan(ctx, params: Static<typeof Params>) {
    const dir = params.quarantine.replace(/\/+$/, '');
    const name = dir.slice(dir.lastIndexOf('/') + 1);
    if (dir.split('/').includes('..') || !QUARANTINE_NAME.test(name)) {
      throw new ActionError(`${params.quarantine} is not a quarantine directory a purge made (…/${'YYYYMMDDTHHMMSSZ-xxxxxx'}); nothing was deleted.`);
    }
    const text = await readHostFile(ctx, `${dir}/${MANIFEST}`);
    if (text === null) {
      const exists = await ctx.exec({ argv: ['test', '-e', dir], okExitCodes: [0, 1], timeoutMs: 30_000 });
      if (exists.exitCode !== 0) return { summary: `${dir} is already gone`, commands: [], noop: true, data: { dir, messages: 0, gone: 0, goneFiles: [] } };
      // A prune stopped after the manifest (deleted last) leaves the directory: empty, only rmdir is left to do.
      await assertRealDirectory(ctx, dir);
      if ((await namesIn(ctx, dir)).length > 0) throw new ActionError(`${dir} has no ${MANIFEST}; runbook deletes only what a manifest lists. Check the directory by hand.`);
      return {
        summary: `remove the empty quarantine directory ${dir} (an earlier prune deleted its files and manifest)`,
        commands: [{ argv: ['rmdir', '--', dir], timeoutMs: 30_000 }],
        hashed: { dir, manifest_sha256: null },
        data: { dir, messages: 0, gone: 0, goneFiles: [] },
      };
    }
    if (params.manifest_sha256 !== undefined && createHash('sha256').update(text).digest('hex') !== params.manifest_sha256) {
      throw new ActionError(`${dir}/${MANIFEST} changed since the purge wrote it (sha256 differs); runbook will not delete from it. Check the directory by hand.`);
    }
    await assertRealDirectory(ctx, dir);
    const manifest = parseManifest(text, dir);
    const listed = new Set([MANIFEST, ...manifest.messages.flatMap((m) => m.files.map((f) => f.name))]);
    // Anything else in there was put by someone else: nothing is deleted, so nothing is half-done.
    const present = new Set(await namesIn(ctx, dir));
    const extra = [...present].filter((n) => !listed.has(n));
    if (extra.length > 0) throw new ActionError(`${dir} holds ${extra.length} file(s) its manifest does not list (${extra.slice(0, 3).map((n) => JSON.stringify(n)).join(', ')}); nothing was deleted. Check the directory by hand.`);
    // Only what is still there: after a prune stopped part-way, the log must not claim a file twice.
    const names = manifest.messages.flatMap((m) => m.files.map((f) => f.name));
    const files = names.filter((n) => present.has(n)).map((n) => `${dir}/${n}`);
    const goneFiles = names.filter((n) => !present.has(n)).map((n) => `${dir}/${n}`);
    const gone = goneFiles.length;
    const commands: CommandSpec[] = [];
    for (let i = 0; i < files.length; i += FILE_BATCH) commands.push({ argv: ['rm', '-f', '--', ...files.slice(i, i + FILE_BATCH)], timeoutMs: 600_000 });
    // The manifest last: a deletion stopped part-way can be finished from it.
    commands.push({ argv: ['rm', '-f', '--', `${dir}/${MANIFEST}`], timeoutMs: 30_000 });
    commands.push({ argv: ['rmdir', '--', dir], timeoutMs: 30_000 });
    return {
      summary: `delete the quarantine copies of ${manifest.messages.length} messages in ${dir} (their purge can no longer be undone)${gone > 0 ? `; ${gone} of their files were already gone` : ''}`,
      commands,
      hashed: { dir, manifest_sha256: createHash('sha256').update(text).digest('hex') },
      data: { dir, messages: manifest.messages.length, gone, goneFiles },
      facts: { messages: manifest.messages.length, created: manifest.created },
    };
  },
  async run(ctx, _params, plan) {
    const { dir, messages, gone, goneFiles } = plan.data!;
    if (plan.noop === true) return { changed: false, outputs: { removed: 0, quarantine: dir }, summary: plan.summary };
    // Again at the run: the directory may have been swapped for a link while the gate waited.
    await assertRealDirectory(ctx, dir);
    // Which files this run found gone, by name: with the earlier run's records, every file is accounted for.
    if (gone > 0) await ctx.note(`${gone} of the files the manifest of ${dir} lists were already gone (an earlier prune stopped part-way); not deleted again`, { dir, already_gone: goneFiles });
    for (const command of plan.commands) {
      const result = await ctx.exec(command);
      if (result.exitCode !== 0) throw new ActionError(`cannot delete the quarantine ${dir}: ${describeCommandFailure(result)}${command.argv[0] === 'rmdir' ? ' (files the manifest does not list are left; check the directory by hand)' : ''}`);
    }
    return {
      changed: true,
      outputs: { removed: messages, quarantine: dir },
      summary: messages === 0 ? `removed the empty quarantine directory ${dir}` : `deleted the quarantine copies of ${messages} messages in ${dir}${gone > 0 ? ` (${gone} of their files were already gone)` : ''}`,
      irreversible: messages === 0 ? [] : [`the quarantine copies of ${messages} messages in ${dir} were deleted; their purge can no longer be undone`],
      changes: [{ kind: 'quarantine-removed', quarantine: dir, count: messages }],
    };
  },
  counters: { quarantines_pruned: 'quarantines deleted' },
  counts: (result) => ({ quarantines_pruned: result.changed ? 1 : 0 }),
});
