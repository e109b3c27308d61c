/**
 * What a cPanel/Exim/CSF server should have set so the next compromised mailbox or script is
 * capped and noticed early, and how to judge the current values. Pure: values in, findings out.
 * Setting names and defaults: reference owners-holds-blocklists-malware.md §2.5 and §3.1.
 */

export type SettingSource = 'tweak' | 'csf';

export interface Recommendation {
  source: SettingSource;
  key: string;
  recommended: string;
  why: string;
  /** Whether the current value (undefined = unset/undef) needs the change. */
  unsafe(current: string | undefined, all: CurrentValues): boolean;
}

export interface CurrentValues {
  tweak: Map<string, string | undefined>;
  /** undefined when CSF is not installed (no csf.conf). */
  csf?: Map<string, string>;
}

export interface Finding {
  source: SettingSource;
  key: string;
  /** undefined: unset (cPanel's undef, which means unlimited/off). */
  current: string | undefined;
  recommended: string;
  why: string;
  /** The exact change, as an operator would type it. */
  change: string;
}

const unlimited = (v: string | undefined): boolean => v === undefined || v === '' || v === '0';
const isOff = (v: string | undefined): boolean => v !== '1';

export const RECOMMENDATIONS: Recommendation[] = [
  {
    source: 'tweak',
    key: 'maxemailsperhour',
    recommended: '500',
    why: 'unlimited by default: one compromised account can send without limit; a per-domain hourly cap queues the excess',
    unsafe: unlimited,
  },
  {
    source: 'tweak',
    key: 'email_send_limits_max_defer_fail_percentage',
    recommended: '25',
    why: 'off by default: spam runs bounce and defer; this blocks a domain whose failed+deferred share passes the limit',
    unsafe: unlimited,
  },
  {
    source: 'tweak',
    key: 'email_outbound_spam_detect_enable',
    recommended: '1',
    why: 'counts unique recipients per mailbox per hour, the sign of a spam run',
    unsafe: isOff,
  },
  {
    source: 'tweak',
    key: 'email_outbound_spam_detect_action',
    recommended: 'hold',
    why: "'noaction' by default: detected outbound spam is only reported; 'hold' queues it for review (reversible, unlike 'block')",
    unsafe: (v) => v === undefined || v === 'noaction',
  },
  {
    source: 'tweak',
    key: 'nobodyspam',
    recommended: '1',
    why: "mail from 'nobody' (scripts run by the web server without suEXEC) cannot be traced to an account",
    unsafe: isOff,
  },
  {
    source: 'tweak',
    key: 'smtpmailgidonly',
    recommended: '1',
    why: 'a script can talk SMTP to remote servers directly, bypassing Exim and every limit (CSF SMTP_BLOCK does the same job when on)',
    unsafe: (v, all) => isOff(v) && all.csf?.get('SMTP_BLOCK') !== '1',
  },
  {
    source: 'tweak',
    key: 'eximmailtrap',
    recommended: '1',
    why: 'X-Source headers record which account and script sent a message: the trail to the sending script',
    unsafe: isOff,
  },
  {
    source: 'csf',
    key: 'LF_SCRIPT_ALERT',
    recommended: '1',
    why: 'off by default: lfd alerts when one directory (cwd=) sends more than LF_SCRIPT_LIMIT messages an hour, the PHP-mailer pattern',
    unsafe: isOff,
  },
  {
    source: 'csf',
    key: 'RT_AUTHRELAY_ALERT',
    recommended: '1',
    why: 'alerts when one client IP sends more than RT_AUTHRELAY_LIMIT authenticated messages an hour (a stolen mailbox password)',
    unsafe: isOff,
  },
  {
    source: 'csf',
    key: 'RT_LOCALRELAY_ALERT',
    recommended: '1',
    why: 'alerts when one local user submits more than RT_LOCALRELAY_LIMIT messages an hour (scripts and cron)',
    unsafe: isOff,
  },
  {
    source: 'csf',
    key: 'RT_RELAY_ALERT',
    recommended: '1',
    why: 'alerts when one remote IP relays more than RT_RELAY_LIMIT messages an hour',
    unsafe: isOff,
  },
];

/** The change a finding asks for, in the operator's own commands. */
export function describeChange(source: SettingSource, key: string, value: string, csfConf = '/etc/csf/csf.conf'): string {
  return source === 'tweak' ? `whmapi1 set_tweaksetting key=${key} value=${value}` : `${csfConf}: ${key} = "${value}" (then csf -ra)`;
}

/** Findings for the values a host has; CSF settings only when CSF is installed. */
export function judge(values: CurrentValues, csfConf?: string): Finding[] {
  const findings: Finding[] = [];
  for (const rec of RECOMMENDATIONS) {
    if (rec.source === 'csf' && values.csf === undefined) continue;
    const current = rec.source === 'tweak' ? values.tweak.get(rec.key) : values.csf?.get(rec.key);
    if (rec.source === 'csf' && current === undefined) continue;
    if (!rec.unsafe(current, values)) continue;
    findings.push({ source: rec.source, key: rec.key, current, recommended: rec.recommended, why: rec.why, change: describeChange(rec.source, rec.key, rec.recommended, csfConf) });
  }
  return findings;
}
