import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageId, writeSpoolMessage } from '../../fixtures/sim/lib/spool.mjs';
import type { Verdict } from '../../src/investigate/verdict.js';
import { runCli } from '../cli/run-cli.js';
import { HOUR, SERVER_IP, SmallLogs, T0 } from './small-logs.js';

/**
 * Offline (a copied log; the accounts' directories are not on this machine) the script is named
 * from X-PHP-Script inside the flagged directory, saying its existence was not checked. Another
 * account's index.php, used only from that customer's office, is neither named nor purged.
 */
describe('investigate --json offline: scripts named unchecked', () => {
  let base: string;
  let v: Verdict;
  const spamDir = '/home/zzshopuser/public_html/wp-content/uploads/2024';
  const siteDir = '/home/zzotheruser/public_html';
  const office = '198.51.100.61';
  const bot = '45.33.40.1';
  beforeAll(async () => {
    expect(existsSync(spamDir)).toBe(false);
    base = mkdtempSync(join(tmpdir(), 'runbook-offline-scripts-'));
    const logs = new SmallLogs();
    for (let h = 8; h < 18; h++) logs.imap(T0 + h * HOUR, 'anna@other.test', office);
    for (let i = 0; i < 150; i++) logs.local(T0 + 20 * HOUR + i * 30, { cwd: spamDir, sender: 'zzshopuser@host.example.test', user: 'zzshopuser', subject: 'Your parcel', rcpts: [`r${i}@victims.test`] });
    for (let i = 0; i < 150; i++) logs.local(T0 + 14 * HOUR + i * 7, { cwd: '/home/zzcron/public_html', sender: 'newsletter@cron.test', user: 'zzcron', subject: 'Our selection', rcpts: [`c${i}@remote.test`] });
    // A cron job mailing its output every few minutes, as root from the account's home.
    for (let i = 0; i < 300; i++) logs.local(T0 + i * 240, { cwd: '/home/zzcronjob', sender: 'root@host.example.test', user: 'zzcronjob', subject: 'Cron <zzcronjob@host> php run.php', rcpts: ['zzcronjob'] });
    for (let i = 0; i < 200; i++) logs.local(T0 + 12 * HOUR + i * 5, { cwd: siteDir, sender: 'news@other.test', user: 'zzotheruser', subject: 'Member update', rcpts: [`m${i}@remote.test`] });
    const files = logs.write(base);
    const spool = join(base, 'spool');
    let t = T0 + 21 * HOUR;
    const queue = (sender: string, login: string, script: string): void => {
      writeSpoolMessage(spool, { id: messageId(t, 100 + (t % 5000)), time: t, login, uid: 1103, gid: 1103, sender, protocol: 'local', authId: login, recipients: ['v@remote.test'], headers: [['Subject', 'x'], ['X-PHP-Script', script]], body: 'x\n' });
      t++;
    };
    for (let i = 0; i < 30; i++) queue('zzshopuser@host.example.test', 'zzshopuser', `shop.test/wp-content/uploads/2024/x7.php for ${bot}`);
    for (let i = 0; i < 150; i++) queue('news@other.test', 'zzotheruser', `other.test/index.php for ${office}`);
    // wp-cron's loopback request: the client is this server (Dovecot's lip= in the maillog).
    for (let i = 0; i < 120; i++) queue('newsletter@cron.test', 'zzcron', `cron.test/wp-cron.php for ${SERVER_IP}`);
    const r = await runCli(['investigate', '--json', '--since', '48h', '--mainlog', files.mainlog, '--maillog', files.maillog, '--spool', spool]);
    expect(r.code, r.stderr).toBe(0);
    v = (JSON.parse(r.stdout) as { verdict: Verdict }).verdict;
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('names the script from X-PHP-Script in the flagged directory, unchecked and at lower confidence', () => {
    expect(v.scripts.map((s) => s.path)).toEqual([`${spamDir}/x7.php`]);
    const src = v.sources.find((s) => s.kind === 'script')!;
    expect(src.id).toBe(`${spamDir}/x7.php`);
    expect(src.confidence).toBe('medium');
    expect(src.reasons.join(' ')).toContain('existence not checked (offline)');
    expect(v.ips).toEqual([bot]);
  });

  it("leaves another account's index.php used only from its customer's office alone", () => {
    expect(JSON.stringify(v.scripts)).not.toContain('index.php');
    expect(v.sources.map((s) => s.id)).toEqual([`${spamDir}/x7.php`]);
    expect(v.senders).not.toContain('news@other.test');
    expect(v.ips).not.toContain(office);
    expect(v.directories.map((d) => d.path)).not.toContain(siteDir);
  });

  it('cron output sent as root from a home directory is no source and no directory', () => {
    expect(v.directories.map((d) => d.path)).not.toContain('/home/zzcronjob');
    expect(v.sender).not.toBe('root@host.example.test');
    expect(v.evidence.some((e) => e.detail.includes('/home/zzcronjob as root@host.example.test: cron or system mail'))).toBe(true);
  });

  it('leaves a script only this server requested alone (wp-cron), the server known from Dovecot\'s lip=', () => {
    expect(JSON.stringify(v.scripts)).not.toContain('wp-cron.php');
    expect(v.senders).not.toContain('newsletter@cron.test');
    expect(v.ips).not.toContain(SERVER_IP);
  });
});
