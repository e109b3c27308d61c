import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { redactDeep } from '../../core/secret.js';
import { EXIT } from '../../engine/exit-codes.js';
import { investigate, renderInvestigation } from '../../investigate/report.js';
import { reportError, UsageError } from '../errors.js';
import { investigationEntry, investigationJson, verdictFromFiles, verdictFromHost, type InvestigationJson } from '../render/investigation-json.js';
import { colorEnabled, createStyle } from '../style.js';
import { printJson } from '../render/json.js';

/**
 * What only an investigation of hosts needs (the playbook engine, SSH, the audit log): loaded
 * when hosts are asked, so reading files copied off a server starts as fast as the scan allows.
 */
async function hostModules() {
  const [registry, audit, text, load, inputs, progress, support, targets, prompt, version, ansible, diagnostics] = await Promise.all([
    import('../../actions/registry.js'),
    import('../../audit/writer.js'),
    import('../../core/text.js'),
    import('../../playbook/load.js'),
    import('../../playbook/inputs.js'),
    import('../render/progress.js'),
    import('../run-support.js'),
    import('../targets.js'),
    import('../prompt-secret.js'),
    import('../version.js'),
    import('../ansible-style.js'),
    import('../diagnostics.js'),
  ]);
  return { ...registry, ...audit, ...text, ...load, ...inputs, ...progress, ...support, ...targets, ...prompt, ...version, ...ansible, ...diagnostics };
}

export interface InvestigateFlags {
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
  cpanelUsers?: string;
  userdomains?: string;
  since: string;
  minMessages: string;
  uniqueRecipientsPerHour: string;
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
  const uniqueRecipientsPerHour = Number(flags.uniqueRecipientsPerHour);
  const errorStyle = createStyle(colorEnabled(process.stderr, flags.color));
  try {
    if (!Number.isInteger(minMessages) || minMessages < 1) throw new UsageError('--min-messages takes a whole number of 1 or more');
    if (!Number.isInteger(uniqueRecipientsPerHour) || uniqueRecipientsPerHour < 1) throw new UsageError('--unique-recipients-per-hour takes a whole number of 1 or more');
    const offline = flags.mainlog !== undefined || flags.spool !== undefined;
    if (offline && (flags.host.length > 0 || flags.inventory)) throw new UsageError('use either files (--mainlog/--spool) or hosts (--host/--inventory), not both');

    if (offline) {
      if ((flags.cpanelUsers === undefined) !== (flags.userdomains === undefined)) {
        throw new UsageError(flags.cpanelUsers !== undefined
          ? '--cpanel-users needs --userdomains FILE too: a copy of /etc/userdomains, which says which account owns a mailbox\'s domain'
          : '--userdomains needs --cpanel-users DIR too: a copy of /var/cpanel/users, where the accounts\' own thresholds are');
      }
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
        ...(flags.cpanelUsers !== undefined ? { cpanelUsers: flags.cpanelUsers } : {}),
        ...(flags.userdomains !== undefined ? { userdomains: flags.userdomains } : {}),
        since: flags.since,
        min_messages: minMessages,
        unique_recipients_per_hour: uniqueRecipientsPerHour,
      });
      // Evidence that could not be read makes the verdict incomplete: never a clean exit 0.
      const incomplete = verdict.incomplete;
      if (json) {
        const source = { kind: 'files' as const, mainlog: listOf(flags.mainlog), spool: flags.spool ?? null, domlogs: flags.domlogs ?? null };
        writeJson(investigationJson(source, [investigationEntry(null, verdictFromFiles(verdict))], null));
      } else {
        process.stdout.write(renderInvestigation(verdict, { color: style.enabled }));
        if (incomplete) process.stderr.write(`${errorStyle.red('Incomplete:')} some evidence could not be read (see Problem lines); the verdict may miss the sender.\n`);
      }
      return incomplete ? EXIT.failed : EXIT.ok;
    }

    const { builtinActions, loadPlaybook, PACKAGE_ROOT, resolveInputs, checkVerbosity, printHostListing, diagnosticLogger, diagnosticObserver, withDiagnostics, targetsFromFlags, askHidden, AuditWriter, auditFileName, plainProgress, interruptibleRun, runReadOnly, safeLine } = await hostModules();
    const registry = builtinActions();
    const playbook = await loadPlaybook(join(PACKAGE_ROOT, 'playbooks', 'investigate.yml'), registry);
    // Files the command reads here have no meaning on a host: say so rather than ignore them.
    for (const [flag, given] of [['--maillog', flags.maillog], ['--webmail-log', flags.webmailLog], ['--proxy-ranges', flags.proxyRanges], ['--allow-list', flags.allowList], ['--home-root', flags.homeRoot], ['--cpanel-users', flags.cpanelUsers], ['--userdomains', flags.userdomains]] as const) {
      if (given !== undefined) throw new UsageError(`${flag} is for files copied off a server; on hosts the maillog is layout.maillog in the inventory, the webmail logs layout.webmailLogs, the cPanel account files and /etc/userdomains layout.cpanelUsersDir and layout.userdomainsFile, and allow-lists and proxies are --allow and --trusted-proxy`);
    }
    const inputs = resolveInputs(playbook.spec, {
      since: flags.since,
      min_messages: String(minMessages),
      unique_recipients_per_hour: String(uniqueRecipientsPerHour),
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
