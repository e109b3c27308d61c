import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/investigate/verdict.js';
import { runCli } from '../cli/run-cli.js';
import { webmailFloodHour, webmailLogin } from './incident-logs.js';
import { HOUR, SmallLogs, T0 } from './small-logs.js';

/**
 * Distinct recipients per hour sent through webmail: Exim sees 127.0.0.1, so the address that
 * sent is in cpsrvd's webmail logins of that hour, or, without them, the mailbox's own history
 * says whether the peak is out of its way.
 */
const DAY = 24 * HOUR;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** An owner writing a few messages a day through webmail from `from` days before T0, and reading mail at the office. */
function ownerThroughWebmail(logs: SmallLogs, session: string[], mailbox: string, office: string, days = 0): void {
  for (let d = -days; d <= 0; d++) {
    session.push(webmailLogin(T0 + d * DAY + 8 * HOUR + 600, office, mailbox));
    for (let h = 9; h < 17; h += 2) {
      const id = logs.smtp(T0 + d * DAY + h * HOUR, { sender: mailbox, ip: '127.0.0.1', authId: mailbox, subject: `Re: order ${d} ${h}`, rcpts: ['client@remote.test'], helo: 'localhost' });
      logs.outcome(T0 + d * DAY + h * HOUR + 1, id, '=>', 'client@remote.test');
    }
    logs.imap(T0 + d * DAY + 8 * HOUR, mailbox, office);
  }
}

async function investigate(logs: SmallLogs, session: string[] | null): Promise<{ code: number | null; v: Verdict & { problems: string[] } }> {
  const dir = mkdtempSync(join(tmpdir(), 'runbook-webmail-flood-'));
  dirs.push(dir);
  const files = logs.write(dir);
  const extra: string[] = [];
  if (session !== null) {
    writeFileSync(join(dir, 'session_log'), `${[...session].sort().join('\n')}\n`);
    extra.push('--webmail-log', join(dir, 'session_log'));
  }
  const r = await runCli(['investigate', '--json', '--since', '24h', '--mainlog', files.mainlog, '--maillog', files.maillog, ...extra]);
  expect(r.stdout, r.stderr).not.toBe('');
  return { code: r.code, v: (JSON.parse(r.stdout) as { verdict: Verdict & { problems: string[] } }).verdict };
}

const box = 'info@victim.test';
const office = '198.51.100.71';
const attacker = '45.33.120.9';

