import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Option, type Command } from 'commander';
import { builtinActions } from '../../actions/registry.js';
import { AuditWriter } from '../../audit/writer.js';
import { redactDeep } from '../../core/secret.js';
import { safeLine } from '../../core/text.js';
import { EXIT } from '../../engine/run.js';
import { investigate, renderInvestigation } from '../../investigate/report.js';
import { loadPlaybook } from '../../playbook/load.js';
import { resolveInputs } from '../../playbook/inputs.js';
import { reportError, UsageError } from '../errors.js';
import { investigationEntry, investigationJson, verdictFromFiles, verdictFromHost, type InvestigationJson } from '../render/investigation-json.js';
import { plainProgress } from '../render/progress.js';
import { auditFileName, collect, interruptibleRun, runReadOnly } from '../run-support.js';
import { colorEnabled, createStyle } from '../style.js';
import { targetsFromFlags } from '../targets.js';
import { askHidden } from '../prompt-secret.js';
import { PACKAGE_ROOT } from '../version.js';
import { addAnsibleStyleOptions, checkVerbosity, printHostListing } from '../ansible-style.js';
import { diagnosticLogger, diagnosticObserver, withDiagnostics } from '../diagnostics.js';
import { printJson } from '../render/json.js';

interface InvestigateFlags {
  host: string[];
  inventory?: string;
  limit?: string;
  /** Repeatable: a rotated set, plain or gzip, read as one log in time order. */
  mainlog?: string[];
  spool?: string;
  domlogs?: string;
  maillog?: string[];
  webmailLog?: string[];
  trustedProxy?: string[];
  proxyRanges?: string;
  allowList?: string;
  allow?: string[];
  homeRoot?: string[];
  since: string;
  minMessages: string;
  threads?: string;
  acceptNewHostKeys?: boolean;
  askBecomePass?: boolean;
  becomePasswordFile?: string;
  knownHosts?: string;
  auditDir: string;
  json?: boolean;
  color?: boolean;
  listHosts?: boolean;
  verbose?: number;
  quiet?: boolean;
}

function threadCount(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 8) throw new UsageError(`--threads must be a whole number from 1 to 8, got ${JSON.stringify(text)}`);
  return n;
}

/** `--spool` names the directory holding `input/`; accept `input/` itself too. */
function spoolRoot(dir: string): string {
  const trimmed = dir.replace(/\/+$/, '');
  if (basename(trimmed) === 'input' && !existsSync(join(trimmed, 'input'))) return dirname(trimmed) || '.';
  return dir;
}

