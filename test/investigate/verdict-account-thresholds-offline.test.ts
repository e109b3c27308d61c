import { appendFileSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimHost } from '../../fixtures/sim/host.mjs';
import type { Verdict } from '../../src/investigate/verdict.js';
import { runCli, type CliResult } from '../cli/run-cli.js';
import { HOUR, SmallLogs, T0 } from './small-logs.js';

/**
 * cPanel's per-account distinct recipients per hour threshold (EMAIL_OUTBOUND_SPAM_DETECT_THRESHOLD
 * in /var/cpanel/users/USER) read from files copied off the server, as a host's are read in
 * place: a mailbox at 400 in one hour is under the server's 500 but over its account's 300,
 * and is flagged the same offline as on the host. A mailbox of another account, as busy and
 * without an override, is flagged by neither.
 */
const OWN_LIMIT = 'ola@shop.test';
const OTHER = 'otto@else.test';
const BOTS: Record<string, string> = { [OWN_LIMIT]: '45.33.96.1', [OTHER]: '45.33.97.1' };
const OFFICES: Record<string, string> = { [OWN_LIMIT]: '198.51.100.74', [OTHER]: '198.51.100.75' };

/**
 * A window back to the logs' day: a host's log also ends with the lines its own investigation
 * writes now, and its window is counted back from them.
 */
const SINCE = `${Math.ceil((Date.now() / 1000 - T0) / HOUR) + 1}h`;

type Found = Verdict & { problems: string[]; incomplete: boolean };
type Run = { code: number | null; stderr: string; verdict: Found };

function incidentLogs(): SmallLogs {
  const logs = new SmallLogs();
  for (const mailbox of [OWN_LIMIT, OTHER]) {
    const office = OFFICES[mailbox]!;
    for (let h = 8; h < 18; h += 2) {
      const id = logs.smtp(T0 + h * HOUR + 120, { sender: mailbox, ip: office, authId: mailbox, subject: `Quote ${h}`, rcpts: ['client@remote.test'] });
      logs.outcome(T0 + h * HOUR + 121, id, '=>', 'client@remote.test');
      logs.imap(T0 + h * HOUR + 60, mailbox, office);
    }
    // 400 distinct recipients in one hour from an address new to the mailbox, 150 the hour after.
    for (let i = 0; i < 55; i++) {
      const t = T0 + 19 * HOUR + (i < 40 ? i * 80 : 3600 + (i - 40) * 200);
      const rcpts = Array.from({ length: 10 }, (_, k) => `${mailbox[0]}${i}-${k}@list.test`);
      const id = logs.smtp(t, { sender: mailbox, ip: BOTS[mailbox]!, authId: mailbox, subject: 'Document shared with you', rcpts, helo: 'User' });
      for (const r of rcpts) logs.outcome(t + 1, id, '=>', r);
    }
  }
  return logs;
}

function parse(r: CliResult): Run {
  const doc = JSON.parse(r.stdout) as { verdict?: Found; results?: { verdict: Found }[] };
  return { code: r.code, stderr: r.stderr, verdict: doc.verdict ?? doc.results![0]!.verdict };
}

