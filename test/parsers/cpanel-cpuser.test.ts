import { describe, expect, it } from 'vitest';
import { outboundSpamThreshold } from '../../src/parsers/cpanel-cpuser.js';

describe("cPanel cpuser file: the account's outbound spam threshold", () => {
  it('reads a whole number of 1 or more, and nothing else', () => {
    expect(outboundSpamThreshold('EMAIL_OUTBOUND_SPAM_DETECT_THRESHOLD=300')).toBe(300);
    expect(outboundSpamThreshold('EMAIL_OUTBOUND_SPAM_DETECT_THRESHOLD= 1200 ')).toBe(1200);
    for (const line of ['EMAIL_OUTBOUND_SPAM_DETECT_THRESHOLD=', 'EMAIL_OUTBOUND_SPAM_DETECT_THRESHOLD=0', 'EMAIL_OUTBOUND_SPAM_DETECT_THRESHOLD=-5', 'EMAIL_OUTBOUND_SPAM_DETECT_THRESHOLD=1e3', 'EMAIL_OUTBOUND_SPAM_DETECT_THRESHOLD=99999999999', 'MAX_EMAIL_PER_HOUR=300', ' EMAIL_OUTBOUND_SPAM_DETECT_THRESHOLD=300']) {
      expect(outboundSpamThreshold(line), line).toBeNull();
    }
  });
});
