// runbook quarantine list and prune print quarantine paths and names found on the host to a
// real terminal (a pty): a quarantine under a directory whose name carries escape sequences, and
// a file someone left in a quarantine with such a name, must reach the screen escaped, never raw.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { demoManifest, resetDemoHost } from '../../src/hosts/demo.js';
import type { KeptQuarantine } from '../../src/undo/quarantine-retention.js';
import { startOnPty } from '../support/pty.js';
import { runCli } from './run-cli.js';

// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
/** An OSC 52 clipboard write, a C1 CSI clearing the screen, a right-to-left override. */
const HOSTILE = 'q\u001b]52;c;aGk=\u0007\u009b2J\u202e';

let base: string;
let env: Record<string, string>;
let auditDir: string;
let root: string;

beforeEach(async () => {
  base = mkdtempSync(join(tmpdir(), 'runbook-qhostile-'));
  root = join(base, 'state', 'runbook', 'demo');
  await resetDemoHost(root);
  env = { XDG_STATE_HOME: join(base, 'state'), NO_COLOR: '1' };
  auditDir = join(base, 'audit');
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

/** What the terminal showed, line ends as the program wrote them. */
async function onTerminal(args: string[]): Promise<{ code: number | null; screen: string }> {
  const run = startOnPty(args, { env });
  const code = await run.exited;
  return { code, screen: run.output.replace(/\r\n/g, '\n') };
}

async function purge(extra: string[] = []): Promise<string> {
  const m = demoManifest(root)!;
  const r = await runCli(['run', 'exim.queue.quarantine', '--host', 'demo', '--with', `sender=${m.mailbox}`, ...extra, '--yes', '--audit-dir', auditDir], { env });
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const list = await runCli(['quarantine', 'list', '--audit-dir', auditDir, '--json'], { env });
  return (JSON.parse(list.stdout) as { quarantines: KeptQuarantine[] }).quarantines.at(-1)!.dir;
}

describe('quarantine paths and names from the host reach a terminal escaped', () => {
  it('a quarantine under a directory with escape sequences in its name: listed, planned and deleted', async () => {
    const parent = join(demoManifest(root)!.spoolDir, HOSTILE);
    mkdirSync(parent, { recursive: true });
    const dir = await purge(['--with', `quarantine_dir=${parent}`]);
    expect(dir.startsWith(parent)).toBe(true);
    const list = await onTerminal(['quarantine', 'list', '--audit-dir', auditDir]);
    expect(list.code).toBe(0);
    expect(list.screen).toContain('q\\e]52;c;aGk=');
    expect(list.screen).not.toMatch(RAW_CONTROL);
    const prune = await onTerminal(['quarantine', 'prune', '--audit-dir', auditDir, '--within-retention', '--yes']);
    expect(prune.code, prune.screen).toBe(0);
    expect(existsSync(dir)).toBe(false);
    expect(prune.screen).not.toMatch(RAW_CONTROL);
  }, 180_000);

  it('a file its manifest does not list, named with escape sequences: refused, the name shown escaped', async () => {
    const dir = await purge();
    writeFileSync(join(dir, HOSTILE), 'left by someone\n');
    const later = new Date(Date.now() + 31 * 86_400_000).toISOString();
    for (const json of [[], ['--json']]) {
      const prune = await onTerminal(['quarantine', 'prune', '--audit-dir', auditDir, '--now', later, '--yes', ...json]);
      expect(prune.code).toBe(1);
      expect(prune.screen).toMatch(/does not list/);
      expect(prune.screen, json.join(' ')).not.toMatch(RAW_CONTROL);
      expect(existsSync(join(dir, 'manifest.json'))).toBe(true);
    }
  }, 180_000);
});
