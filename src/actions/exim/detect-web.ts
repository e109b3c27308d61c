/**
 * web.suspect_files and web.script_ips: the files in a directory that sends mail, and the
 * clients that requested a script. Both use plain tools through argv (GNU find, grep -F);
 * directory names, domains and script paths come from hostile headers and are checked first.
 */
import { Type } from '@sinclair/typebox';
import { FIND_PRINTF_FORMAT, looksRandomName, parseFindPrintf, type FoundFile } from '../../parsers/find-printf.js';
import { isDomainName, isRequestPath, parseAccessLogLine, pathWithoutQuery } from '../../parsers/access-log.js';
import { isPublicIp } from '../../parsers/ip.js';
import { topOf, type RankedItem } from '../../parsers/mainlog-scan.js';
import { isAbsoluteDirectory } from '../../investigate/gather.js';
import { ActionError, defineAction, type ActionContext } from '../types.js';

export interface SuspectFile extends FoundFile {
  reasons: string[];
  suspect: boolean;
}

function checkAbsolutePath(dir: string): void {
  if (!isAbsoluteDirectory(dir)) {
    throw new ActionError(`not an absolute directory path: ${JSON.stringify(dir)}`);
  }
}

export async function listFiles(ctx: ActionContext, dir: string, maxDepth: number): Promise<FoundFile[]> {
  checkAbsolutePath(dir);
  const r = await ctx.exec({
    // find has no `--`; a leading `/` already keeps the path from being read as an option.
    // The format's \t and \0 are find's own escapes (argv cannot carry a NUL byte).
    argv: ['find', dir, '-maxdepth', String(maxDepth), '-type', 'f', '-printf', FIND_PRINTF_FORMAT],
    okExitCodes: [0, 1],
    timeoutMs: 120_000,
    maxOutputBytes: 64 * 1024 * 1024,
  });
  return parseFindPrintf(r.stdout);
}

export function rateFiles(files: FoundFile[], nowEpoch: number, recentDays: number): SuspectFile[] {
  return files
    .map((f) => {
      const name = f.path.slice(f.path.lastIndexOf('/') + 1);
      const reasons: string[] = [];
      const php = /\.(php\d?|phtml|phar)$/i.test(name);
      if (php) reasons.push('php');
      if (f.mtime >= nowEpoch - recentDays * 86400) reasons.push('recent');
      if (looksRandomName(name)) reasons.push('random_name');
      if (name.startsWith('.')) reasons.push('hidden');
      if (/[2367]$/.test(f.mode) || /[2367].$/.test(f.mode)) reasons.push('writable_by_others');
      const suspect = php && (reasons.includes('recent') || reasons.includes('random_name') || reasons.includes('hidden'));
      return { ...f, reasons, suspect };
    })
    .sort((a, b) => Number(b.suspect) - Number(a.suspect) || b.mtime - a.mtime || (a.path < b.path ? -1 : 1));
}

export const webSuspectFiles = defineAction({
  name: 'web.suspect_files',
  description: 'Files in a directory that sends mail, ranked: PHP, recently changed, random-looking names.',
  mutates: false,
  params: Type.Object({
    dir: Type.String({ description: 'absolute directory (for example a cwd= path from the main log)' }),
    max_depth: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, default: 2 })),
    recent_days: Type.Optional(Type.Integer({ minimum: 1, default: 7 })),
  }),
  outputs: { files: 'list of {path, mtime, mode, size, reasons, suspect}', suspects: 'list of paths of suspect files' },
  async run(ctx, params) {
    const files = rateFiles(await listFiles(ctx, params.dir, params.max_depth ?? 2), Math.floor(Date.now() / 1000), params.recent_days ?? 7);
    const suspects = files.filter((f) => f.suspect).map((f) => f.path);
    return { changed: false, outputs: { files: files.slice(0, 200), suspects }, summary: `${files.length} files in ${params.dir}, ${suspects.length} suspect` };
  },
});

export interface ScriptClients {
  /** Every client address that requested the script, ranked. */
  clients: RankedItem[];
  /** The public ones (what may be blocked). */
  ips: string[];
  requests: number;
}

/** Clients that sent `METHOD /path` for a script, from the domain's access logs (http and https). */
export async function scriptClients(ctx: ActionContext, domain: string, path: string, methods: string[] = ['POST']): Promise<ScriptClients> {
  if (!isDomainName(domain)) throw new ActionError(`not a domain name: ${JSON.stringify(domain)}`);
  if (!isRequestPath(path)) throw new ActionError(`not a URL path: ${JSON.stringify(path)}`);
  for (const m of methods) if (!/^[A-Z]{3,7}$/.test(m)) throw new ActionError(`not an HTTP method: ${JSON.stringify(m)}`);
  const dir = ctx.host.layout.domlogsDir;
  const files = [`${dir}/${domain}`, `${dir}/${domain}-ssl_log`];
  const argv = ['grep', '-F', '-h', '-s'];
  for (const m of methods) argv.push('-e', `"${m} ${path}`);
  argv.push('--', ...files);
  const r = await ctx.exec({ argv, okExitCodes: [0, 1, 2], timeoutMs: 300_000, maxOutputBytes: 256 * 1024 * 1024 });
  const counts = new Map<string, number>();
  let requests = 0;
  for (const line of r.stdout.split('\n')) {
    const e = parseAccessLogLine(line);
    if (e === null || !methods.includes(e.method) || pathWithoutQuery(e.path) !== path) continue;
    requests++;
    counts.set(e.ip, (counts.get(e.ip) ?? 0) + 1);
  }
  const clients = topOf(counts, 1000);
  return { clients, ips: clients.filter((c) => isPublicIp(c.key)).map((c) => c.key), requests };
}

export const webScriptIps = defineAction({
  name: 'web.script_ips',
  description: "Client IPs that requested a script, from the domain's Apache access logs (domlogs).",
  mutates: false,
  params: Type.Object({
    domain: Type.String({ description: 'virtual host (the X-PHP-Script host part)' }),
    path: Type.String({ description: 'URL path of the script, e.g. /wp-content/x.php' }),
    methods: Type.Optional(Type.Array(Type.String(), { default: ['POST'] })),
  }),
  outputs: { ips: 'public client IPs, most requests first (list of strings)', clients: 'list of {key, count} for all clients', requests: 'matching requests' },
  async run(ctx, params) {
    const r = await scriptClients(ctx, params.domain, params.path, params.methods ?? ['POST']);
    return { changed: false, outputs: { ips: r.ips, clients: r.clients, requests: r.requests }, summary: `${r.requests} requests to ${params.domain}${params.path} from ${r.clients.length} clients` };
  },
});
