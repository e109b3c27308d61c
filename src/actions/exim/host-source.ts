/**
 * Evidence on a host, through its transport (this machine, the demo host, SSH): the evidence
 * source the detection action gathers from (see src/investigate/gather.ts). The main log and
 * the spool are counted where they are (src/remote: perl on the target, the scanners here on
 * this machine); only counts and the few lines the verdict needs come back.
 */
import { posix } from 'node:path';
import { ActivityCollector } from '../../investigate/activity.js';
import { MainlogLineFeeder } from '../../investigate/activity-read.js';
import { CPANEL_WEBMAIL_LOGS } from '../../hosts/types.js';
import { filterHistoryRemote, type HistoryFile, type HistoryGroup } from '../../remote/history-filter.js';
import type { EvidenceSource } from '../../investigate/gather.js';
import { rotatedNames } from '../../investigate/rotated-logs.js';
import { grepUnreadFiles, mailboxAccounts, recipientOverrides, unreadAccountFile } from '../../investigate/account-thresholds.js';
import { OUTBOUND_SPAM_THRESHOLD_KEY } from '../../parsers/cpanel-cpuser.js';
import { parseUserdomains } from '../../parsers/cpanel-userdomains.js';
import { readHostFile } from '../files/host-read.js';
import { ownAddresses } from '../firewall/own-addresses.js';
import { recordedTransport } from '../recorded-transport.js';
import type { ActionContext } from '../types.js';
import { discoverExim } from './discover.js';
import { scanMainlogOn, scanSpoolOn } from './detect-scan.js';
import { listFiles, scriptClients } from './detect-web.js';
import { queueFacts } from './queue-read.js';

const DEFAULT_MAILLOGS = ['/var/log/maillog', '/var/log/mail.log'];
/**
 * cPanel's per-account outbound spam thresholds of `mailboxes` (see account-thresholds.ts): their
 * domains' accounts from /etc/userdomains, then one grep of those accounts' cpuser files for the
 * override. Two reads on the host whatever the number of mailboxes; none when it is no cPanel host.
 */
async function recipientThresholds(ctx: ActionContext, mailboxes: string[]): Promise<{ thresholds: Record<string, number>; problems: string[]; accounts?: Record<string, string> }> {
  const none = { thresholds: {}, problems: [] };
  const text = await readHostFile(ctx, ctx.host.layout.userdomainsFile);
  if (text === null) return none;
  const accountOf = mailboxAccounts(mailboxes, parseUserdomains(text));
  if (accountOf.size === 0) return none;
  const dir = (ctx.host.layout.cpanelUsersDir ?? '/var/cpanel/users').replace(/\/+$/, '');
  const users = [...new Set(accountOf.values())];
  // -H: every line names its file, also for one file; exit 1 (no override anywhere) and 2 (an account file missing) are answers.
  const r = await ctx.exec({ argv: ['grep', '-H', '-e', `^${OUTBOUND_SPAM_THRESHOLD_KEY}=`, '--', ...users.map((u) => `${dir}/${u}`)], okExitCodes: [0, 1, 2], timeoutMs: 30_000 });
  // Each account's lines of its cpuser file that grep found: the text the overrides are read from.
  const texts = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith(`${dir}/`)) continue;
    const colon = line.indexOf(':', dir.length + 1);
    if (colon < 0) continue;
    const user = line.slice(dir.length + 1, colon);
    texts.set(user, `${texts.get(user) ?? ''}${line.slice(colon + 1)}\n`);
  }
  // Exit 2: an account's file is missing or unreadable; its mailboxes keep the server's threshold, said.
  const problems = [...grepUnreadFiles(r.stderr, dir, users)].map(([user, why]) => unreadAccountFile(accountOf, user, `${dir}/${user}`, why, `check ${dir}/${user} on the host (an account removed, or its file not readable by the login user)`));
  return { thresholds: recipientOverrides(accountOf, texts), problems, accounts: Object.fromEntries(accountOf) };
}

export interface HostSourceParams {
  mainlog?: string;
  spool_dir?: string;
  /** Look up script clients in the domlogs (default true). */
  access_logs?: boolean;
  maillog?: string;
}

/** The newest rotated predecessor of the main log on the host (`exim_mainlog-YYYYMMDD[.gz]`, `.1`), or null. */
async function newestRotation(ctx: ActionContext, mainlog: string): Promise<string | null> {
  const dir = posix.dirname(mainlog);
  const listing = await ctx.exec({ argv: ['ls', '-1', '--', dir], okExitCodes: [0, 1, 2], timeoutMs: 30_000 });
  const name = rotatedNames(posix.basename(mainlog), listing.stdout.split('\n'))[0];
  return name === undefined ? null : posix.join(dir, name);
}

/** What a history file that was not read whole leaves out, for the problems list. */
function unreadHistory(f: HistoryFile, host: string): string {
  const what = f.kind === 'mainlog'
    ? `the main log ${f.file}`
    : f.kind === 'maillog' ? `the maillog ${f.file}` : `the webmail log ${f.file}`;
  const lost = f.kind === 'mainlog'
    ? "the flagged mailboxes' use of it is not known (owner and attacker addresses are told apart without it)"
    : f.kind === 'maillog' ? 'owners who read their mail there are not recognised' : 'addresses that used webmail there are not known';
  const how = f.state === 'missing' ? 'does not exist'
    : f.state === 'unreadable' ? `could not be read (${f.detail ?? ''})`
      : f.state === 'partial' ? `was read only in part, to byte ${f.bytes ?? '?'} (${f.detail ?? ''})`
        : `was not read (${f.detail ?? ''})`;
  return `${what} on ${host} ${how}: ${lost}`;
}

