import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditRecord, CommandResultRecord } from '../../src/audit/records.js';
import { AuditWriter } from '../../src/audit/writer.js';
import { Secret } from '../../src/core/secret.js';
import { ReadCache } from '../../src/engine/read-cache.js';
import { runPlaybook, EXIT } from '../../src/engine/run.js';
import { CPANEL_LAYOUT, CPANEL_TOOL_PATHS } from '../../src/hosts/types.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { LocalTransport } from '../../src/transport/local.js';
import type { ExecOptions, ExecResult, Transport } from '../../src/transport/types.js';
import { testRegistry } from './test-actions.js';

const registry = testRegistry();

/** The local transport, counting what really ran. */
class CountingTransport implements Transport {
  readonly kind = 'local' as const;
  readonly host = 'local';
  readonly ran: string[][] = [];
  readonly #inner = new LocalTransport();
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    this.ran.push([...argv]);
    return this.#inner.exec(argv, options);
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
}

async function run(yaml: (dir: string) => string, dryRun: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'runbook-read-cache-'));
  writeFileSync(join(dir, 'input.txt'), 'hello\n');
  writeFileSync(join(dir, 'list.txt'), 'a\n');
  const playbook = parsePlaybook(join(dir, 'pb.yml'), yaml(dir), registry);
  const auditPath = join(dir, 'audit.jsonl');
  const audit = AuditWriter.create(auditPath);
  const transport = new CountingTransport();
  const report = await runPlaybook({
    playbook,
    inputs: {},
    targets: [{ name: 'local', connect: async () => ({ name: 'local', transport, tools: CPANEL_TOOL_PATHS, layout: CPANEL_LAYOUT, vars: {} }) }],
    registry,
    dryRun,
    gatekeeper: { ask: async () => ({ answer: 'accepted', by: 'tty:tester' }) },
    audit,
    argv: ['apply', 'pb.yml'],
    toolVersion: 'test',
    observer: () => {},
    signal: new AbortController().signal,
    deliverSecret: async () => 'nowhere',
  });
  audit.close();
  const records = readFileSync(auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
  const results = records.filter((r): r is CommandResultRecord => r.type === 'command.result');
  return { dir, report, transport, results };
}

const cats = (ran: string[][], file: string): number => ran.filter((a) => a[0] === 'cat' && a[2] === file).length;

describe('reads while planning', () => {
  const pb = (dir: string): string => `
name: t
steps:
  - id: first
    action: test.read
    with: { path: ${dir}/input.txt }
  - id: second
    action: test.read
    with: { path: ${dir}/input.txt }
  - id: look
    action: test.read
    with: { path: ${dir}/list.txt }
  - id: add
    action: test.append
    with: { path: ${dir}/list.txt, line: b }
`;

  it('run once per plan: a second identical read reuses the first and the audit log says so', async () => {
    const { dir, report, transport, results } = await run(pb, true);
    expect(report.exitCode).toBe(EXIT.ok);
    expect(cats(transport.ran, join(dir, 'input.txt'))).toBe(1);
    expect(cats(transport.ran, join(dir, 'list.txt'))).toBe(1);
    const input = results.filter((r) => r.argv[2] === join(dir, 'input.txt'));
    expect(input.map((r) => [r.step, r.reusedFrom])).toEqual([['first', undefined], ['second', 'first']]);
    expect(input[1]!.durationMs).toBe(0);
    expect(input[1]!.stdout.sha256).toBe(input[0]!.stdout.sha256);
    // The mutating step's plan read list.txt as `look` had: reused too.
    expect(results.filter((r) => r.argv[2] === join(dir, 'list.txt')).map((r) => [r.step, r.reusedFrom])).toEqual([['look', undefined], ['add', 'look']]);
  });

  it('are never reused when applying: a mutating step reads the host again before it changes it', async () => {
    const { dir, report, transport, results } = await run(pb, false);
    expect(report.exitCode).toBe(EXIT.ok);
    expect(readFileSync(join(dir, 'list.txt'), 'utf8')).toBe('a\nb\n');
    // Planning: look (ran) and add's plan (reused); applying: add's plan again, for real.
    expect(cats(transport.ran, join(dir, 'list.txt'))).toBe(2);
    const list = results.filter((r) => r.argv[2] === join(dir, 'list.txt'));
    expect(list.map((r) => r.reusedFrom ?? null)).toEqual([null, 'look', null]);
  });
});

describe('ReadCache', () => {
  it('keys on argv, stdin and output limit; never keys secret stdin or streamed output', () => {
    const base = ReadCache.keyOf({ argv: ['cat', '--', '/etc/csf/csf.deny'] });
    expect(base).not.toBeNull();
    expect(ReadCache.keyOf({ argv: ['cat', '--', '/etc/csf/csf.deny'] })).toBe(base);
    expect(ReadCache.keyOf({ argv: ['cat', '--', '/etc/csf/csf.allow'] })).not.toBe(base);
    expect(ReadCache.keyOf({ argv: ['perl', '-'], stdin: 'print 1' })).not.toBe(ReadCache.keyOf({ argv: ['perl', '-'], stdin: 'print 2' }));
    expect(ReadCache.keyOf({ argv: ['cat', '--', '/etc/csf/csf.deny'], maxOutputBytes: 10 })).not.toBe(base);
    expect(ReadCache.keyOf({ argv: ['tee', 'x'], stdin: new Secret('pw') })).toBeNull();
    expect(ReadCache.keyOf({ argv: ['tail', '-f', 'log'], onStdout: () => {} })).toBeNull();
  });

  it('does not keep a read that timed out, was killed or was interrupted', () => {
    const cache = new ReadCache();
    const result = (over: Partial<ExecResult>): ExecResult => ({
      argv: ['x'], exitCode: 0, signal: null, stdout: '', stderr: '', stdoutBytes: 0, stderrBytes: 0, truncated: false, durationMs: 1, timedOut: false, ...over,
    } as ExecResult);
    cache.set('a', 's', result({ timedOut: true, exitCode: null }));
    cache.set('b', 's', result({ signal: 'SIGKILL', exitCode: null }));
    cache.set('c', 's', result({ exitCode: 1 }));
    cache.set('d', 's', result({ aborted: true }));
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('d')).toBeUndefined();
    expect(cache.get('c')?.step).toBe('s');
  });
});
