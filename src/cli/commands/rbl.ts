/**
 * `runbook rbl`: are these servers' sending addresses on the DNS blocklists that matter? DNS is
 * asked from this machine; hosts are asked only for their addresses, and only when neither the
 * command line nor the inventory gives them.
 */
import { join } from 'node:path';
import { LISTS_REVIEWED } from '../../actions/rbl/lists.js';
import { checkListings, prepareCheck, rblCheck, type RblCheckOutputs, type RblCheckParams } from '../../actions/rbl/rbl-check.js';
import { builtinActions } from '../../actions/registry.js';
import { ActionError } from '../../actions/types.js';
import { AuditWriter } from '../../audit/writer.js';
import { redactDeep } from '../../core/secret.js';
import { EXIT } from '../../engine/exit-codes.js';
import { parseIp } from '../../actions/firewall/ip.js';
import { resolveTargets } from '../../fleet/targets.js';
import { reportError, UsageError } from '../errors.js';
import { printJson } from '../render/json.js';
import { plainProgress } from '../render/progress.js';
import { renderRblReport, type RblHostReport } from '../render/rbl.js';
import { auditFileName, interruptibleRun, runReadOnly } from '../run-support.js';
import { colorEnabled, createStyle } from '../style.js';
import { targetsFromFlags, type HostSelectionFlags } from '../targets.js';
import { askHidden } from '../prompt-secret.js';
import { adHocPlaybook } from './run.js';

export interface RblFlags extends HostSelectionFlags {
  dnsServer?: string;
  dqsKeyFile?: string;
  list: string[];
  timeout: string;
  auditDir: string;
  json?: boolean;
  color?: boolean;
}

/** Addresses an inventory gives for a host: `addresses` (list or string), else `ansible_host` when it is an IP. */
export function inventoryAddresses(vars: Record<string, unknown>): string[] | undefined {
  const given = vars.addresses;
  const list = Array.isArray(given) ? given.map(String) : typeof given === 'string' ? given.split(/[\s,]+/).filter(Boolean) : [];
  if (list.length > 0) return list;
  const host = vars.ansible_host ?? vars.ansible_ssh_host;
  if (typeof host === 'string' && parseIp(host) !== undefined) return [host];
  return undefined;
}

function checkParams(flags: RblFlags, addresses?: string[]): RblCheckParams {
  return {
    ...(addresses !== undefined ? { addresses } : {}),
    ...(flags.dnsServer !== undefined ? { dns_server: flags.dnsServer } : {}),
    ...(flags.dqsKeyFile !== undefined ? { dqs_key_file: flags.dqsKeyFile } : {}),
    ...(flags.list.length > 0 ? { lists: flags.list } : {}),
    timeout: flags.timeout,
  };
}

/** Hosts without known addresses: asked over their transport through the engine (audited). */
async function askHosts(flags: RblFlags, names: string[] | undefined, json: boolean, argv: string[]): Promise<{ reports: RblHostReport[]; auditPath: string; exitCode: number }> {
  const registry = builtinActions();
  const playbook = await adHocPlaybook(rblCheck.name, checkParams(flags) as Record<string, unknown>)(registry);
  const targets = await targetsFromFlags(flags, {}, { ask: (q) => askHidden(q), ...(names !== undefined ? { only: names } : {}) });
  const audit = AuditWriter.create(join(flags.auditDir, auditFileName('rbl')));
  const errStyle = createStyle(colorEnabled(process.stderr, flags.color));
  const progress = plainProgress(process.stderr, errStyle, json);
  const run = interruptibleRun();
  try {
    const report = await runReadOnly({ playbook, inputs: {}, targets, registry, audit, argv, observer: progress.observer, signal: run.signal }, errStyle, 'a blocklist check');
    const reports = report.plan.hosts.map((h): RblHostReport => {
      const out = h.outputs.rbl_check as (Partial<RblCheckOutputs> & { status?: string }) | undefined;
      if (out?.results === undefined || out.addresses === undefined) {
        return { host: h.target.name, via: 'asked the host', addresses: [], results: [], error: h.stopped?.error ?? 'the check did not run' };
      }
      if (out.addresses.length === 0) {
        return { host: h.target.name, via: 'asked the host', addresses: [], results: [], error: 'no public sending address found (ip -o addr, /var/cpanel/mainip, /etc/mailips); give the addresses in the inventory (addresses=...)' };
      }
      return { host: h.target.name, via: 'asked the host', addresses: out.addresses, results: out.results };
    });
    return { reports, auditPath: audit.path, exitCode: report.exitCode };
  } finally {
    run.dispose();
    audit.close();
  }
}

