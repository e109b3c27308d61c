import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageId, writeSpoolMessage } from '../../fixtures/sim/lib/spool.mjs';
import type { Verdict } from '../../src/investigate/verdict.js';
import { runCli } from '../cli/run-cli.js';
import { HOUR, SmallLogs, T0 } from './small-logs.js';

export const SPAM_DIR = '/home/zzfailshop/public_html/wp-content/uploads/2026';
export const FORM_DIR = '/home/zzfailshop/public_html';
export const NEWS_DIR = '/home/zzfailnews/public_html/wp-content/plugins/mailer';
export const SHOP_SENDER = 'zzfailshop@host.example.test';
export const SCRIPT_BOT = '45.33.41.7';

/**
 * A script mailing a harvested list, 30 messages (under the window's 100): three of its four
 * recipients do not exist. Its envelope sender is the account's default, also used by the site's
 * contact form, whose mail is delivered: the sender's own rate (90 of 240) says nothing, the
 * directory's (90 of 120) does. Next to it a newsletter plugin with an ordinary bounce rate.
 */
export function failingScriptLogs(logs: SmallLogs, at = T0 + 15 * HOUR): void {
  for (let i = 0; i < 60; i++) {
    const t = T0 + 8 * HOUR + i * 500;
    const rcpts = [`c${i}@clients.test`, `sales@zzfailshop.test`];
    const id = logs.local(t, { cwd: FORM_DIR, sender: SHOP_SENDER, user: 'zzfailshop', subject: `Contact form ${i}`, rcpts });
    for (const r of rcpts) logs.outcome(t + 1, id, '=>', r);
  }
  for (let i = 0; i < 30; i++) {
    const t = at + i * 400;
    const rcpts = [0, 1, 2, 3].map((k) => `h${i}-${k}@harvested.test`);
    const id = logs.local(t, { cwd: SPAM_DIR, sender: SHOP_SENDER, user: 'zzfailshop', subject: 'Your account is suspended', rcpts });
    for (const r of rcpts.slice(0, 3)) logs.outcome(t + 1, id, '**', r);
    logs.outcome(t + 1, id, '==', rcpts[3]!);
    logs.outcome(t + 900, id, '=>', rcpts[3]!);
  }
  for (let i = 0; i < 60; i++) {
    const t = T0 + 10 * HOUR + i * 300;
    const rcpts = Array.from({ length: 10 }, (_, k) => `s${i}-${k}@subscribers.test`);
    const id = logs.local(t, { cwd: NEWS_DIR, sender: 'news@zzfailnews.test', user: 'zzfailnews', subject: 'Our news', rcpts });
    rcpts.forEach((r, k) => logs.outcome(t + 1, id, k === 0 ? '**' : '=>', r));
  }
}

/** The script's queued mail (X-PHP-Script names it inside the flagged directory). */
export function failingScriptSpool(spool: string, at = T0 + 21 * HOUR): void {
  for (let i = 0; i < 3; i++) {
    const t = at + i;
    writeSpoolMessage(spool, { id: messageId(t, 100 + (t % 5000)), time: t, login: 'zzfailshop', uid: 1103, gid: 1103, sender: SHOP_SENDER, protocol: 'local', authId: 'zzfailshop', recipients: [`q${i}@harvested.test`], headers: [['Subject', 'Your account is suspended'], ['X-PHP-Script', `zzfailshop.test/wp-content/uploads/2026/x9.php for ${SCRIPT_BOT}`]], body: 'x\n' });
  }
}

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
