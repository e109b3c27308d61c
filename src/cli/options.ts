/**
 * Option declarations shared by several commands. Only commander here: every command's options
 * are declared at start-up (for --help and parsing), so this module must stay cheap to load;
 * what the options do lives with each command's implementation, loaded when it runs.
 */
import { Option, type Command } from 'commander';
import { TARGET_FORMS } from '../audit/attach/target.js';

/** commander collector for repeatable flags (`--var a=1 --var b=2`). */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

const count = (_value: string, previous: number): number => previous + 1;

/** `steps`: the playbook's steps can be selected; `inputs`: the playbook takes inputs from the command line. */
export function addAnsibleStyleOptions(command: Command, options: { steps: boolean; inputs: boolean }): Command {
  if (options.inputs) command.option('-e, --extra-vars <name=value|@file>', 'set an input like --var, or @FILE for a YAML/JSON file of inputs (repeatable; later wins)', collect, []);
  command
    .option('--list-hosts', 'print the selected hosts and how each would be reached (user@host:port, keys, jump hosts); connect to nothing')
    .option('-v, --verbose', 'more detail on stderr as JSON lines: step timings (-v), every command with its exit status and time (-vv)', count, 0)
    .option('-q, --quiet', 'only errors and the final outcome');
  if (options.steps) {
    command
      .option('-t, --tags <tags>', "run only steps with one of these tags (comma-separated, repeatable); 'always' steps run too", collect, [])
      .option('--skip-tags <tags>', 'leave out steps with one of these tags (comma-separated, repeatable)', collect, [])
      .option('--start-at-step <id>', 'start at this step, leaving out the steps before it');
  }
  return command;
}

export function signKeyOption(): Option {
  return new Option('--sign-key <file>', 'Ed25519 private key (PEM or OpenSSH) to sign the audit log (its summary and chain head)');
}

export function signKeyPassphraseOption(): Option {
  return new Option('--sign-key-passphrase-file <file>', 'passphrase of an encrypted --sign-key, from this 0600 file (on a terminal you are asked instead)');
}

/**
 * How the commands that act on the hosts their audit logs name (undo, expire, quarantine prune)
 * reach them; `what` is how the help names those logs.
 */
export function addLoggedHostOptions(command: Command, what: string): Command {
  return command
    .option('-H, --host <host>', `how to reach the hosts (default: the host names in ${what})`, collect, [])
    .option('-i, --inventory <file>', `inventory that resolves the host names in ${what}`)
    .option('-l, --limit <pattern>', 'only these hosts/groups/globs of the inventory, e.g. "web*,!web3"')
    .option('-f, --forks <n>', 'hosts worked on at once', '10')
    .option('--accept-new-host-keys', 'trust unknown SSH host keys on first use (recorded in the audit log)')
    .option('--known-hosts <file>', 'known_hosts file to verify host keys against');
}

/** The options of the commands that plan and run a playbook on hosts (apply, run, harden). */
export function addHostRunOptions(command: Command): Command {
  return command
    .option('-n, --dry-run', 'run read-only steps, plan the rest; change nothing')
    .option('-y, --yes', 'accept every confirmation gate (for automation)')
    .option('--approve <hash>', 'apply only if the fresh plan has this hash (from a dry-run); accepts its gates')
    .option('--var <name=value>', 'set an input (repeatable)', collect, [])
    .option('--vars-file <file>', 'YAML file of input values')
    .option('-H, --host <host>', "target: 'demo' (built-in simulated cPanel host), 'local', or [user@]host[:port] over SSH (repeatable)", collect, [])
    .option('-i, --inventory <file>', 'inventory of hosts and groups: runbook YAML, or Ansible INI/YAML with group_vars/ and host_vars/')
    .option('-l, --limit <pattern>', 'hosts/groups/globs from the inventory, e.g. "web*,!web3"')
    .option('-f, --forks <n>', 'hosts worked on at once', '10')
    .option('--serial <n[,n...]>', 'batches of hosts; the first batch is a canary')
    .option('--max-fail-percent <pct>', 'stop starting new hosts once this share of hosts failed')
    .option('--accept-new-host-keys', 'trust unknown SSH host keys on first use (recorded in the audit log); changed keys are still refused')
    .option('-K, --ask-become-pass', 'ask once for the sudo password of hosts with become (never on argv)')
    .option('--become-password-file <file>', 'read the sudo password for become from this 0600 file')
    .option('--known-hosts <file>', 'known_hosts file to verify host keys against (default ~/.ssh/known_hosts)')
    .option('--audit-log <file>', 'write the audit log here instead of the audit directory')
    .option('--audit-dir <dir>', 'directory for audit logs', 'runbook-audit')
    .option('--secrets-file <file>', 'write generated secrets (new passwords) to this 0600 file instead of the terminal (without a terminal the default is ~/.local/state/runbook/secrets/)')
    .addOption(signKeyOption())
    .addOption(signKeyPassphraseOption())
    .option('--incident <target>', `attach the report to an incident: ${TARGET_FORMS}`)
    .option('--rerun-failed <auditlog>', 'only the hosts that failed or were unreachable in that run')
    .option('--break-stale-lock', "take over a host's run lock when its holder is gone, it is older than 6 hours, or it has had no owner file for 2 minutes (reported)")
    .option('--json', 'machine-readable result on stdout')
    .addOption(new Option('--no-color', 'no colours (also NO_COLOR=1)'));
}
