import type { PlannedStepRecord } from '../../audit/records.js';
import { safeLine } from '../../core/text.js';
import { plannedChanges } from '../../engine/run.js';
import { quoteArgvForPosixShell } from '../../transport/quote.js';
import type { Style } from '../style.js';

/** An argv as an operator would type it, with control characters made visible. */
export function displayCommand(argv: readonly string[]): string {
  try {
    return safeLine(quoteArgvForPosixShell(argv));
  } catch {
    return safeLine(JSON.stringify(argv));
  }
}

/** Long argument lists (hundreds of queue IDs) shortened for reading; --json has them all. */
export function displayCommandShort(argv: readonly string[], keep = 10): string {
  if (argv.length <= keep + 2) return displayCommand(argv);
  return `${displayCommand(argv.slice(0, keep))} … (${argv.length - keep} more arguments; --json lists all)`;
}

function marker(step: PlannedStepRecord, style: Style): string {
  if (step.skipped?.startsWith('failed')) return style.red('✗');
  if (step.skipped !== undefined) return style.dim('-');
  if (step.deferred !== undefined) return style.yellow('…');
  if (step.action === 'confirm') return style.yellow('?');
  if (!step.mutates) return style.green('✓');
  if (step.noop) return style.dim('=');
  return style.cyan('→');
}

function describe(step: PlannedStepRecord): string {
  if (step.skipped !== undefined) return step.skipped.startsWith('failed') ? step.skipped : `skipped (${step.skipped})`;
  if (step.deferred !== undefined) return step.deferred;
  if (step.noop) return `already done: ${step.summary}`;
  return step.summary;
}

/**
 * The plan as the operator reads it before any gate: per host, each step with what it found
 * or will do and the exact commands, values resolved. Values from hosts are escaped.
 */
export function renderPlan(
  plan: { hash: string; records: PlannedStepRecord[] },
  context: { playbook: string; dryRun: boolean; hosts: string[]; approveHint?: string },
  style: Style,
): string {
  const out: string[] = [];
  const hostWord = context.hosts.length === 1 ? 'host' : 'hosts';
  out.push(style.bold(`Plan ${plan.hash} — ${context.playbook} on ${context.hosts.length} ${hostWord}${context.dryRun ? ' (dry-run: nothing will change)' : ''}`));
  const byHost = new Map<string, PlannedStepRecord[]>();
  for (const record of plan.records) byHost.set(record.host, [...(byHost.get(record.host) ?? []), record]);
  for (const host of context.hosts) {
    out.push('');
    out.push(style.bold(safeLine(host)));
    const steps = byHost.get(host) ?? [];
    if (steps.length === 0) out.push(`  ${style.red('✗')} not planned: host unreachable or planning failed (see above)`);
    const width = Math.min(24, Math.max(...steps.map((s) => (s.step + (s.item ? `[${s.item.index}]` : '')).length), 4));
    for (const step of steps) {
      const id = (step.step + (step.item ? `[${step.item.index}]` : '')).padEnd(width);
      out.push(`  ${marker(step, style)} ${id}  ${style.dim(step.action.padEnd(28))} ${safeLine(describe(step))}`);
      if (step.skipped === undefined && step.deferred === undefined && !step.noop) {
        const shown = step.commands.slice(0, 6);
        for (const argv of shown) out.push(`      ${style.dim('$')} ${displayCommandShort(argv)}`);
        if (step.commands.length > shown.length) out.push(`      ${style.dim(`… ${step.commands.length - shown.length} more commands like these (--json lists all)`)}`);
      }
    }
  }
  const mutations = plannedChanges(plan.records);
  out.push('');
  out.push(`${mutations} change${mutations === 1 ? '' : 's'} planned.${mutations > 0 && context.approveHint ? ` To apply exactly this plan: ${context.approveHint}` : ''}`);
  return out.join('\n');
}
