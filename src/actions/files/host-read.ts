import type { ActionContext } from '../types.js';
import { ActionError } from '../types.js';
import { describeCommandFailure } from '../service/command-failure.js';

/**
 * Reads a small text file on the host through `cat`. Missing files read as null so callers
 * decide whether absence matters (an absent csf.ignore is an empty one).
 */
export async function readHostFile(ctx: ActionContext, path: string): Promise<string | null> {
  const result = await ctx.exec({ argv: ['cat', '--', path], okExitCodes: [0, 1], timeoutMs: 30_000 });
  if (result.exitCode === 0) return result.stdout;
  if (/No such file or directory/.test(result.stderr)) return null;
  throw new ActionError(`cannot read ${path} on ${ctx.host.name}: ${describeCommandFailure(result)}. Check the path and permissions.`);
}
