import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** Names and file contents come from outside: what the CLI echoes of them must not drive the terminal. */
describe('text from files and arguments reaches the terminal escaped', () => {
  it('audit verify of a log with a hostile name and record', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runbook-hostile-name-'));
    const file = join(dir, 'log\u001b]52;c;aGk=\u0007\u009b2J\u202e.jsonl');
    writeFileSync(file, '{"seq":1,"type":"\u001b]8;;http://evil.test\u001b\\\\x\u009d"}\n');
    const r = await runCli(['audit', 'verify', file]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('log\\e]52;c;aGk=\\u0007\\u009b2J\\u202e.jsonl:1:');
    expect(r.stdout + r.stderr).not.toMatch(RAW_CONTROL);
  });

  it('an unknown action name given on the command line', async () => {
    const r = await runCli(['actions', 'no\u009b2Jsuch\u202e']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no\\u009b2Jsuch\\u202e');
    expect(r.stdout + r.stderr).not.toMatch(RAW_CONTROL);
  });
});
