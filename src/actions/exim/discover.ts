/**
 * exim.discover: ask the host's Exim where its spool and main log are, instead of guessing
 * (cPanel: /var/spool/exim split + /var/log/exim_mainlog; Debian: /var/spool/exim4 +
 * /var/log/exim4/mainlog).
 */
import { Type } from '@sinclair/typebox';
import {
  defaultMainlogFor,
  mainlogPathFromLogFilePath,
  parseConfigValues,
  parseEximVersion,
} from '../../parsers/exim-bp.js';
import { describeCommandFailure } from '../service/command-failure.js';
import { ActionError, defineAction, type ActionContext } from '../types.js';

export interface EximLayout {
  spool_dir: string;
  mainlog: string;
  split_spool: boolean;
  log_file_path: string;
  version: string | null;
}

export async function discoverExim(ctx: ActionContext): Promise<EximLayout> {
  const names = ['spool_directory', 'log_file_path', 'split_spool_directory'];
  const bp = await ctx.exec({ argv: [ctx.host.tools.exim, '-bP', ...names], timeoutMs: 30_000 });
  if (bp.timedOut || bp.aborted) {
    // It ran and did not answer in time: the path is not the problem.
    throw new ActionError(`exim -bP on ${ctx.host.name}: ${describeCommandFailure(bp)}. The host or its Exim is slow; retry later or with fewer --forks.`);
  }
  if (bp.exitCode !== 0) {
    throw new ActionError(`exim -bP failed on ${ctx.host.name} (exit ${bp.exitCode}): ${bp.stderr.trim().slice(0, 300)}. Check the exim tool path for this host.`);
  }
  const values = parseConfigValues(bp.stdout, names);
  const spool = values['spool_directory'];
  if (spool === undefined || spool === '') throw new ActionError(`exim -bP printed no spool_directory on ${ctx.host.name}: ${bp.stdout.slice(0, 200)}`);
  const logPath = values['log_file_path'] ?? '';
  const version = await ctx.exec({ argv: [ctx.host.tools.exim, '-bV'], timeoutMs: 30_000 });
  return {
    spool_dir: spool,
    mainlog: mainlogPathFromLogFilePath(logPath, spool) ?? defaultMainlogFor(spool),
    // cPanel sets split_spool_directory; when Exim does not say, the spool scan looks at both layouts.
    split_spool: values['split_spool_directory'] === 'true',
    log_file_path: logPath,
    version: parseEximVersion(version.stdout),
  };
}

export const eximDiscover = defineAction({
  name: 'exim.discover',
  description: 'Find the Exim spool directory, main log and version by asking exim -bP / -bV.',
  mutates: false,
  params: Type.Object({}),
  outputs: {
    spool_dir: 'spool directory (string)',
    mainlog: 'main log path (string)',
    split_spool: 'split spool (bool)',
    version: 'Exim version or null',
  },
  async run(ctx) {
    const layout = await discoverExim(ctx);
    return { changed: false, outputs: { ...layout }, summary: `Exim ${layout.version ?? '?'}: spool ${layout.spool_dir}${layout.split_spool ? ' (split)' : ''}, log ${layout.mainlog}` };
  },
});
