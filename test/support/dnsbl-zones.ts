// The blocklist answers the tests serve from a real dnsmasq on loopback: a listed server
// address, a clean one, Spamhaus's error codes, an IPv6 listing and a DQS-keyed zone.
import { BLOCKLISTS } from '../../src/actions/rbl/lists.js';
import type { TestZones } from './dnsmasq.js';

/** A made-up DQS key: long enough that the secret scrubber knows it. */
export const TEST_DQS_KEY = 'abcdefghij0123456789klmnop';

export const LISTED_IP = '192.0.2.10';
export const CLEAN_IP = '198.51.100.250';
export const PUBLIC_RESOLVER_IP = '203.0.113.5';
export const RATE_LIMITED_IP = '203.0.113.6';
export const BAD_ZONE_IP = '203.0.113.7';
export const LISTED_IPV6 = '2001:db8::25';
/** 2001:db8::25 as 32 reversed nibbles. */
export const LISTED_IPV6_NIBBLES = '5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2';

export const SBL_TXT = 'Listed by SBL, see https://check.spamhaus.org/sbl/query/SBL2';
export const XBL_TXT = `Listed by XBL, see https://check.spamhaus.org/query/ip/${LISTED_IP}`;
export const SPAMCOP_TXT = `Blocked - see https://www.spamcop.net/bl.shtml?${LISTED_IP}`;

export function dnsblTestZones(): TestZones {
  return {
    zones: [...BLOCKLISTS.map((l) => l.zone), 'zen.dq.spamhaus.net'],
    a: {
      '10.2.0.192.zen.spamhaus.org': ['127.0.0.2', '127.0.0.4', '127.0.0.10'],
      '10.2.0.192.bl.spamcop.net': ['127.0.0.2'],
      '5.113.0.203.zen.spamhaus.org': ['127.255.255.254'],
      '6.113.0.203.zen.spamhaus.org': ['127.255.255.255'],
      '7.113.0.203.zen.spamhaus.org': ['127.255.255.252'],
      [`${LISTED_IPV6_NIBBLES}.zen.spamhaus.org`]: ['127.0.0.3'],
      [`${LISTED_IPV6_NIBBLES}.all.s5h.net`]: ['127.0.0.2'],
      [`10.2.0.192.${TEST_DQS_KEY}.zen.dq.spamhaus.net`]: ['127.0.0.2'],
    },
    txt: {
      '10.2.0.192.zen.spamhaus.org': [SBL_TXT, XBL_TXT],
      '10.2.0.192.bl.spamcop.net': [SPAMCOP_TXT],
      [`${LISTED_IPV6_NIBBLES}.zen.spamhaus.org`]: ['Listed by CSS, see https://check.spamhaus.org/query/ip/2001:db8::25'],
      [`10.2.0.192.${TEST_DQS_KEY}.zen.dq.spamhaus.net`]: [SBL_TXT],
    },
  };
}
