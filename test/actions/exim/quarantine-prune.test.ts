// exim.quarantine.prune on real directories: a quarantine path that is a symbolic link (made
// before the plan, or swapped in between the plan and the run) is refused, nothing deleted.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { quarantinePrune } from '../../../src/actions/exim/quarantine-prune.js';
import { makeContext, mutating } from '../support/context.js';

const NAME = '20261207T101500Z-a1b2c3';
const ID = '1vAbCd-000Aaa-0A';
let base: string;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'runbook-qprune-action-'));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

/** A quarantine as a purge leaves it, in `parent`; its manifest's sha256. */
function quarantine(parent: string): { dir: string; sha256: string } {
  const dir = join(parent, NAME);
  mkdirSync(dir, { recursive: true });
  const files = ['D', 'H'].map((s) => {
    const body = `${ID}-${s} body\n`;
    writeFileSync(join(dir, `${ID}-${s}`), body);
    return { name: `${ID}-${s}`, sha256: createHash('sha256').update(body).digest('hex') };
  });
  const manifest = JSON.stringify({ format: 'runbook-quarantine/1', created: '2026-12-07T10:15:00Z', host: 'test-host', spool: { input_dir: '/var/spool/exim/input', split: false }, messages: [{ id: ID, sender: 'a@b.test', recipients: ['c@d.test'], files }] });
  writeFileSync(join(dir, 'manifest.json'), manifest);
  return { dir, sha256: createHash('sha256').update(manifest).digest('hex') };
}

describe('exim.quarantine.prune', () => {
  it('deletes what the manifest lists, then the directory', async () => {
    const { dir, sha256 } = quarantine(join(base, 'q'));
    const action = mutating(quarantinePrune);
    const ctx = makeContext();
    const plan = await action.plan(ctx, { quarantine: dir, manifest_sha256: sha256 } as never);
    await action.run(ctx, { quarantine: dir } as never, plan);
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses a quarantine path that is a symbolic link, deleting nothing through it', async () => {
    const { dir: real, sha256 } = quarantine(join(base, 'elsewhere'));
    mkdirSync(join(base, 'q'));
    const link = join(base, 'q', NAME);
    symlinkSync(real, link);
    const ctx = makeContext();
    await expect(mutating(quarantinePrune).plan(ctx, { quarantine: link, manifest_sha256: sha256 } as never)).rejects.toThrow(/not a directory|symbolic link/);
    expect(readdirSync(real).sort()).toEqual([`${ID}-D`, `${ID}-H`, 'manifest.json']);
  });

  it('refuses at the run when the directory was swapped for a symbolic link after the plan', async () => {
    const { dir, sha256 } = quarantine(join(base, 'q'));
    const action = mutating(quarantinePrune);
    const ctx = makeContext();
    const plan = await action.plan(ctx, { quarantine: dir, manifest_sha256: sha256 } as never);
    const moved = join(base, 'moved');
    renameSync(dir, moved);
    symlinkSync(moved, dir);
    await expect(action.run(ctx, { quarantine: dir } as never, plan)).rejects.toThrow(/not a directory|symbolic link/);
    expect(readdirSync(moved).sort()).toEqual([`${ID}-D`, `${ID}-H`, 'manifest.json']);
  });

  it('after a prune stopped part-way: asks to delete only the files still there, says how many were gone', async () => {
    const { dir, sha256 } = quarantine(join(base, 'q'));
    rmSync(join(dir, `${ID}-D`));
    const action = mutating(quarantinePrune);
    const ctx = makeContext();
    const plan = await action.plan(ctx, { quarantine: dir, manifest_sha256: sha256 } as never);
    expect(plan.commands.map((c) => c.argv)).toEqual([
      ['rm', '-f', '--', join(dir, `${ID}-H`)],
      ['rm', '-f', '--', join(dir, 'manifest.json')],
      ['rmdir', '--', dir],
    ]);
    expect(plan.summary).toMatch(/1 of their files were already gone/);
    const result = await action.run(ctx, { quarantine: dir } as never, plan);
    expect(result.summary).toMatch(/1 of their files were already gone/);
    expect(existsSync(dir)).toBe(false);
  });

  it('after a prune stopped between the manifest and rmdir: removes the empty directory, and nothing from one holding anything', async () => {
    const { dir, sha256 } = quarantine(join(base, 'q'));
    for (const f of readdirSync(dir)) rmSync(join(dir, f));
    const action = mutating(quarantinePrune);
    const ctx = makeContext();
    const plan = await action.plan(ctx, { quarantine: dir, manifest_sha256: sha256 } as never);
    expect(plan.commands.map((c) => c.argv)).toEqual([['rmdir', '--', dir]]);
    await action.run(ctx, { quarantine: dir } as never, plan);
    expect(existsSync(dir)).toBe(false);

    const other = quarantine(join(base, 'r'));
    rmSync(join(other.dir, 'manifest.json'));
    await expect(action.plan(ctx, { quarantine: other.dir, manifest_sha256: other.sha256 } as never)).rejects.toThrow(/has no manifest\.json/);
    expect(readdirSync(other.dir).sort()).toEqual([`${ID}-D`, `${ID}-H`]);
  });
});