describe('investigate --json: cPanel accounts\' own thresholds from copied files, as on the host', () => {
  let base: string;
  let files: { mainlog: string; maillog: string };
  let usersDir: string;
  let userdomains: string;
  let onHost: Run;

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'runbook-account-thresholds-'));
    const root = join(base, 'root');
    const info = createSimHost({
      root,
      accounts: [
        { user: 'shopco', uid: 1204, domains: ['shop.test'], mailboxes: [{ address: OWN_LIMIT, password: 'Old-pass-123-xyz' }] },
        { user: 'elseco', uid: 1205, domains: ['else.test'], mailboxes: [{ address: OTHER, password: 'Old-pass-123-xyz' }] },
      ],
    });
    appendFileSync(join(info.layout.cpanelUsersDir, 'shopco'), 'EMAIL_OUTBOUND_SPAM_DETECT_THRESHOLD=300\n');
    files = incidentLogs().write(base);
    copyFileSync(files.mainlog, info.mainlog);
    const maillog = join(root, 'var/log/maillog');
    copyFileSync(files.maillog, maillog);
    // What an operator copies off the server: the account files and /etc/userdomains.
    usersDir = join(base, 'copy/cpanel-users');
    userdomains = join(base, 'copy/userdomains');
    cpSync(info.layout.cpanelUsersDir, usersDir, { recursive: true });
    copyFileSync(info.layout.userdomainsFile, userdomains);
    const inventory = join(base, 'inventory.json');
    writeFileSync(inventory, JSON.stringify({
      hosts: { mail1: { hostname: 'local', tools: info.tools, layout: { ...info.layout, lockDir: join(root, 'var/sim/runbook.lock'), maillog }, vars: { allow_documentation_ips: true } } },
    }));
    onHost = parse(await runCli(['investigate', '-i', inventory, '--json', '--since', SINCE, '--audit-dir', join(base, 'audit')], { env: info.env, timeoutMs: 300_000 }));
  }, 320_000);
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  const offline = async (extra: string[]): Promise<Run> => parse(await runCli(['investigate', '--json', '--since', SINCE, '--mainlog', files.mainlog, '--maillog', files.maillog, ...extra]));

  it('on the host, the mailbox over its account\'s own threshold is a source; the other, as busy, is not', () => {
    expect(onHost.code, onHost.stderr).toBe(0);
    expect(onHost.verdict.sources.map((s) => s.id)).toEqual([OWN_LIMIT]);
  });

  it('offline with the copies, the same source, addresses and reason as on the host', async () => {
    const r = await offline(['--cpanel-users', usersDir, '--userdomains', userdomains]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.verdict.problems).toEqual([]);
    expect(r.verdict.sources.map((s) => s.id)).toEqual([OWN_LIMIT]);
    const [off, host] = [r.verdict.sources[0]!, onHost.verdict.sources[0]!];
    expect(off.reasons[0]).toBe("400 distinct recipients in one hour (2026-12-06T19:00:00), at or over 300 (cPanel's outbound spam threshold, its account's own), sent that hour from addresses new to it that did not read its mail (a login or two at most)");
    expect(off.reasons).toEqual(host.reasons);
    expect(off.ips).toEqual(host.ips);
    expect(r.verdict.ips).toEqual(onHost.verdict.ips);
    expect(r.verdict.ips).toEqual([BOTS[OWN_LIMIT]]);
    expect(r.verdict.auth_ids).toEqual(onHost.verdict.auth_ids);
  });

  it('offline without the copies, the server\'s threshold holds for every mailbox: nothing is flagged', async () => {
    const r = await offline([]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.verdict.sources).toEqual([]);
  });

  it('an account file missing from the copy is a problem naming it and what to copy; the verdict is incomplete', async () => {
    const partial = join(base, 'copy/partial-users');
    mkdirSync(partial);
    copyFileSync(join(usersDir, 'elseco'), join(partial, 'elseco'));
    const r = await offline(['--cpanel-users', partial, '--userdomains', userdomains]);
    expect(r.code).toBe(1);
    expect(r.verdict.incomplete).toBe(true);
    expect(r.verdict.sources).toEqual([]);
    expect(r.verdict.problems).toEqual([`cannot read the cPanel account file ${join(partial, 'shopco')} (it is not in the copy): account shopco's own outbound spam threshold is not known, so ${OWN_LIMIT} is held to the threshold given; copy /var/cpanel/users/shopco off the server into ${partial}`]);
  });

  it('an account file that cannot be read is a problem too', async () => {
    // A directory where the file should be: unreadable as a file whoever runs the test (root reads a file of mode 000).
    const broken = join(base, 'copy/broken-users');
    cpSync(usersDir, broken, { recursive: true });
    rmSync(join(broken, 'shopco'));
    mkdirSync(join(broken, 'shopco'));
    const r = await offline(['--cpanel-users', broken, '--userdomains', userdomains]);
    expect(r.code).toBe(1);
    expect(r.verdict.sources).toEqual([]);
    expect(r.verdict.problems).toEqual([expect.stringContaining(`cannot read the cPanel account file ${join(broken, 'shopco')} (is a directory, not a file): account shopco's own`)]);
  });

  it('a copy that cannot be read, or one without the other, is bad usage naming the path and what to give', async () => {
    const noFile = await runCli(['investigate', '--json', '--mainlog', files.mainlog, '--cpanel-users', usersDir, '--userdomains', join(base, 'nope')]);
    expect(noFile.code).toBe(2);
    expect(noFile.stdout).toContain(`cannot read the copy of /etc/userdomains (--userdomains) ${join(base, 'nope')}: no such file`);
    const noDir = await runCli(['investigate', '--mainlog', files.mainlog, '--cpanel-users', join(base, 'nope'), '--userdomains', userdomains]);
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toContain(`cannot read the copy of cPanel's account files (/var/cpanel/users, --cpanel-users) ${join(base, 'nope')}: no such file`);
    const alone = await runCli(['investigate', '--mainlog', files.mainlog, '--cpanel-users', usersDir]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--cpanel-users needs --userdomains FILE too');
    const onHosts = await runCli(['investigate', '--host', 'demo', '--cpanel-users', usersDir, '--userdomains', userdomains]);
    expect(onHosts.code).toBe(2);
    expect(onHosts.stderr).toContain('layout.cpanelUsersDir');
    const help = await runCli(['investigate', '--help']);
    expect(help.stdout).toContain('--cpanel-users <dir>');
    expect(help.stdout).toContain('--userdomains <file>');
  });
});