export function hostSource(ctx: ActionContext, params: HostSourceParams): EvidenceSource {
  const host = ctx.host.name;
  let located: { mainlog: string; spool: string } | undefined;
  /** The main log and spool paths, asked of Exim once when not given. */
  const paths = async (): Promise<{ mainlog: string; spool: string }> => {
    if (located === undefined) {
      let spool = params.spool_dir;
      let mainlog = params.mainlog;
      if (spool === undefined || mainlog === undefined) {
        const layout = await discoverExim(ctx);
        spool ??= layout.spool_dir;
        mainlog ??= layout.mainlog;
      }
      located = { mainlog, spool };
    }
    return located;
  };
  return {
    where: ` on ${host}`,
    homeRoots: ctx.host.layout.homeRoots,
    queue: async () => {
      await paths();
      return queueFacts(ctx);
    },
    mainlog: async (since) => {
      const { mainlog } = await paths();
      ctx.progress(`scanning ${mainlog}`);
      return scanMainlogOn(ctx, mainlog, { since });
    },
    spool: async () => {
      const { spool } = await paths();
      ctx.progress(`reading ${spool}/input`);
      return scanSpoolOn(ctx, spool, {});
    },
    history: async (leads, skip) => {
      const { mainlog } = await paths();
      const collector = new ActivityCollector(leads.authIds, leads.senders, leads.sharedIps);
      const problems: string[] = [];
      const transport = recordedTransport(ctx);
      try {
        // One feeder for every main log of this host: its lists' ids stay its own throughout.
        const arrivals = new MainlogLineFeeder(collector);
        const filter = (groups: HistoryGroup[]) => filterHistoryRemote(transport, groups, {
          firstLine: (line) => collector.logStartLine(line),
          mainlogBytes: arrivals,
          line: (kind, line) => {
            if (kind === 'mainlog') collector.mainlogLine(line);
            else if (kind === 'maillog') collector.maillogLine(line);
            else collector.webmailLine(line);
          },
        });
        // The owners' history before the last rotation: the newest rotated log too, read first
        // as the offline reader is given a rotated set, oldest first.
        const previous = await newestRotation(ctx, mainlog);
        const mainlogs = (previous === null ? [mainlog] : [previous, mainlog]).filter((f) => !skip.has(f));
        const read = await filter([{ kind: 'mainlog', needles: collector.needles, files: mainlogs }]);
        for (const f of read.files) if (f.state !== 'read') problems.push(unreadHistory(f, host));

        // Who read or logged in to these mailboxes: the flagged ones and those the main log
        // showed sending from a shared address. For a mailbox, its domain's other mailboxes
        // too (colleagues reading from the same address make it the customer's own).
        const ids = [...new Set([...leads.authIds, ...leads.senders, ...collector.facts.auth.keys()].map((id) => id.toLowerCase()))];
        const mailboxes = ids.filter((id) => id.includes('@'));
        const readerNeedles = [...new Set([...mailboxes.map((m) => `${m.slice(m.lastIndexOf('@'))}>`), ...ids.filter((id) => !id.includes('@')).map((id) => `user=<${id}>`)])];
        const chosen = params.maillog ?? ctx.host.layout.maillog;
        const maillogs = chosen !== undefined ? [chosen] : DEFAULT_MAILLOGS;
        const webmailLogs = ctx.host.layout.webmailLogs ?? CPANEL_WEBMAIL_LOGS;
        const logins = await filter([
          { kind: 'maillog', needles: readerNeedles, files: maillogs },
          // Mail sent through webmail reaches Exim from 127.0.0.1: who logged in is in cpsrvd's logs.
          { kind: 'webmail', needles: mailboxes, files: webmailLogs },
        ]);
        for (const f of logins.files) {
          // The default maillogs are two guesses, and a host without webmail logs is said by
          // the verdict only when webmail carried the incident: a missing one is not a gap here.
          if (f.state === 'read' || (f.state === 'missing' && (f.kind === 'webmail' || chosen === undefined))) continue;
          problems.push(unreadHistory(f, host));
        }
        if (logins.files.some((f) => f.kind === 'webmail' && f.state === 'read')) collector.webmailRead();
        return { facts: collector.finish(), problems };
      } catch (err) {
        problems.push(`cannot read the flagged mailboxes' history on ${host}: ${(err as Error).message}; owner and attacker addresses are not told apart`);
        return { facts: null, problems };
      }
    },
    serverIps: async () => (await ownAddresses(ctx)).map((a) => a.address),
    recipientThresholds: (mailboxes) => recipientThresholds(ctx, mailboxes),
    listDir: (dir) => listFiles(ctx, dir, 1),
    ...(params.access_logs !== false ? { scriptClients: async (h: string, path: string) => (await scriptClients(ctx, h, path)).clients } : {}),
  };
}