/** `--mainlog` as a list of files, whether the flag was given once or several times. */
function listOf(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** One shape for files and hosts (see render/investigation-json.ts); secrets never printed. */
function writeJson(doc: InvestigationJson): void {
  printJson(redactDeep(doc));
}

/**
 * The read-only detection as a report: on hosts (through the shipped investigate playbook, so
 * it is recorded like any run) or on files copied off a server.
 */
export async function investigateCommand(flags: InvestigateFlags, argv: string[]): Promise<number> {
  const json = flags.json === true;
  const style = createStyle(colorEnabled(process.stdout, flags.color));
  const minMessages = Number(flags.minMessages);
  const errorStyle = createStyle(colorEnabled(process.stderr, flags.color));
  try {
    if (!Number.isInteger(minMessages) || minMessages < 1) throw new UsageError('--min-messages takes a whole number of 1 or more');
    const offline = flags.mainlog !== undefined || flags.spool !== undefined;
    if (offline && (flags.host.length > 0 || flags.inventory)) throw new UsageError('use either files (--mainlog/--spool) or hosts (--host/--inventory), not both');

    if (offline) {
      const verdict = await investigate({
        ...(flags.mainlog ? { mainlog: flags.mainlog } : {}),
        ...(flags.spool ? { spool: spoolRoot(flags.spool) } : {}),
        ...(flags.domlogs ? { domlogs: flags.domlogs } : {}),
        ...(flags.maillog ? { maillog: flags.maillog } : {}),
        ...(flags.webmailLog ? { webmailLog: flags.webmailLog } : {}),
        ...(flags.trustedProxy ? { trustedProxies: flags.trustedProxy } : {}),
        ...(flags.proxyRanges ? { proxyRangesFile: flags.proxyRanges } : {}),
        ...(flags.allowList ? { allowFile: flags.allowList } : {}),
        ...(flags.allow ? { allow: flags.allow } : {}),
        ...(flags.homeRoot ? { homeRoots: flags.homeRoot } : {}),
        since: flags.since,
        min_messages: minMessages,
        ...(flags.threads !== undefined ? { threads: threadCount(flags.threads) } : {}),
      });
      // A file that could not be read makes the verdict incomplete: never a clean exit 0.
      const incomplete = verdict.problems.length > 0;
      if (json) {
        const source = { kind: 'files' as const, mainlog: listOf(flags.mainlog), spool: flags.spool ?? null, domlogs: flags.domlogs ?? null };
        writeJson(investigationJson(source, [investigationEntry(null, verdictFromFiles(verdict))], null));
      } else {
        process.stdout.write(renderInvestigation(verdict, { color: style.enabled }));
        if (incomplete) process.stderr.write(`${errorStyle.red('Incomplete:')} some evidence could not be read (see Problem lines); the verdict may miss the sender.\n`);
      }
      return incomplete ? EXIT.failed : EXIT.ok;
    }

    const registry = builtinActions();
    const playbook = await loadPlaybook(join(PACKAGE_ROOT, 'playbooks', 'investigate.yml'), registry);
    // Files the command reads here have no meaning on a host: say so rather than ignore them.
    for (const [flag, given] of [['--maillog', flags.maillog], ['--webmail-log', flags.webmailLog], ['--proxy-ranges', flags.proxyRanges], ['--allow-list', flags.allowList], ['--home-root', flags.homeRoot]] as const) {
      if (given !== undefined) throw new UsageError(`${flag} is for files copied off a server; on hosts the maillog is layout.maillog in the inventory, and allow-lists and proxies are --allow and --trusted-proxy`);
    }
    const inputs = resolveInputs(playbook.spec, {
      since: flags.since,
      min_messages: String(minMessages),
      ...(flags.allow !== undefined ? { allow: flags.allow.join(',') } : {}),
      ...(flags.trustedProxy !== undefined ? { trusted_proxies: flags.trustedProxy.join(',') } : {}),
    });
    checkVerbosity({ verbose: flags.verbose ?? 0, ...(flags.quiet ? { quiet: true } : {}) });
    if (flags.listHosts) return await printHostListing(flags, { json });
    const log = diagnosticLogger(flags.verbose ?? 0);
    const logStep = log ? diagnosticObserver(log) : undefined;
    const targets = withDiagnostics(await targetsFromFlags(flags, {}, { ask: (q) => askHidden(q) }), log);
    const audit = AuditWriter.create(join(flags.auditDir, auditFileName('investigate')));
    const errStyle = createStyle(colorEnabled(process.stderr, flags.color));
    const progress = plainProgress(process.stderr, errStyle, json || flags.quiet === true);
    const run = interruptibleRun();
    let report;
    try {
      report = await runReadOnly(
        {
          playbook,
          inputs,
          targets,
          registry,
          audit,
          argv,
          observer: (event) => {
            progress.observer(event);
            logStep?.(event);
          },
          signal: run.signal,
        },
        errStyle,
        'an investigation',
      );
    } finally {
      run.dispose();
      audit.close();
    }
    const results = report.plan.hosts.map((h) => investigationEntry(h.target.name, verdictFromHost(h.outputs.detect), h.stopped?.error));
    const incomplete = results.filter((r) => r.incomplete).map((r) => r.host ?? '');
    if (json) {
      const source = { kind: 'host' as const, hosts: results.map((r) => r.host ?? '') };
      writeJson(investigationJson(source, results, audit.path, report.exitCode === 0));
    } else {
      for (const r of results) {
        process.stdout.write(`${style.bold(`== ${safeLine(r.host ?? '')}`)}\n`);
        if (r.verdict) process.stdout.write(renderInvestigation(r.verdict, { color: style.enabled }));
        else process.stdout.write(`${style.red('could not investigate')}: ${safeLine(r.error ?? 'unknown error')}\n`);
        process.stdout.write('\n');
      }
      if (incomplete.length > 0) process.stderr.write(`${errStyle.red('Incomplete:')} evidence could not be read on ${incomplete.map(safeLine).join(', ')}; the verdict may miss the sender.\n`);
      process.stderr.write(`Audit log: ${audit.path}\n`);
    }
    return report.exitCode !== 0 ? report.exitCode : incomplete.length > 0 ? EXIT.failed : EXIT.ok;
  } catch (error) {
    return reportError(error, json);
  }
}

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
    .option('--since <duration>', 'how far back in the main log to look', '24h')
    .option('--min-messages <n>', 'messages in the window before a sender counts as suspicious', '100')
    .option('--threads <n>', 'offline: threads reading one large main log (default: 2 on 2 or more cores)')
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

Exit codes: 0 investigated (whatever was found) · 1 a host could not be investigated, or
some evidence (queue, main log, spool) could not be read · 2 bad usage`,
    )
    .action(async (flags: InvestigateFlags) => {
      process.exitCode = await investigateCommand(flags, process.argv.slice(2));
    });
}
