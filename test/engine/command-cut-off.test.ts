// A changing command whose connection dies while it runs on the host may have done its work:
// the audit log must say its result is unknown, never that it failed to start; a command asked
// of a host already gone did not start. Real sshd on loopback, killed once the command has
// announced itself on a fifo (an event, not a delay).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/records.js';
import { AuditWriter } from '../../src/audit/writer.js';
import { createActionContext } from '../../src/engine/context.js';
import { Recorder } from '../../src/engine/recorder.js';
import { CPANEL_LAYOUT, CPANEL_TOOL_PATHS } from '../../src/hosts/types.js';
import { CommandCutOffError, HostUnreachableError } from '../../src/transport/types.js';
import { startSshHosts, sshAvailable, type SshTestFleet } from '../support/ssh-hosts.js';

describe.runIf(sshAvailable || process.env.CI)('a changing command cut off by a dead connection', () => {
  let fleet: SshTestFleet;
  let base: string;

  beforeAll(async () => {
    // Outside the hosts' private mounts: the host and this test see the same fifo.
    base = mkdtempSync(join(tmpdir(), 'runbook-cutoff-'));
    execFileSync('mkfifo', [join(base, 'started')]);
    fleet = await startSshHosts(1, { namePrefix: 'cut' });
  }, 60_000);
  afterAll(async () => {
    await fleet?.stop();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('is recorded as result unknown, and a later one as not started', async () => {
    const host = fleet.hosts[0]!;
    const transport = fleet.transport(host);
    const auditPath = join(base, 'audit.jsonl');
    const writer = AuditWriter.create(auditPath);
    const recorder = new Recorder(writer);
    const ctx = createActionContext({
      target: { name: host.name, transport, tools: CPANEL_TOOL_PATHS, layout: CPANEL_LAYOUT, vars: {} },
      step: 'change',
      recorder,
      observer: () => {},
      signal: new AbortController().signal,
      dryRun: false,
      mutating: true,
      deliverSecret: async () => '',
    });
    let pid = 0;
    try {
      const running = ctx.exec({ argv: ['sh', '-c', 'echo "$$" > "$1"; exec sleep 600', 'sh', join(base, 'started')] }).catch((e: unknown) => e);
      pid = Number((await readFile(join(base, 'started'), 'utf8')).trim());
      host.kill();
      const cut = await running;
      expect(cut).toBeInstanceOf(CommandCutOffError);
      expect(cut).toBeInstanceOf(HostUnreachableError);
      expect((cut as Error).message).toMatch(/lost while sh ran: its result is unknown/);
      const later = await ctx.exec({ argv: ['touch', join(base, 'never')] }).catch((e: unknown) => e);
      expect(later).toBeInstanceOf(HostUnreachableError);
      expect(later).not.toBeInstanceOf(CommandCutOffError);
    } finally {
      writer.close();
      await transport.close();
      // The command outlives its connection (its session is its own): stop it here.
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await host.restart();
    }
    const results = readFileSync(auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord).filter((r) => r.type === 'command.result');
    expect(results.map((r) => [r.argv[0], r.exitCode, (r as { error?: string }).error?.replace(/:.*/s, '')])).toEqual([
      ['sh', null, 'result unknown'],
      ['touch', null, 'command failed to start'],
    ]);
  }, 60_000);
});
