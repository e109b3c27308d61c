import { describe, expect, it } from 'vitest';
import { isWebmailLogin, parseCpanelLogin } from '../../src/parsers/cpanel-login-log.js';

// Lines as the reference quotes them (cPanel's documentation, a parser's test suite) and as a
// webmail login writes them.
describe('cpsrvd session_log and login_log lines', () => {
  it('reads a session_log NEW line: address, login name and the app from the origin', () => {
    const l = parseCpanelLogin('[2015-10-30 12:24:06 -0500] info [cpsrvd] 14.2.19.78 NEW user:TIg1FiIdR6eTnKtYr7VmYGKpYB9srb0yvjHkkA1PeYOB6Y2naymPktSsjAob3pX0 address=14.2.19.78,app=cpaneld,creator=user,method=handle_form_login,path=form,possessed=0');
    expect(l).toEqual({ time: '2015-10-30 12:24:06', offset: '-0500', ip: '14.2.19.78', user: 'user', app: 'cpaneld', outcome: 'session' });
    expect(isWebmailLogin(l!)).toBe(false);
  });

  it('a webmail session of a mailbox (the proc field may read webmaild) is a webmail login', () => {
    for (const proc of ['cpsrvd', 'webmaild']) {
      const l = parseCpanelLogin(`[2026-12-06 15:42:10 +0000] info [${proc}] 2a01:4f8:c17:1::5 NEW info@shop.example:Xk2b9TqA0pL address=2a01:4f8:c17:1::5,app=webmaild,creator=info@shop.example,method=handle_form_login,path=form,possessed=0`);
      expect(l).toMatchObject({ ip: '2a01:4f8:c17:1::5', user: 'info@shop.example', app: 'webmaild', outcome: 'session' });
      expect(isWebmailLogin(l!)).toBe(true);
    }
  });

  it('reads login_log SUCCESS, FAILED and DEFERRED lines of the current format', () => {
    expect(parseCpanelLogin('[2018-09-19 16:02:36 +0000] info [webmaild] 10.10.10.10 - rorymckinley@blah.capefox.co (possessor: blahuser) - SUCCESS LOGIN webmaild')).toEqual({
      time: '2018-09-19 16:02:36', offset: '+0000', ip: '10.10.10.10', user: 'rorymckinley@blah.capefox.co', app: 'webmaild', outcome: 'success',
    });
    expect(parseCpanelLogin('[2018-10-15 15:42:18 +0000] info [cpaneld] 10.10.10.10 - cpresellercapefo "POST /login/?login_only=1 HTTP/1.1" FAILED LOGIN cpaneld: access denied for root, reseller, and user password')).toMatchObject({ user: 'cpresellercapefo', app: 'cpaneld', outcome: 'failed' });
    const failed = parseCpanelLogin('[2026-12-06 03:11:02 +0000] info [webmaild] 45.9.20.11 - info@shop.example "POST /login/?login_only=1 HTTP/1.1" FAILED LOGIN webmaild: user password incorrect');
    expect(failed).toMatchObject({ ip: '45.9.20.11', outcome: 'failed', app: 'webmaild' });
    expect(isWebmailLogin(failed!)).toBe(false);
    expect(parseCpanelLogin('[2026-12-06 03:11:09 +0000] info [whostmgrd] 45.9.20.11 - root "POST /login/?login_only=1 HTTP/1.1" DEFERRED LOGIN whostmgrd: security token missing')).toMatchObject({ outcome: 'deferred', app: 'whostmgrd' });
  });

  it('reads the pre-2014 format and leaves other lines alone', () => {
    expect(parseCpanelLogin('192.168.0.22 - user [07/15/2013:16:21:50 -0000] "POST /login/?login_only=1 HTTP/1.1" FAILED LOGIN whostmgrd: user password incorrect')).toEqual({
      time: '2013-07-15 16:21:50', offset: '-0000', ip: '192.168.0.22', user: 'user', app: 'whostmgrd', outcome: 'failed',
    });
    expect(parseCpanelLogin('[2015-10-30 12:30:00 -0500] info [cpsrvd] 14.2.19.78 PURGE user:TIg1FiIdR6eTnKtYr7VmYGKpYB9srb0y logout')).toBeNull();
    expect(parseCpanelLogin('[2026-12-06 15:42:10 +0000] info [cpsrvd] not-an-ip NEW x@y.example:abc address=x,app=webmaild')).toBeNull();
    expect(parseCpanelLogin('')).toBeNull();
  });
});