export async function rblCommand(ips: string[], flags: RblFlags, argv: string[]): Promise<number> {
  const json = flags.json === true;
  const style = createStyle(colorEnabled(process.stdout, flags.color));
  try {
    const hostsGiven = flags.host.length > 0 || flags.inventory !== undefined;
    if (ips.length > 0 && hostsGiven) throw new UsageError('give either addresses or hosts (--host/--inventory), not both');
    if (ips.length === 0 && !hostsGiven) throw new UsageError('nothing to check: give IP addresses, --host HOST or --inventory FILE');
    const signal = new AbortController().signal;
    const progress = (): void => {};
    const reports: RblHostReport[] = [];
    let auditPath: string | null = null;
    let engineExit: number = EXIT.ok;
    const direct = async (host: string | null, via: string, addresses: string[]): Promise<void> => {
      try {
        const out = await checkListings(checkParams(flags, addresses), { signal, progress });
        reports.push({ host, via, addresses: out.addresses, results: out.results });
      } catch (error) {
        // Bad flags (resolver, key file, list id) are the operator's to fix: usage, exit 2.
        if (error instanceof ActionError) throw new UsageError(error.message);
        throw error;
      }
    };
    if (ips.length > 0) {
      await direct(null, 'command line', ips);
    } else {
      // From the inventory where it says the addresses; over SSH (or the demo) for the rest.
      const toAsk: string[] = [];
      if (flags.inventory !== undefined) {
        const specs = await resolveTargets({ inventory: flags.inventory, ...(flags.limit ? { limit: flags.limit } : {}), ...(flags.host.length ? { host: flags.host } : {}) });
        for (const spec of specs) {
          const known = inventoryAddresses(spec.vars);
          if (known !== undefined) await direct(spec.name, 'inventory', known);
          else toAsk.push(spec.name);
        }
      }
      if (flags.inventory === undefined || toAsk.length > 0) {
        // Flags are checked before any host is contacted.
        await prepareCheck(checkParams(flags)).catch((error: unknown) => {
          throw error instanceof ActionError ? new UsageError(error.message) : error;
        });
        const asked = await askHosts(flags, flags.inventory === undefined ? undefined : toAsk, json, argv);
        reports.push(...asked.reports);
        auditPath = asked.auditPath;
        engineExit = asked.exitCode;
      }
    }
    const all = reports.flatMap((r) => r.results);
    const listed = all.filter((r) => r.status === 'listed');
    const unchecked = all.filter((r) => r.status === 'unknown' || r.status === 'not-checked');
    const failedHosts = reports.filter((r) => r.error !== undefined);
    const asked = all.some((r) => r.status === 'clean' || r.status === 'listed');
    const clean = asked && listed.length === 0 && unchecked.length === 0 && failedHosts.length === 0;
    if (json) {
      printJson(redactDeep({ reviewed: LISTS_REVIEWED, clean, hosts: reports, audit_log: auditPath }));
    } else {
      process.stdout.write(renderRblReport(reports, style, LISTS_REVIEWED));
      if (auditPath !== null) process.stderr.write(`Audit log: ${auditPath}\n`);
    }
    if (engineExit !== EXIT.ok && engineExit !== EXIT.failed) return engineExit;
    return clean ? EXIT.ok : EXIT.failed;
  } catch (error) {
    return reportError(error, json);
  }
}
