import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/investigate/verdict.js';
import { runCli } from '../cli/run-cli.js';
import { failingScriptLogs, failingScriptSpool, SHOP_SENDER, SCRIPT_BOT, SPAM_DIR, FORM_DIR } from './incident-logs.js';
import { HOUR, SmallLogs, T0 } from './small-logs.js';

describe('investigate --json: a script whose mail mostly fails', () => {
  let base: string;
  let v: Verdict;
  let withoutSpool: Verdict;
  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'runbook-script-failures-'));
    const logs = new SmallLogs();
    failingScriptLogs(logs);
    const files = logs.write(base);
    const spool = join(base, 'spool');
    failingScriptSpool(spool);
    const run = async (extra: string[]): Promise<Verdict> => {
      const r = await runCli(['investigate', '--json', '--since', '24h', '--mainlog', files.mainlog, '--maillog', files.maillog, ...extra]);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { verdict: Verdict }).verdict;
    };
    v = await run(['--spool', spool]);
    withoutSpool = await run([]);
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('is a script source under the volume threshold, with its own directory\'s rates in its reasons', () => {
    expect(v.thresholds.window_min_messages).toBe(100);
    expect(v.scripts.map((s) => s.path)).toEqual([`${SPAM_DIR}/x9.php`]);
    const src = v.sources.find((s) => s.kind === 'script')!;
    expect(src.id).toBe(`${SPAM_DIR}/x9.php`);
    expect(src.counts).toMatchObject({ sent: 30, recipients: 120, failures: 90, deferrals: 30 });
    expect(src.reasons.join('\n')).toContain(`its mail (from ${SPAM_DIR}): 90 of its 120 recipients failed (75%) and 30 were deferred (25%): mail to addresses that do not exist, as to a harvested list`);
    expect(v.ips).toEqual([SCRIPT_BOT]);
    expect(v.senders).toEqual([SHOP_SENDER]);
  });

  it('leaves the contact form sharing its sender and a newsletter with an ordinary bounce rate alone', () => {
    expect(v.sources.map((s) => s.id)).toEqual([`${SPAM_DIR}/x9.php`]);
    expect(v.directories).toEqual([]);
    expect(v.scripts.map((s) => s.path.slice(0, s.path.lastIndexOf('/')))).not.toContain(FORM_DIR);
    // The sender alone (90 of 240 failed) is under the rate: the directory's counters tell them apart.
    expect(v.evidence.map((e) => e.detail)).toContain(`30 messages submitted from ${SPAM_DIR}: 90 of its 120 recipients failed (75%) and 30 were deferred (25%): mail to addresses that do not exist, as to a harvested list`);
    expect(v.senders).not.toContain('news@zzfailnews.test');
  });

  it('without the queue the directory is named, its script not identified', () => {
    expect(withoutSpool.scripts).toEqual([]);
    expect(withoutSpool.directories.map((d) => d.path)).toEqual([SPAM_DIR]);
    expect(withoutSpool.senders).toEqual([SHOP_SENDER]);
  });
});

describe('investigate --json: a failing script behind many busier directories', () => {
  it('is found though more directories than the result lists each sent more (the counters keep it for its failures)', async () => {
    const base = mkdtempSync(join(tmpdir(), 'runbook-script-failures-many-'));
    try {
      const logs = new SmallLogs();
      // 55 sites' contact forms, each busier than the failing script, more than the 50 the cwd list keeps.
      for (let u = 0; u < 55; u++) {
        for (let i = 0; i < 40; i++) {
          const t = T0 + HOUR + u * 60 + i * 1200;
          const id = logs.local(t, { cwd: `/home/site${u}/public_html`, sender: `site${u}@host.example.test`, user: `site${u}`, subject: `Contact ${i}`, rcpts: [`owner${u}@site${u}.test`] });
          logs.outcome(t + 1, id, '=>', `owner${u}@site${u}.test`);
        }
      }
      failingScriptLogs(logs);
      const files = logs.write(base);
      const spool = join(base, 'spool');
      failingScriptSpool(spool);
      const r = await runCli(['investigate', '--json', '--since', '24h', '--mainlog', files.mainlog, '--maillog', files.maillog, '--spool', spool]);
      expect(r.code, r.stderr).toBe(0);
      const v = (JSON.parse(r.stdout) as { verdict: Verdict }).verdict;
      expect(v.sources.map((s) => s.id)).toEqual([`${SPAM_DIR}/x9.php`]);
      expect(v.ips).toEqual([SCRIPT_BOT]);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
