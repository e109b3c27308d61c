import { declaredAction } from '../../actions/registry.js';
import type { PlannedStepRecord } from '../../audit/records.js';
import { safeLine } from '../../core/text.js';
import { plannedChanges } from '../../engine/run.js';
import { quoteArgvForPosixShell, quoteWordForPosixShell } from '../../transport/quote.js';
import type { Style } from '../style.js';

/** An argv as an operator would type it, with control characters made visible. */
export function displayCommand(argv: readonly string[]): string {
  try {
    return safeLine(quoteArgvForPosixShell(argv));
  } catch {
    return safeLine(JSON.stringify(argv));
  }
}

/**
 * The words of a command as typed, each quoted whole. Long argument lists (hundreds of queue
 * IDs) are shortened for reading, the note saying so is one more word; --json has them all.
 */
function commandWords(argv: readonly string[], keep = 10): string[] {
  const shown = argv.length <= keep + 2 ? argv : argv.slice(0, keep);
  const words = shown.map((word) => {
    try {
      return safeLine(quoteWordForPosixShell(word));
    } catch {
      return safeLine(JSON.stringify(word));
    }
  });
  return shown.length < argv.length ? [...words, `… (${argv.length - keep} more arguments; --json lists all)`] : words;
}

/** Words of a shell command line (quoted words whole, as approveCommand writes them). */
function shellWords(line: string): string[] {
  return line.match(/(?:'[^']*'|\\.|[^\s'\\])+/g) ?? [];
}

const visible = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '').length;

/**
 * Lays `fields` out after `lead` on lines of at most `width` columns, breaking only between
 * fields (an address, a path or a quoted argument is never cut). A field longer than a line
 * gets a line of its own, whole. `continuation` ends every line but the last (` \` keeps a
 * wrapped command pasteable).
 */
export function wrapFields(lead: string, fields: string[], options: { width: number; indent: string; continuation?: string }): string[] {
  const cont = options.continuation ?? '';
  const lines: string[] = [];
  let line = lead;
  let empty = true;
  for (const field of fields) {
    if (field === '') continue;
    const joined = empty ? `${line}${line.endsWith(' ') || line === '' ? '' : ' '}${field}` : `${line} ${field}`;
    if (visible(joined) + cont.length <= options.width || (empty && line.trim() === '')) {
      line = joined;
      empty = false;
      continue;
    }
    lines.push(`${line.trimEnd()}${cont}`);
    empty = false;
    line = `${options.indent}${field}`;
  }
  lines.push(line);
  return lines;
}

function marker(step: PlannedStepRecord, style: Style): string {
  if (step.skipped?.startsWith('failed')) return style.red('✗');
  if (step.skipped !== undefined) return style.dim('-');
  if (step.deferred !== undefined) return style.yellow('…');
  if (declaredAction(step.action)?.gate) return style.yellow('?');
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
  context: { playbook: string; dryRun: boolean; hosts: string[]; approveHint?: string; width?: number },
  style: Style,
): string {
  const columns = context.width ?? 80;
  const out: string[] = [];
  const hostWord = context.hosts.length === 1 ? 'host' : 'hosts';
  const title = `Plan ${plan.hash} — ${safeLine(context.playbook)} on ${context.hosts.length} ${hostWord}${context.dryRun ? ' (dry-run: nothing will change)' : ''}`;
  out.push(...wrapFields('', title.split(' '), { width: columns, indent: '  ' }).map((l) => style.bold(l)));
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
      out.push(...wrapFields(`  ${marker(step, style)} ${id}  ${style.dim(step.action.padEnd(28))} `, safeLine(describe(step)).split(' '), { width: columns, indent: '      ' }));
      if (step.skipped === undefined && step.deferred === undefined && !step.noop) {
        const shown = step.commands.slice(0, 6);
        for (const argv of shown) out.push(...wrapFields(`      ${style.dim('$')} `, commandWords(argv), { width: columns, indent: '          ', continuation: ' \\' }));
        if (step.commands.length > shown.length) out.push(`      ${style.dim(`… ${step.commands.length - shown.length} more commands like these (--json lists all)`)}`);
      }
    }
  }
  const mutations = plannedChanges(plan.records);
  out.push('');
  out.push(`${mutations} change${mutations === 1 ? '' : 's'} planned.${mutations > 0 && context.approveHint ? ' To apply exactly this plan:' : ''}`);
  if (mutations > 0 && context.approveHint) out.push(...wrapFields('  ', shellWords(context.approveHint), { width: columns, indent: '      ', continuation: ' \\' }));
  return out.join('\n');
}
