import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSecretsFile } from '../../src/cli/secrets.js';

/**
 * The --secrets-file check runs before any change so that a password reset on the host is
 * never lost for want of a place to write it. An existing directory the file cannot be
 * created in must fail that check, like a missing one under a read-only parent already does.
 */
const isRoot = process.getuid?.() === 0;

describe('checkSecretsFile on an existing directory that cannot be written', () => {
  let base: string;
  let dir: string;
  let mounted = false;

  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'runbook-secrets-ro-'));
    dir = join(base, 'ro');
    mkdirSync(dir);
    if (isRoot) {
      // root passes every permission check: a read-only mount is what stops it.
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', dir]);
      mounted = true;
    } else {
      chmodSync(dir, 0o555);
    }
  });

  afterAll(() => {
    if (mounted) execFileSync('umount', [dir]);
    else chmodSync(dir, 0o755);
    rmSync(base, { recursive: true, force: true });
  });

  it('refuses a new secrets file in it before the run', () => {
    const problem = checkSecretsFile(join(dir, 'passwords.txt'));
    expect(problem).toMatch(/not writable|read-only|EROFS|EACCES/);
  });
});
