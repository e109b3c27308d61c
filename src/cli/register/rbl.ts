/** `runbook rbl`: declared at start-up; the checks are loaded when the command runs. */
import { Option, type Command } from 'commander';
import { BLOCKLISTS, LISTS_REVIEWED } from '../../actions/rbl/lists.js';
import type { RblFlags } from '../commands/rbl.js';
import { collect } from '../options.js';

export function registerRblCommand(program: Command): void {
  program
    .command('rbl')
    .description("Check servers' sending addresses against the DNS blocklists that matter (Spamhaus ZEN, SpamCop, Barracuda, UCEPROTECT, PSBL, Mailspike, s5h)")
    .argument('[ip...]', 'addresses to check (instead of hosts)')
    .option('-H, --host <host>', "'demo', 'local' or [user@]host[:port]: asked for its addresses (repeatable)", collect, [])
    .option('-i, --inventory <file>', 'inventory: a host\'s `addresses` var (or an IP ansible_host) is used without SSH; hosts without them are asked over SSH')
    .option('-l, --limit <pattern>', 'hosts/groups/globs from the inventory')
    .option('--dns-server <ip[:port]>', 'resolver to ask (your own recursive resolver; public ones are refused by Spamhaus)')
    .option('--dqs-key-file <file>', 'Spamhaus DQS key, read from this file (mode 0600; never on the command line)')
    .option('--list <id>', `only this blocklist (repeatable): ${BLOCKLISTS.map((l) => l.id).join(', ')}`, collect, [])
    .option('--timeout <duration>', 'how long to wait for one answer', '3s')
    .option('--accept-new-host-keys', 'trust unknown SSH host keys on first use (recorded)')
    .option('--known-hosts <file>', 'known_hosts file to verify host keys against')
    .option('--audit-dir <dir>', 'directory for the audit log when hosts are asked', 'runbook-audit')
    .option('--json', 'machine-readable results on stdout')
    .addOption(new Option('--no-color', 'no colours (also NO_COLOR=1)'))
    .addHelpText(
      'after',
      `
Where the addresses come from: IPs on the command line; for --inventory, a host's
'addresses' variable (list or "ip1 ip2"), else its ansible_host when that is an IP, with no
SSH at all; otherwise (--host, or inventory hosts without them) the host is asked over SSH:
'ip -o addr', /var/cpanel/mainip and /etc/mailips. DNS is always asked from this machine.

Status: LISTED (with the list's reason and removal page) · clean (NXDOMAIN) · could not check
(the list answered an error code such as Spamhaus 127.255.255.254 for public resolvers: use
your own resolver or a DQS key) · unknown (no answer in time: never taken as clean).
Blocklists as reviewed on ${LISTS_REVIEWED}; gone lists (SORBS) are not asked.

Examples:
  runbook rbl 192.0.2.10 2001:db8::25 --dns-server 127.0.0.1
  runbook rbl --host demo --dns-server 127.0.0.1:5353
  runbook rbl -i hosts.ini --dqs-key-file ~/.config/runbook/dqs.key --json

Exit codes: 0 every address checked on every list and none listed · 1 an address is listed,
a list could not be checked, or a host could not be asked · 2 bad usage`,
    )
    .action(async (ips: string[], flags: RblFlags) => {
      process.exitCode = await (await import('../commands/rbl.js')).rblCommand(ips, flags, process.argv.slice(2));
    });
}