describe('investigate --json: 600 distinct recipients in one hour through webmail', () => {
  it('with the webmail log, the address new to the mailbox that logged in that hour is the attacker; the owner in webmail the same hour is not', async () => {
    const logs = new SmallLogs();
    const session: string[] = [];
    ownerThroughWebmail(logs, session, box, office);
    session.push(webmailLogin(T0 + 19 * HOUR + 2400, attacker, box));
    session.push(webmailLogin(T0 + 20 * HOUR + 600, office, box));
    webmailFloodHour(logs, box, T0 + 20 * HOUR, 'Your invoice is attached', 'p');
    const { code, v } = await investigate(logs, session);
    expect(code).toBe(0);
    expect(v.sources.map((s) => s.id)).toEqual([box]);
    const s = v.sources[0]!;
    expect(s.counts).toMatchObject({ peak_unique_recipients_per_hour: 600, webmail: 64 });
    expect(s.reasons[0]).toBe("600 distinct recipients in one hour (2026-12-06T20:00:00), at or over 500 (cPanel's outbound spam threshold), sent that hour through webmail by addresses that logged in to it then, new to it, that did not read its mail (a login or two at most)");
    expect(v.ips).toEqual([attacker]);
    expect(v.ip_reasons[attacker]).toBe(`logged in as ${box}`);
    // The burst began with the flood's hour, not with an address first seen later.
    expect(s.began).toBe('2026-12-06T20:00:00');
    const o = v.not_blocked.find((n) => n.ip === office);
    expect(o?.class).toBe('owner');
    expect(o?.reason).toMatch(/webmail/);
    expect(v.auth_ids).toEqual([box]);
    expect(v.review).toEqual([]);
    expect(v.problems).toEqual([]);
  });

  it("with the webmail log, the customer's own newsletter sent by its owner through webmail from the usual address is not flagged", async () => {
    const logs = new SmallLogs();
    const news = 'news@bakery.test';
    const bakery = '198.51.100.73';
    const session: string[] = [];
    // The owner does not read mail over IMAP: its webmail logins of the week before make the address its own.
    for (let d = 7; d >= 1; d--) session.push(webmailLogin(T0 - d * DAY + 10 * HOUR, bakery, news));
    session.push(webmailLogin(T0 + 19 * HOUR + 3000, bakery, news));
    webmailFloodHour(logs, news, T0 + 20 * HOUR, 'Bakery news: winter menu', 'b');
    const { code, v } = await investigate(logs, session);
    expect(code).toBe(0);
    expect(v.sources).toEqual([]);
    expect(v.ips).toEqual([]);
    expect(v.review).toEqual([]);
    expect(v.evidence.map((e) => e.detail)).toContain(`${news} sent 60, up to 600 distinct recipients in one hour, from addresses it used before or reads its mail from (its webmail logins that hour): not acted on`);
  });

  it('without the webmail log and a day of history, it is not flagged but named for a look, with the webmail log pointed at', async () => {
    const logs = new SmallLogs();
    ownerThroughWebmail(logs, [], box, office);
    webmailFloodHour(logs, box, T0 + 20 * HOUR, 'Your invoice is attached', 'p');
    const { code, v } = await investigate(logs, null);
    expect(code).toBe(1);
    expect(v.sources).toEqual([]);
    expect(v.ips).toEqual([]);
    expect(v.review.map((r) => r.id)).toEqual([box]);
    expect(v.review[0]!.reason).toMatch(/^600 distinct recipients in one hour \(2026-12-06T20:00:00\) through webmail \(Exim saw this server\), under a week of its history in the log read \(\d+ hours\) to compare with; the webmail logins were not read$/);
    expect(v.summary).toContain(`needs a look: ${box}`);
    expect(v.problems.join('\n')).toMatch(/info@victim\.test needs a look, not flagged: .*session_log and login_log, not read \(offline: give them with --webmail-log\)/);
  });

  it('without the webmail log, a peak far above every hour of its week before is named for a look, not acted on: nobody is known to have sent it', async () => {
    // A site's SMTP plugin logs in from this server as webmail does: its monthly newsletter looks the same.
    const logs = new SmallLogs();
    ownerThroughWebmail(logs, [], box, office, 8);
    webmailFloodHour(logs, box, T0 + 20 * HOUR, 'Your invoice is attached', 'p');
    const { v } = await investigate(logs, null);
    expect(v.sources).toEqual([]);
    expect(v.ips).toEqual([]);
    expect(v.auth_ids).toEqual([]);
    expect(v.review).toEqual([{ id: box, reason: '600 distinct recipients in one hour (2026-12-06T20:00:00) through webmail (Exim saw this server), 600 times the most it sent to in any hour of the 8 days before (1); the webmail logins were not read' }]);
    expect(v.summary).toContain(`needs a look: ${box}`);
    expect(v.problems.join('\n')).toMatch(/info@victim\.test needs a look, not flagged: .*--webmail-log/);
  });

  it('without the webmail log, a weekly newsletter whose peak a week before was the same is not flagged nor named', async () => {
    const logs = new SmallLogs();
    const news = 'news@bakery.test';
    ownerThroughWebmail(logs, [], news, '198.51.100.73', 8);
    webmailFloodHour(logs, news, T0 - 7 * DAY + 20 * HOUR, 'Bakery news: autumn menu', 'a');
    webmailFloodHour(logs, news, T0 + 20 * HOUR, 'Bakery news: winter menu', 'b');
    const { code, v } = await investigate(logs, null);
    expect(v.sources).toEqual([]);
    expect(v.ips).toEqual([]);
    expect(v.review).toEqual([]);
    expect(v.problems).toEqual([]);
    expect(code).toBe(0);
    expect(v.evidence.map((e) => e.detail)).toContain(`${news}: 600 distinct recipients in one hour (2026-12-06T20:00:00) through webmail (Exim saw this server), as it did before (600 in the hour of 2026-11-29T20:00:00): its usual peak, not acted on`);
  });
});
