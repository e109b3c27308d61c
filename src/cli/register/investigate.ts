/** `runbook investigate`: declared at start-up; the investigation is loaded when it runs. */
import { Option, type Command } from 'commander';
import type { InvestigateFlags } from '../commands/investigate.js';
import { addAnsibleStyleOptions, collect } from '../options.js';

export function registerInvestigateCommand(program: Command): void {
  const command = program.command('investigate');
  addAnsibleStyleOptions(command, { steps: false, inputs: false });
  command
    .description('Read-only spam investigation: who is sending, from which mailbox or script, from which IPs')
    .option('-H, --host <host>', "'demo', 'local' or [user@]host[:port] over SSH (repeatable)", collect, [])
    .option('-i, --inventory <file>', 'inventory of hosts and groups')
    .option('-l, --limit <pattern>', 'hosts/groups/globs from the inventory')
    .option('--mainlog <file>', 'offline: an Exim main log copied off a server, plain or gzip (repeatable: a rotated set)', (v: string, prev?: string[]) => [...(prev ?? []), v])
    .option('--spool <dir>', 'offline: an Exim spool directory (the one holding input/, or input/ itself)')
    .option('--domlogs <dir>', 'offline: Apache domlogs, to find who requested a script')
    .option('--maillog <file>', "offline: Dovecot's log (cPanel /var/log/maillog): addresses that read a mailbox's mail are its owner's (repeatable)", (v: string, prev?: string[]) => [...(prev ?? []), v])
    .option('--webmail-log <file>', "offline: cPanel's webmail logins (/usr/local/cpanel/logs/session_log or login_log): the addresses behind mail Exim saw from 127.0.0.1 (repeatable)", (v: string, prev?: string[]) => [...(prev ?? []), v])
    .option('--trusted-proxy <cidr>', 'an address or CIDR of your own proxy/load balancer: never blocked, the client is found past it (repeatable)', (v: string, prev?: string[]) => [...(prev ?? []), v])
    .option('--proxy-ranges <file>', "CDN ranges (one CIDR a line) replacing the shipped Cloudflare list")
    .option('--allow-list <file>', 'known bulk senders never flagged: one x@domain, domain, /directory or address/CIDR a line')
    .option('--allow <entry>', 'one allow-list entry (repeatable)', (v: string, prev?: string[]) => [...(prev ?? []), v])
    .option('--home-root <dir>', 'offline: parent of account homes as the main log names them (default /home, /home2, ...); the sending directories are read there (repeatable)', (v: string, prev?: string[]) => [...(prev ?? []), v])
    .option('--cpanel-users <dir>', "offline: cPanel's account files copied off the server (/var/cpanel/users): an account's EMAIL_OUTBOUND_SPAM_DETECT_THRESHOLD replaces --unique-recipients-per-hour for its mailboxes, as on a host (with --userdomains)")
    .option('--userdomains <file>', 'offline: a copy of /etc/userdomains, which says which account owns a mailbox\'s domain (with --cpanel-users)')
    .option('--since <duration>', 'how far back in the main log to look', '24h')
    .option('--min-messages <n>', 'messages in the window before a sender counts as suspicious', '100')
    .option('--unique-recipients-per-hour <n>', "distinct recipients in one hour that flag a mailbox (cPanel's email_outbound_spam_detect_threshold)", '500')
    .option('--accept-new-host-keys', 'trust unknown SSH host keys on first use (recorded)')
    .option('-K, --ask-become-pass', 'ask once for the sudo password of hosts with become (never on argv)')
    .option('--become-password-file <file>', 'read the sudo password for become from this 0600 file')
    .option('--known-hosts <file>', 'known_hosts file to verify host keys against')
    .option('--audit-dir <dir>', 'directory for the audit log of the investigation', 'runbook-audit')
    .option('--json', 'machine-readable findings on stdout')
    .addOption(new Option('--no-color', 'no colours (also NO_COLOR=1)'))
    .addHelpText(
      'after',
      `
Examples:
  runbook investigate --host demo
  runbook investigate --host root@mail1.example.net --since 6h --json
  runbook investigate --mainlog ./exim_mainlog --spool ./exim-spool
  runbook investigate --mainlog exim_mainlog-20261115.gz --mainlog exim_mainlog --since 7d
  runbook investigate --mainlog ./exim_mainlog --maillog ./maillog --allow news@shop.example --json
  runbook investigate --mainlog ./exim_mainlog --cpanel-users ./cpanel-users --userdomains ./userdomains

Exit codes: 0 investigated (whatever was found) · 1 a host could not be investigated, or
some evidence (queue, main log, spool) could not be read · 2 bad usage`,
    )
    .action(async (flags: InvestigateFlags) => {
      process.exitCode = await (await import('../commands/investigate.js')).investigateCommand(flags, process.argv.slice(2));
    });
}
