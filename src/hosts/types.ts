import type { Transport } from '../transport/types.js';

/** Where the tools live on a host. Defaults are cPanel's; any may be overridden per host. */
export interface ToolPaths {
  exim: string;
  exiqgrep: string;
  uapi: string;
  whmapi1: string;
  csf: string;
  /** Directory holding restartsrv_exim, restartsrv_imap, ... */
  restartsrvDir: string;
  /** iproute2's `ip` (for the host's own addresses); default: `ip` on the PATH. */
  ip?: string;
  /** Malware scanners; unset means cPanel's ClamAV, then the system's (see src/actions/files/malware-scan.ts). */
  clamscan?: string;
  clamdscan?: string;
  maldet?: string;
}

export const CPANEL_TOOL_PATHS: ToolPaths = {
  exim: '/usr/sbin/exim',
  exiqgrep: '/usr/sbin/exiqgrep',
  uapi: '/usr/local/cpanel/bin/uapi',
  whmapi1: '/usr/local/cpanel/bin/whmapi1',
  csf: '/usr/sbin/csf',
  restartsrvDir: '/scripts',
};

/** Filesystem layout facts that are not asked of Exim. */
export interface HostLayout {
  /** Parents of cPanel account homes (/home, /home2, ...). */
  homeRoots: string[];
  /** CSF configuration directory (csf.deny, csf.allow, csf.ignore). */
  csfDir: string;
  /** Apache domain access logs. */
  domlogsDir: string;
  /** /etc/userdomains (domain: user lines). */
  userdomainsFile: string;
  /**
   * cPanel's per-mailbox outgoing suspension state (users/CPUSER/suspensions.json).
   * Optional; defaults to /var/cpanel/email_send_limits.
   */
  emailSendLimitsDir?: string;
  /** cPanel's account files (USER: `KEY=value` lines); default /var/cpanel/users. */
  cpanelUsersDir?: string;
  /** cPanel's main IP; default /var/cpanel/mainip. */
  mainIpFile?: string;
  /** cPanel's per-domain outgoing addresses (`domain: IP`); default /etc/mailips. */
  mailIpsFile?: string;
  /** Directory runbook creates (atomic mkdir) to lock the host during a run. Default /run/runbook.lock. */
  lockDir?: string;
  /** Dovecot's log (who reads each mailbox). Default /var/log/maillog, else /var/log/mail.log (Ubuntu). */
  maillog?: string;
  /** cpsrvd's webmail login records (who is behind mail Exim saw from 127.0.0.1). Default CPANEL_WEBMAIL_LOGS. */
  webmailLogs?: string[];
}

/** cpsrvd's session and login records: where a webmail user's address is (reference §1.6). */
export const CPANEL_WEBMAIL_LOGS = ['/usr/local/cpanel/logs/session_log', '/usr/local/cpanel/logs/login_log'];

export const CPANEL_LAYOUT: HostLayout = {
  homeRoots: ['/home'],
  csfDir: '/etc/csf',
  domlogsDir: '/etc/apache2/logs/domlogs',
  userdomainsFile: '/etc/userdomains',
};

/** A host ready to run steps on: its connection and what runbook knows about it. */
export interface HostTarget {
  /** Inventory name. */
  name: string;
  transport: Transport;
  tools: ToolPaths;
  layout: HostLayout;
  /** Host and group variables from the inventory, visible to expressions as `host.vars`. */
  vars: Record<string, unknown>;
}
