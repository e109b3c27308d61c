import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { grepUnreadFiles, mailboxAccounts, recipientOverrides, unreadAccountFile } from '../../src/investigate/account-thresholds.js';
import { parseUserdomains } from '../../src/parsers/cpanel-userdomains.js';
import { outboundSpamThresholdOf } from '../../src/parsers/cpanel-cpuser.js';

describe("cPanel accounts' own distinct recipients per hour thresholds", () => {
  const owners = parseUserdomains('shop.test: shopco\nSub.Shop.test: shopco\nelse.test: elseco\nparked.test: nobody\nodd.test: ../etc\n*: nobody\n');

  it('maps mailboxes to the accounts owning their domains, never the catch-all nor a name that is no account', () => {
    expect(mailboxAccounts(['Ola@Shop.test', 'x@sub.shop.test', 'otto@else.test', 'p@parked.test', 'q@odd.test', 'r@unknown.test'], owners)).toEqual(new Map([
      ['ola@shop.test', 'shopco'], ['x@sub.shop.test', 'shopco'], ['otto@else.test', 'elseco'],
    ]));
  });

  it('reads a whole cpuser file or the lines a grep of it returned the same way', () => {
    const whole = 'USER=shopco\nDNS=shop.test\nEMAIL_OUTBOUND_SPAM_DETECT_THRESHOLD=300\nMAX_EMAIL_PER_HOUR=0\n';
    expect(outboundSpamThresholdOf(whole)).toBe(300);
    expect(outboundSpamThresholdOf('EMAIL_OUTBOUND_SPAM_DETECT_THRESHOLD=300\r\n')).toBe(300);
    expect(outboundSpamThresholdOf('USER=elseco\nEMAIL_OUTBOUND_SPAM_DETECT_THRESHOLD=\n')).toBeNull();
    const accountOf = mailboxAccounts(['ola@shop.test', 'x@sub.shop.test', 'otto@else.test'], owners);
    expect(recipientOverrides(accountOf, new Map([['shopco', whole], ['elseco', 'USER=elseco\n']]))).toEqual({ 'ola@shop.test': 300, 'x@sub.shop.test': 300 });
    // An account whose file was not read keeps the server's threshold.
    expect(recipientOverrides(accountOf, new Map())).toEqual({});
  });

  it("names the accounts whose file the host's grep could not read, from grep's own complaints, and nothing else", () => {
    const dir = mkdtempSync(join(tmpdir(), 'runbook-cpusers-'));
    try {
      writeFileSync(join(dir, 'shopco'), 'USER=shopco\nEMAIL_OUTBOUND_SPAM_DETECT_THRESHOLD=300\n');
      writeFileSync(join(dir, 'locked'), 'USER=locked\n');
      chmodSync(join(dir, 'locked'), 0o000);
      // As the host runs it (exit 2: a file missing); a root test run can still read the locked file.
      const r = spawnSync('grep', ['-H', '-e', '^EMAIL_OUTBOUND_SPAM_DETECT_THRESHOLD=', '--', ...['shopco', 'elseco', 'locked'].map((u) => `${dir}/${u}`)], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
      expect(r.status).toBe(2);
      const unread = grepUnreadFiles(`${r.stderr}grep: /elsewhere/x: No such file or directory\ngrep: ${dir}/notasked: No such file or directory\n`, dir, ['shopco', 'elseco', 'locked']);
      expect(unread.get('elseco')).toBe('no such file or directory');
      expect(unread.has('shopco')).toBe(false);
      expect(unread.has('notasked')).toBe(false);
      if (process.getuid?.() !== 0) expect(unread.get('locked')).toBe('permission denied');
      const accountOf = mailboxAccounts(['otto@else.test'], owners);
      expect(unreadAccountFile(accountOf, 'elseco', `${dir}/elseco`, unread.get('elseco')!, 'check it on the host')).toBe(
        `cannot read the cPanel account file ${dir}/elseco (no such file or directory): account elseco's own outbound spam threshold is not known, so otto@else.test is held to the threshold given; check it on the host`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
