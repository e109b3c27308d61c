import { parseCsfList, type CsfListEntry } from '../../parsers/csf-lists.js';
import { readHostFile } from '../files/host-read.js';
import { CPANEL_LAYOUT } from '../../hosts/types.js';
import type { ActionContext } from '../types.js';
import { coversIp, type ParsedIp } from './ip.js';

export interface CsfListHit {
  file: string;
  entry: CsfListEntry;
}

const MAX_INCLUDE_DEPTH = 8;

/**
 * An Include names a path as CSF sees it (`Include /etc/csf/cpanel.allow`). On a host whose CSF
 * directory is elsewhere (the demo host's is under its own root) that path is in the host's CSF
 * directory: reading it as written would read the control machine's own /etc/csf.
 */
function onHost(ctx: ActionContext, include: string): string {
  const standard = `${CPANEL_LAYOUT.csfDir}/`;
  const csfDir = ctx.host.layout.csfDir.replace(/\/+$/, '');
  return include.startsWith(standard) && csfDir !== CPANEL_LAYOUT.csfDir ? `${csfDir}/${include.slice(standard.length)}` : include;
}

/** Every entry of a CSF list file and the files it includes (cycles and depth bounded). */
export async function readCsfListTree(ctx: ActionContext, path: string): Promise<Array<{ file: string; entry: CsfListEntry }>> {
  const seen = new Set<string>();
  const out: Array<{ file: string; entry: CsfListEntry }> = [];
  const visit = async (file: string, depth: number): Promise<void> => {
    if (seen.has(file) || depth > MAX_INCLUDE_DEPTH) return;
    seen.add(file);
    const text = await readHostFile(ctx, file);
    if (text === null) return;
    const list = parseCsfList(text);
    for (const entry of list.entries) out.push({ file, entry });
    for (const include of list.includes) await visit(onHost(ctx, include), depth + 1);
  };
  await visit(path, 0);
  return out;
}

/** The first entry in `path` (or its includes) that covers `ip`, exact or CIDR. */
export async function findInCsfList(ctx: ActionContext, path: string, ip: ParsedIp): Promise<CsfListHit | undefined> {
  for (const hit of await readCsfListTree(ctx, path)) {
    if (coversIp(hit.entry.address, ip)) return hit;
  }
  return undefined;
}
