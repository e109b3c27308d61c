import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PlannedStepRecord, PlanRecord } from '../audit/records.js';
import { safeLine } from '../core/text.js';
import { displayCommand } from './render/plan.js';

/** Finds the plan with this hash among earlier runs' audit logs (newest first). */
export async function findPlanByHash(auditDir: string, hash: string): Promise<PlannedStepRecord[] | undefined> {
  let names: string[];
  try {
    names = (await readdir(auditDir)).filter((n) => n.endsWith('.jsonl')).sort().reverse();
  } catch {
    return undefined;
  }
  for (const name of names.slice(0, 200)) {
    const text = await readFile(join(auditDir, name), 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      if (!line.includes('"type":"plan"') || !line.includes(hash)) continue;
      try {
        const record = JSON.parse(line) as PlanRecord;
        if (record.type === 'plan' && record.planHash === hash) return record.steps;
      } catch {
        // a damaged log is not a plan source
      }
    }
  }
  return undefined;
}

function key(r: PlannedStepRecord): string {
  return `${r.host} ${r.step}${r.item ? `[${r.item.index}]` : ''}`;
}

function line(r: PlannedStepRecord): string {
  const state = r.skipped ? `skipped (${r.skipped})` : r.deferred ? 'deferred' : r.noop ? 'already done' : r.summary;
  return safeLine(`${key(r)} ${r.action}: ${state}${r.commands.length ? ` — ${r.commands.map(displayCommand).join('; ')}` : ''}`);
}

/** Lines of difference between an approved plan and the fresh one. */
export function diffPlans(approved: PlannedStepRecord[], fresh: PlannedStepRecord[]): string[] {
  const before = new Map(approved.map((r) => [key(r), r]));
  const after = new Map(fresh.map((r) => [key(r), r]));
  const out: string[] = [];
  for (const [k, r] of before) {
    const now = after.get(k);
    if (!now) out.push(`- ${line(r)}`);
    else if (line(now) !== line(r) || JSON.stringify(now.params) !== JSON.stringify(r.params)) {
      out.push(`- ${line(r)}`);
      out.push(`+ ${line(now)}`);
    }
  }
  for (const [k, r] of after) if (!before.has(k)) out.push(`+ ${line(r)}`);
  return out;
}
