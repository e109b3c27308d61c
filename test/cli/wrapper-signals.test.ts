import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/records.js';
import { resetDemoHost } from '../../src/hosts/demo.js';
import { REPO } from './run-cli.js';

/**
 * bin/runbook.cjs re-runs the CLI on the bundled Node when another Node starts it (an operator's
 * PATH): then there are two processes. A stop signal sent to the wrapper alone (`kill PID`, a
 * service manager signalling the main process) must still stop the run cleanly, and one sent to
 * the whole group (Ctrl-C) must count once, not as the second interrupt that quits at once.
 */

const WRAPPER = join(REPO, 'bin', 'runbook.cjs');
const bundled = realpathSync(process.execPath);
/** A Node other than the bundled one, so the wrapper re-runs itself. */
const otherNode = ['/usr/bin/node', '/usr/local/bin/node'].find((n) => existsSync(n) && realpathSync(n) !== bundled);
const needsOtherNode = process.env.CI ? it : it.skipIf(otherNode === undefined);

async function watchRun(signalWhenWatching: (child: ReturnType<typeof spawn>) => void) {
  const base = mkdtempSync(join(tmpdir(), 'runbook-wrapper-'));
  await resetDemoHost(join(base, 'state', 'runbook', 'demo'));
  const auditDir = join(base, 'audit');
  const child = spawn(
    otherNode!,
    [WRAPPER, 'apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--yes', '--var', 'watch_for=10m', '--audit-dir', auditDir, '--secrets-file', join(base, 's')],
    // Its own process group, so the test can signal the group as a terminal does.
    { cwd: REPO, env: { ...process.env, NO_COLOR: '1', XDG_STATE_HOME: join(base, 'state') }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let output = '';
  let sent = false;
  const code = await new Promise<number | null>((resolve) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      // The containment is done and the queue watch has taken its first sample.
      if (!sent && /\[demo\] verify: queue \d+, from [^\n]*; 0:\d\d of 10:00/.test(output)) {
        sent = true;
        signalWhenWatching(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('close', resolve);
  });
  const logPath = join(auditDir, readdirSync(auditDir).find((f) => f.endsWith('.jsonl'))!);
  const records = readFileSync(logPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
  return { code, output, records };
}

describe('stop signals through the bin wrapper', { timeout: 180_000 }, () => {
  needsOtherNode('SIGTERM to the wrapper alone stops the run cleanly and exits 130', async () => {
    const run = await watchRun((child) => child.kill('SIGTERM'));
    expect(run.code, run.output).toBe(130);
    expect(run.output.match(/Interrupted \(SIGTERM\)/g)).toHaveLength(1);
    expect(run.records.at(-1)).toMatchObject({ type: 'run.summary', status: 'interrupted', reason: 'interrupted by the operator (SIGTERM); stopped demo at step verify' });
  });

  needsOtherNode('one SIGINT to the process group is one interrupt: the run stops cleanly, not at once', async () => {
    const run = await watchRun((child) => process.kill(-child.pid!, 'SIGINT'));
    expect(run.code, run.output).toBe(130);
    expect(run.output.match(/Interrupted \(SIGINT\)/g)).toHaveLength(1);
    expect(run.records.at(-1)).toMatchObject({ type: 'run.summary', status: 'interrupted', reason: 'interrupted by the operator (SIGINT); stopped demo at step verify' });
  });
});
