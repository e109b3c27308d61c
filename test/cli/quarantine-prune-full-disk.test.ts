// runbook quarantine prune with its audit directory on a full disk: a real tmpfs sized so that
// space runs out inside each record of the prune's log in turn (the header's argv is padded
// through --forks, whose leading zeros change nothing else). Whatever record is cut, nothing is
// deleted that the log does not name in a complete intent written before it, the command fails
// saying the log could not be written, and the run leaves a quarantine a later prune finishes.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/records.js';
import { demoManifest, resetDemoHost } from '../../src/hosts/demo.js';
import type { KeptQuarantine } from '../../src/undo/quarantine-retention.js';
import { runCli } from './run-cli.js';

const PAGE = 4096;
const isRoot = process.getuid?.() === 0;
const inCi = (process.env.CI ?? '') !== '';

describe.skipIf(!isRoot && !inCi)('quarantine prune with the audit directory on a full disk (tmpfs)', () => {
  let base: string;
  let auditDir: string;
  let mounted = false;
  let env: Record<string, string>;
  let dir: string;
  let backup: string;
  const later = new Date(Date.now() + 31 * 86_400_000).toISOString();

  beforeAll(async () => {
    expect(isRoot, 'mounting a tmpfs for the audit directory needs root').toBe(true);
    expect(existsSync(join(process.cwd(), 'dist/cli/main.js')), 'run `npm run build` first (npm test does)').toBe(true);
    base = mkdtempSync(join(tmpdir(), 'runbook-qprune-full-'));
    const root = join(base, 'state', 'runbook', 'demo');
    await resetDemoHost(root);
    env = { XDG_STATE_HOME: join(base, 'state') };
    auditDir = join(base, 'audit');
    mkdirSync(auditDir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', auditDir]);
    mounted = true;
    const purge = await runCli(['run', 'exim.queue.quarantine', '--host', 'demo', '--with', `sender=${demoManifest(root)!.mailbox}`, '--yes', '--audit-dir', auditDir], { env });
    expect(purge.code, purge.stdout + purge.stderr).toBe(0);
    const list = await runCli(['quarantine', 'list', '--audit-dir', auditDir, '--json'], { env });
    dir = (JSON.parse(list.stdout) as { quarantines: KeptQuarantine[] }).quarantines[0]!.dir;
    backup = join(base, 'quarantine-copy');
    execFileSync('cp', ['-a', dir, backup]);
  }, 180_000);

  afterAll(() => {
    if (mounted) execFileSync('umount', [auditDir]);
    if (base) rmSync(base, { recursive: true, force: true });
  });

  const pruneLogs = () => readdirSync(auditDir).filter((f) => f.includes('quarantine-prune'));

  /** One prune with `pages` pages free for its log and the header padded by `padding` bytes. */
  async function pruneWithin(pages: number, padding: number) {
    for (const f of pruneLogs()) unlinkSync(join(auditDir, f));
    rmSync(dir, { recursive: true, force: true });
    execFileSync('cp', ['-a', backup, dir]);
    execFileSync('mount', ['-o', 'remount,size=4m', auditDir]);
    const st = statfsSync(auditDir);
    const used = (st.blocks - st.bfree) * st.bsize;
    execFileSync('mount', ['-o', `remount,size=${used + pages * PAGE}`, auditDir]);
    const r = await runCli(['quarantine', 'prune', '--audit-dir', auditDir, '--now', later, '--yes', '--json', '--forks', `${'0'.repeat(padding)}10`], { env });
    const [log] = pruneLogs();
    const text = log === undefined ? '' : readFileSync(join(auditDir, log), 'utf8');
    return { r, text };
  }

  it('deletes nothing it has not recorded, wherever the log is cut', async () => {
    const reference = await pruneWithin(256, 0);
    expect(reference.r.code, reference.r.stdout + reference.r.stderr).toBe(0);
    expect(existsSync(dir)).toBe(false);
    const lines = reference.text.trimEnd().split('\n');
    const records = lines.map((l) => JSON.parse(l) as AuditRecord);
    expect(records.some((r) => r.type === 'command.intent' && r.argv[0] === 'rm')).toBe(true);
    const offsets: number[] = [];
    lines.reduce((at, line) => (offsets.push(at), at + Buffer.byteLength(line) + 1), 0);

    const names = readdirSync(backup);
    const cutTypes: string[] = [];
    // Inside every record from the first on; the header (0) is cut by a disk with no page free.
    for (let seq = 0; seq < records.length; seq++) {
      const at = seq === 0 ? 0 : offsets[seq]! + Math.floor(Buffer.byteLength(lines[seq]!) / 2);
      // The padding moves every record after the header by itself: the page end lands on `at`.
      const pages = Math.ceil(at / PAGE);
      const padding = pages * PAGE - at;
      const { r, text } = await pruneWithin(pages, padding);
      const complete = text.split('\n').slice(0, -1).map((l) => JSON.parse(l) as AuditRecord);
      const intents = complete.filter((x): x is Extract<AuditRecord, { type: 'command.intent' }> => x.type === 'command.intent');
      const named = new Set(intents.flatMap((i) => i.argv.slice(1)));
      // 1. Every file gone has a complete intent naming it; the directory too.
      for (const n of names) if (!existsSync(join(dir, n))) expect(named.has(join(dir, n)), `record ${seq} (${records[seq]!.type}): ${n} deleted unrecorded`).toBe(true);
      if (!existsSync(dir)) expect(intents.some((i) => i.argv[0] === 'rmdir')).toBe(true);
      // Nothing is lost track of: once anything is gone, the listing says deleted or partly deleted.
      if (names.some((n) => !existsSync(join(dir, n)))) {
        execFileSync('mount', ['-o', 'remount,size=4m', auditDir]);
        const list = await runCli(['quarantine', 'list', '--audit-dir', auditDir, '--json', '--now', later], { env });
        const [q] = (JSON.parse(list.stdout) as { quarantines: KeptQuarantine[] }).quarantines;
        expect(q!.state === 'deleted' || q!.prunedPartly !== undefined, `record ${seq}: ${JSON.stringify(q)}`).toBe(true);
      }
      // 2. A run whose log was cut fails, and says its log could not be written.
      const cut = !text.endsWith('\n') || complete.length < records.length;
      if (cut) {
        expect(r.code, `record ${seq}`).not.toBe(0);
        expect(r.stdout + r.stderr).toMatch(/audit log|ENOSPC|no space/i);
        cutTypes.push(records[seq]!.type);
      }
    }
    expect(cutTypes).toContain('command.intent');
    // 3. After the last cut run, with room again, a prune finishes the job.
    execFileSync('mount', ['-o', 'remount,size=4m', auditDir]);
    const finish = await runCli(['quarantine', 'prune', '--audit-dir', auditDir, '--now', later, '--yes', '--json'], { env });
    expect(finish.code, finish.stdout + finish.stderr).toBe(0);
    expect(existsSync(dir)).toBe(false);
  }, 600_000);
});
