/**
 * Evidence on a host, through its transport (this machine, the demo host, SSH): the evidence
 * source the detection action gathers from (see src/investigate/gather.ts). The main log and
 * the spool are counted where they are (src/remote: perl on the target, the scanners here on
 * this machine); only counts and the few lines the verdict needs come back.
 */
import { posix } from 'node:path';
import { ActivityCollector } from '../../investigate/activity.js';
import type { EvidenceSource } from '../../investigate/gather.js';
import { rotatedNames } from '../../investigate/rotated-logs.js';
import { ownAddresses } from '../firewall/own-addresses.js';
import type { ActionContext } from '../types.js';
import { discoverExim } from './discover.js';
import { scanMainlogOn, scanSpoolOn } from './detect-scan.js';
import { listFiles, scriptClients } from './detect-web.js';
import { queueFacts } from './queue-read.js';

const DEFAULT_MAILLOGS = ['/var/log/maillog', '/var/log/mail.log'];
/** cpsrvd's session and login records: where a webmail user's address is (reference §1.6). */
const CPANEL_LOGIN_LOGS = ['/usr/local/cpanel/logs/session_log', '/usr/local/cpanel/logs/login_log'];

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

/**
 * Lines of `files` on the host that contain one of `needles` (fixed strings, any case). A
 * missing file gives nothing (grep exit 2 with -s); the caller says which were read.
 */
async function grepLines(ctx: ActionContext, files: string[], needles: string[], tool: 'grep' | 'zgrep' = 'grep'): Promise<{ lines: string[]; read: boolean }> {
  if (needles.length === 0 || files.length === 0) return { lines: [], read: true };
  const argv = [tool, '-F', '-i', '-h', '-s'];
  for (const n of needles) argv.push('-e', n);
  argv.push('--', ...files);
  const r = await ctx.exec({ argv, okExitCodes: [0, 1, 2], timeoutMs: 600_000, maxOutputBytes: 512 * 1024 * 1024 });
  return { lines: r.stdout.split('\n'), read: r.exitCode !== 2 };
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
    history: async (leads) => {
      const { mainlog } = await paths();
      const collector = new ActivityCollector(leads.authIds, leads.senders, leads.sharedIps);
      const problems: string[] = [];
      try {
        for (const line of (await grepLines(ctx, [mainlog], collector.needles)).lines) collector.mainlogLine(line);
        // The owners' history before the last rotation: the newest rotated log too.
        const previous = await newestRotation(ctx, mainlog);
        if (previous !== null) {
          for (const line of (await grepLines(ctx, [previous], collector.needles, previous.endsWith('.gz') ? 'zgrep' : 'grep')).lines) collector.mainlogLine(line);
        }
        const head = await ctx.exec({ argv: ['head', '-n', '1', '--', mainlog], okExitCodes: [0, 1], timeoutMs: 30_000 });
        collector.logStartLine(head.stdout.split('\n')[0] ?? '');
        const mailboxes = collector.needles.filter((n) => n.includes('@'));
        const chosen = params.maillog ?? ctx.host.layout.maillog;
        const maillogs = chosen !== undefined ? [chosen] : DEFAULT_MAILLOGS;
        const read = await grepLines(ctx, maillogs, mailboxes.map((m) => `user=<${m}>`));
        if (!read.read && chosen !== undefined) problems.push(`cannot read the maillog ${chosen} on ${host}: owners who read their mail are not recognised`);
        for (const line of read.lines) collector.maillogLine(line);
        // Mail sent through webmail reaches Exim from 127.0.0.1: who logged in is in cpsrvd's logs.
        const web = await grepLines(ctx, CPANEL_LOGIN_LOGS, mailboxes.flatMap((m) => [` NEW ${m}:`, ` - ${m} (possessor`]));
        if (web.read || web.lines.some((l) => l !== '')) collector.webmailRead();
        for (const line of web.lines) collector.webmailLine(line);
        return { facts: collector.finish(), problems };
      } catch (err) {
        problems.push(`cannot read the flagged mailboxes' history on ${host}: ${(err as Error).message}; owner and attacker addresses are not told apart`);
        return { facts: null, problems };
      }
    },
    serverIps: async () => (await ownAddresses(ctx)).map((a) => a.address),
    listDir: (dir) => listFiles(ctx, dir, 1),
    ...(params.access_logs !== false ? { scriptClients: async (h: string, path: string) => (await scriptClients(ctx, h, path)).clients } : {}),
  };
}
