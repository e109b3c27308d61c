import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/core/secret.js';
import { LocalTransport } from '../../src/transport/local.js';
import { CommandNotFoundError } from '../../src/transport/types.js';

const local = new LocalTransport();

describe('local transport', () => {
  it('runs argv without a shell: metacharacters are just bytes', async () => {
    const r = await local.exec(['printf', '%s|', '$(id)', '`id`', 'a b', "'q'", '*']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe("$(id)|`id`|a b|'q'|*|");
  });

  it('names the missing program and says what to do', async () => {
    const error = await local.exec(['/nonexistent/uapi', '--help']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandNotFoundError);
    expect((error as Error).message).toMatch(/\/nonexistent\/uapi: command not found on localhost.*tool-path override/);
  });

  it('feeds stdin, revealing a Secret only to the process', async () => {
    const secret = new Secret('correct-horse-battery');
    const r = await local.exec(['cat'], { stdin: secret });
    expect(r.stdout).toBe('correct-horse-battery');
    expect(JSON.stringify(r.argv)).not.toContain('correct-horse');
  });

  it('keeps at most maxOutputBytes but counts and streams everything', async () => {
    let streamed = 0;
    const r = await local.exec(['head', '-c', '1000000', '/dev/zero'], { maxOutputBytes: 1000, onStdout: (c) => (streamed += c.length) });
    expect(r.stdout.length).toBe(1000);
    expect(r.stdoutBytes).toBe(1_000_000);
    expect(streamed).toBe(1_000_000);
    expect(r.truncated).toBe(true);
  });

  it('kills a command at its timeout and on abort', async () => {
    const timed = await local.exec(['sleep', '20'], { timeoutMs: 200 });
    expect(timed.timedOut).toBe(true);
    expect(timed.exitCode).not.toBe(0);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const aborted = await local.exec(['sleep', '20'], { signal: controller.signal });
    expect(aborted.aborted).toBe(true);
  });

  it('reports a non-zero exit without throwing', async () => {
    const r = await local.exec(['sh', '-c', 'echo oops >&2; exit 3']);
    expect(r).toMatchObject({ exitCode: 3, stderr: 'oops\n' });
  });
});
