/** `runbook rbl` on a terminal: per host, one row per (address, list), reasons and removal pages. */
import { isIP } from 'node:net';
import type { ListingResult } from '../../actions/rbl/check.js';
import type { SendingAddress } from '../../actions/rbl/sending-addresses.js';
import { safeLine } from '../../core/text.js';
import type { Style } from '../style.js';

export interface RblHostReport {
  /** null: addresses given on the command line. */
  host: string | null;
  /** How the addresses were found: `inventory`, `asked the host`, `command line`. */
  via: string;
  addresses: SendingAddress[];
  results: ListingResult[];
  error?: string;
}

const STATUS_LABEL: Record<ListingResult['status'], string> = {
  listed: 'LISTED',
  clean: 'clean',
  unknown: 'unknown',
  'not-checked': 'could not check',
  'not-applicable': 'not asked',
};

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

export function renderRblReport(reports: readonly RblHostReport[], style: Style, reviewed: string): string {
  const out: string[] = [];
  for (const report of reports) {
    if (report.host !== null) out.push(style.bold(`== ${safeLine(report.host)} (${report.via})`));
    if (report.error !== undefined) {
      out.push(`${style.red('could not check')}: ${safeLine(report.error)}`, '');
      continue;
    }
    for (const a of report.addresses) out.push(`${a.ip}  ${style.dim(a.sources.map(safeLine).join(', '))}`);
    // An IPv4-only list for an IPv6 address is no news; other unasked rows say why.
    const rows = report.results.filter((r) => !(r.status === 'not-applicable' && isIP(r.ip) === 6));
    const ipWidth = Math.max(7, ...rows.map((r) => r.ip.length));
    const nameWidth = Math.max(4, ...rows.map((r) => r.name.length));
    out.push(style.dim(`${pad('ADDRESS', ipWidth)}  ${pad('LIST', nameWidth)}  STATUS`));
    for (const r of rows) {
      const label = STATUS_LABEL[r.status];
      const status = r.status === 'listed' ? style.red(label) : r.status === 'clean' ? style.green(label) : style.yellow(label);
      const parts = r.status === 'listed' && r.parts.length > 0 ? ` ${r.parts.join(', ')}${r.policyOnly ? ' (policy, not a spam listing)' : ''}` : '';
      out.push(`${pad(r.ip, ipWidth)}  ${pad(r.name, nameWidth)}  ${status}${parts}`);
      if (r.status === 'listed') {
        if (r.reason !== null) out.push(`    reason:  ${r.reason}`);
        out.push(`    removal: ${r.removal} (${r.delisting})`);
      } else if (r.detail !== null && r.status !== 'clean') {
        out.push(`    ${r.detail}`);
      }
    }
    out.push('');
  }
  out.push(style.dim(`Blocklists as reviewed on ${reviewed}; ask for removal only once the spam has stopped.`));
  return out.join('\n') + '\n';
}
