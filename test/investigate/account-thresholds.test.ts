import { describe, expect, it } from 'vitest';
import { mailboxAccounts, recipientOverrides } from '../../src/investigate/account-thresholds.js';
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
});
