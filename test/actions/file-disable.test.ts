import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileDisable, fileRestoreMode } from '../../src/actions/files/disable.js';
import { parseStatLine } from '../../src/actions/files/inspect.js';
import { makeContext, mutating, planAndRun, type TestContext } from './support/context.js';

function mode(path: string): number {
  return statSync(path).mode & 0o7777;
}

describe('file.disable / file.restore_mode', () => {
  let root: string;
  let home: string;
  let ctx: TestContext;
  let script: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'runbook-files-'));
    home = join(root, 'home');
    mkdirSync(join(home, 'alice/public_html/wp-content'), { recursive: true });
    mkdirSync(join(home, 'bob'), { recursive: true });
    mkdirSync(join(root, 'etc'), { recursive: true });
    script = join(home, 'alice/public_html/wp-content/N138UVkOgLJ.php');
    writeFileSync(script, '<?php mail(...);');
    chmodSync(script, 0o644);
    writeFileSync(join(root, 'etc/shadow'), 'secret');
    writeFileSync(join(home, 'bob/index.php'), 'bob');
    ctx = makeContext({ layout: { homeRoots: [home] } });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('parses stat lines with spaces in the type', () => {
    expect(parseStatLine('644 regular empty file 1001 alice\n')).toEqual({ mode: '644', type: 'regular empty file', uid: 1001, owner: 'alice' });
    expect(parseStatLine('garbage')).toBeUndefined();
  });

  it('chmods 000 with the exact argv, records the old mode, and a second run is a noop', async () => {
    const { plan, result } = await planAndRun(fileDisable, ctx, { path: script });
    expect(plan.commands.map((c) => c.argv)).toEqual([['chmod', '000', '--', script]]);
    expect(plan.facts).toMatchObject({ path: script, mode: '0644' });
    expect(mode(script)).toBe(0);
    expect(result.outputs).toEqual({ path: script, old_mode: '0644', mode: '0000' });
    expect(result.undo).toEqual([{ action: 'file.restore_mode', params: { path: script, mode: '0644' }, description: expect.any(String) }]);
    const again = await mutating(fileDisable).plan(ctx, { path: script } as never);
    expect(again.noop).toBe(true);
    expect(again.commands).toEqual([]);

    const undo = await planAndRun(fileRestoreMode, ctx, result.undo![0]!.params);
    expect(undo.result.changed).toBe(true);
    expect(mode(script)).toBe(0o644);
    expect((await mutating(fileRestoreMode).plan(ctx, { path: script, mode: '0644' } as never)).noop).toBe(true);
  });

  it('refuses paths outside the homes, the home itself and non-regular files', async () => {
    await expect(mutating(fileDisable).plan(ctx, { path: join(root, 'etc/shadow') } as never)).rejects.toThrow(/not a file inside an account home/);
    await expect(mutating(fileDisable).plan(ctx, { path: join(home, 'alice') } as never)).rejects.toThrow(/not a file inside an account home/);
    await expect(mutating(fileDisable).plan(ctx, { path: join(home, 'alice/public_html') } as never)).rejects.toThrow(/directory, not a regular file/);
    await expect(mutating(fileDisable).plan(ctx, { path: `${home}/alice/../../etc/shadow` } as never)).rejects.toThrow(/not a file inside an account home/);
    await expect(mutating(fileDisable).plan(ctx, { path: 'public_html/x.php' } as never)).rejects.toThrow(/absolute path/);
    await expect(mutating(fileDisable).plan(ctx, { path: `${script}\nx` } as never)).rejects.toThrow(/control characters/);
    await expect(mutating(fileDisable).plan(ctx, { path: join(home, 'alice/missing.php') } as never)).rejects.toThrow(/does not exist/);
    expect(ctx.calls.some((c) => c.argv[0] === 'chmod')).toBe(false);
    expect(mode(join(root, 'etc/shadow'))).not.toBe(0);
  });

  it('refuses symlinks that lead out of the home or into another account', async () => {
    const out = join(home, 'alice/public_html/out.php');
    symlinkSync(join(root, 'etc/shadow'), out);
    await expect(mutating(fileDisable).plan(ctx, { path: out } as never)).rejects.toThrow(/outside every account home \(a symlink leads out\)/);
    const cross = join(home, 'alice/public_html/bob.php');
    symlinkSync(join(home, 'bob/index.php'), cross);
    await expect(mutating(fileDisable).plan(ctx, { path: cross } as never)).rejects.toThrow(/another account's home/);
    expect(ctx.calls.some((c) => c.argv[0] === 'chmod')).toBe(false);
  });

  it('refuses at run time when the file was swapped for a symlink after the plan', async () => {
    const plan = await mutating(fileDisable).plan(ctx, { path: script } as never);
    rmSync(script);
    symlinkSync(join(root, 'etc/shadow'), script);
    await expect(mutating(fileDisable).run(ctx, { path: script } as never, plan)).rejects.toThrow(/symlink leads out/);
    expect(mode(join(root, 'etc/shadow'))).not.toBe(0);
  });
});
