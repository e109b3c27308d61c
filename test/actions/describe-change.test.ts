import { describe, expect, it } from 'vitest';
import { describeChange } from '../../src/actions/describe-change.js';

describe('changes in words', () => {
  it('says what the containment changes did, with their deadlines', () => {
    expect(describeChange({ kind: 'mailbox-suspension', mailbox: 'a@b.test', scope: 'outgoing', suspended: true, until: '2026-12-07T14:00:00.000Z' })).toEqual({
      what: 'mailbox outgoing suspended until 2026-12-07T14:00:00.000Z',
      target: 'a@b.test',
      before: undefined,
    });
    expect(describeChange({ kind: 'ip-temp-deny', ip: '45.33.12.7', ttlSeconds: 3600, until: '2026-12-07T14:00:00.000Z' }).what).toBe('IP blocked in the firewall for 3600 s until 2026-12-07T14:00:00.000Z');
    expect(describeChange({ kind: 'messages-removed', count: 2, ids: ['x', 'y'], sender: 'a@b.test', quarantine: '/q/1' }).what).toBe('2 messages removed from the queue (kept in quarantine /q/1)');
    expect(describeChange({ kind: 'messages-frozen', count: 1, ids: ['x'], authId: 'a@b.test' })).toMatchObject({ what: '1 queued message frozen', target: 'AUTH id a@b.test' });
    expect(describeChange({ kind: 'messages-restored', count: 3, ids: [], quarantine: '/q/1' }).what).toBe('3 messages put back into the queue from quarantine');
    expect(describeChange({ kind: 'account-outgoing', account: 'u', suspended: false }).what).toBe("account's outgoing mail allowed again");
  });
});
