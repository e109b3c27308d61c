import { posix } from 'node:path';
import { describeCommandFailure } from '../service/command-failure.js';
import { ActionError, type ActionContext } from '../types.js';

export interface FileStat {
  /** Octal permission bits as stat prints them ("644", "4755", "0"). */
  mode: string;
  type: string;
  uid: number;
  owner: string;
}

/** `stat -c '%a %F %u %U'` output; the type ("regular empty file") has spaces. Pure. */
export function parseStatLine(text: string): FileStat | undefined {
  const line = text.replace(/\n$/, '');
  const m = /^([0-7]{1,4}) (.+) (\d+) (\S+)$/.exec(line);
  if (m === null) return undefined;
  return { mode: m[1] ?? '', type: m[2] ?? '', uid: Number(m[3]), owner: m[4] ?? '' };
}

export function isRegularFile(stat: FileStat): boolean {
  return stat.type === 'regular file' || stat.type === 'regular empty file';
}

export interface HomeTarget {
  /** The file after every symlink was followed. */
  resolved: string;
  /** The account home holding it (/home/alice). */
  home: string;
  stat: FileStat;
}

// Paths come from logs and spool headers: refuse anything a line-oriented tool could misread.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f]/;

async function realpath(ctx: ActionContext, path: string): Promise<string | undefined> {
  const result = await ctx.exec({ argv: ['realpath', '-e', '--', path], okExitCodes: [0, 1], timeoutMs: 15_000 });
  if (result.exitCode !== 0) return undefined;
  return result.stdout.replace(/\n$/, '');
}

/** `/home/alice/x/y` under root `/home` → `/home/alice`; the home itself or the root → undefined. */
function homeOf(path: string, root: string): string | undefined {
  const prefix = root.endsWith('/') ? root : `${root}/`;
  if (!path.startsWith(prefix)) return undefined;
  const rest = path.slice(prefix.length).split('/').filter((p) => p !== '');
  if (rest.length < 2) return undefined;
  return `${prefix}${rest[0]}`;
}

/**
 * Resolves a path on the host and proves it is inside one account's home (a file or a
 * directory below it), with no symlink leading out of that home. Refuses with a reason otherwise.
 */
export async function resolveHomeEntry(ctx: ActionContext, path: string): Promise<HomeTarget> {
  if (!posix.isAbsolute(path) || UNSAFE.test(path)) {
    throw new ActionError(`refusing "${path.replace(UNSAFE, '?')}": not an absolute path without control characters.`);
  }
  const lexical = posix.normalize(path);
  const roots: Array<{ given: string; real: string }> = [];
  for (const root of ctx.host.layout.homeRoots) {
    const real = await realpath(ctx, root);
    if (real !== undefined) roots.push({ given: posix.normalize(root), real });
  }
  if (roots.length === 0) throw new ActionError(`none of the home roots (${ctx.host.layout.homeRoots.join(', ')}) exists on ${ctx.host.name}; set the layout's homeRoots.`);
  const lexicalHome = roots.map((r) => homeOf(lexical, r.given) ?? homeOf(lexical, r.real)).find((h) => h !== undefined);
  if (lexicalHome === undefined) {
    throw new ActionError(`refusing ${path}: it is not a file inside an account home under ${ctx.host.layout.homeRoots.join(', ')}.`);
  }
  const resolved = await realpath(ctx, lexical);
  if (resolved === undefined) throw new ActionError(`${path} does not exist on ${ctx.host.name} (already removed?).`);
  const match = roots.map((r) => ({ r, home: homeOf(resolved, r.real) })).find((x) => x.home !== undefined);
  if (match === undefined || match.home === undefined) {
    throw new ActionError(`refusing ${path}: it resolves to ${resolved}, outside every account home (a symlink leads out).`);
  }
  const accountOf = (home: string): string => home.slice(home.lastIndexOf('/') + 1);
  if (accountOf(match.home) !== accountOf(lexicalHome)) {
    throw new ActionError(`refusing ${path}: it resolves to ${resolved}, in another account's home (a symlink leads out).`);
  }
  const statResult = await ctx.exec({ argv: ['stat', '-c', '%a %F %u %U', '--', resolved], okExitCodes: [0, 1], timeoutMs: 15_000 });
  const stat = statResult.exitCode === 0 ? parseStatLine(statResult.stdout) : undefined;
  if (stat === undefined) throw new ActionError(`cannot stat ${resolved}: ${describeCommandFailure(statResult)}`);
  return { resolved, home: match.home, stat };
}

/** resolveHomeEntry for a regular file only (what chmod may touch). */
export async function resolveHomeFile(ctx: ActionContext, path: string): Promise<HomeTarget> {
  const target = await resolveHomeEntry(ctx, path);
  if (!isRegularFile(target.stat)) throw new ActionError(`refusing ${target.resolved}: it is a ${target.stat.type}, not a regular file.`);
  return target;
}

export function sameMode(a: string, b: string): boolean {
  return Number.parseInt(a, 8) === Number.parseInt(b, 8);
}
