import { describe, expect, it } from 'vitest';
import { judge } from '../../src/harden/recommendations.js';
import { parseCsfConf } from '../../src/parsers/csf-conf.js';

// cPanel's defaults (reference §2.5): undef limits, detection on with no action.
const CPANEL_DEFAULTS = new Map<string, string | undefined>([
  ['maxemailsperhour', undefined],
  ['email_send_limits_max_defer_fail_percentage', undefined],
  ['email_outbound_spam_detect_enable', '1'],
  ['email_outbound_spam_detect_action', 'noaction'],
  ['nobodyspam', '1'],
  ['smtpmailgidonly', '1'],
  ['eximmailtrap', '1'],
]);
const CSF_DEFAULTS = parseCsfConf('# comment\nLF_SCRIPT_ALERT = "0"\nRT_AUTHRELAY_ALERT = "1"\nRT_LOCALRELAY_ALERT = "1"\nRT_RELAY_ALERT = "1"\nSMTP_BLOCK = "0"\n');

describe('harden recommendations', () => {
  it('flags cPanel\'s and CSF\'s unsafe defaults with the exact change', () => {
    const findings = judge({ tweak: CPANEL_DEFAULTS, csf: CSF_DEFAULTS }, '/etc/csf/csf.conf');
    expect(findings.map((f) => [f.key, f.current, f.recommended])).toEqual([
      ['maxemailsperhour', undefined, '500'],
      ['email_send_limits_max_defer_fail_percentage', undefined, '25'],
      ['email_outbound_spam_detect_action', 'noaction', 'hold'],
      ['LF_SCRIPT_ALERT', '0', '1'],
    ]);
    expect(findings[0]!.change).toBe('whmapi1 set_tweaksetting key=maxemailsperhour value=500');
    expect(findings[3]!.change).toBe('/etc/csf/csf.conf: LF_SCRIPT_ALERT = "1" (then csf -ra)');
    expect(findings.every((f) => f.why.length > 20)).toBe(true);
  });

  it('takes CSF SMTP_BLOCK as doing the SMTP tweak\'s job, and skips CSF when it is not installed', () => {
    const off = new Map(CPANEL_DEFAULTS).set('smtpmailgidonly', '0').set('maxemailsperhour', '0');
    expect(judge({ tweak: off, csf: CSF_DEFAULTS }).map((f) => f.key)).toContain('smtpmailgidonly');
    const blocked = parseCsfConf('LF_SCRIPT_ALERT = "1"\nSMTP_BLOCK = "1"\n');
    expect(judge({ tweak: off, csf: blocked }).map((f) => f.key)).toEqual(['maxemailsperhour', 'email_send_limits_max_defer_fail_percentage', 'email_outbound_spam_detect_action']);
    expect(judge({ tweak: CPANEL_DEFAULTS }).some((f) => f.source === 'csf')).toBe(false);
  });

  it('reads csf.conf assignments, the last one winning, and ignores comments', () => {
    expect(parseCsfConf('# LF_SCRIPT_ALERT = "1"\nLF_SCRIPT_ALERT = "0"\nLF_SCRIPT_ALERT="1"\nBAD LINE\n')).toEqual(new Map([['LF_SCRIPT_ALERT', '1']]));
  });
});
