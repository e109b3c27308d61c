import { argvToDisplay, displayText, escapeHtml, escapeMarkdown, mdCell, mdCode, mdFence } from './escape.js';
import type { CommandRow, Finding, IncidentReport } from './model.js';
import { stillOpen } from './open.js';
import { fieldsOf, tableOf, type Rows } from './rows.js';

/**
 * The incident report as Markdown that pastes into ticket systems (GitHub, GitLab, Jira's
 * Markdown import): GFM tables, fenced code for commands, every logged value escaped.
 */

function table(headers: string[], rows: string[][]): string {
  if (rows.length === 0) return '_None._';
  const head = `| ${headers.join(' | ')} |`;
  const rule = `| ${headers.map(() => '---').join(' | ')} |`;
  return [head, rule, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function rowsTable(rows: Rows): string {
  return table(rows.columns.map((c) => mdCell(c)), rows.rows.map((r) => r.map((cell) => mdCell(cell))));
}

function keyValues(pairs: [string, string][]): string {
  return table(['Field', 'Value'], pairs.map(([k, v]) => [k, v]));
}

/** Folded: the commands are there for whoever checks, not in the way of whoever reads. */
function commandBlock(title: string, commands: CommandRow[]): string {
  const lines = commands.map((c) => {
    const stdin = c.stdin !== undefined && c.stdin !== 'none' ? `  # stdin: ${c.stdin}` : '';
    return `${argvToDisplay(c.argv)}${stdin}\n#   → ${c.outcome}${c.durationMs !== undefined ? ` (${c.durationMs} ms)` : ''}${c.error !== undefined ? `: ${c.error}` : ''}`;
  });
  return `<details><summary>${escapeHtml(title)}</summary>\n\n${mdFence(lines.join('\n'), 'sh')}\n\n</details>`;
}

function findingSection(f: Finding): string {
  const parts: string[] = [`### ${escapeMarkdown(f.host)}: step ${mdCode(f.step)} (${mdCode(f.action)})`];
  if (f.summary !== undefined) parts.push(`**Summary:** ${escapeMarkdown(f.summary)}`);
  const facts: [string, string][] = [];
  if (f.kind !== undefined) facts.push(['Source kind', mdCell(f.kind)]);
  if (f.sender !== undefined) facts.push(['Sender', mdCode(f.sender)]);
  for (const [name, value] of Object.entries(f.counts)) facts.push([`Count: ${mdCell(name)}`, mdCell(value)]);
  if (facts.length > 0) parts.push(keyValues(facts));
  if (f.scripts.length > 0) {
    parts.push('**Scripts sending mail**');
    parts.push(table(['Path', 'Messages', 'IPs'], f.scripts.map((s) => [mdCode(s.path), mdCell(s.count), s.ips.map((ip) => mdCode(ip)).join(', ') || ' '])));
  }
  if (f.ips.length > 0) parts.push(`**IPs:** ${f.ips.map((ip) => mdCode(ip)).join(', ')}`);
  for (const t of f.tables) {
    const columns = Array.from(new Set(t.rows.flatMap((r) => Object.keys(r))));
    parts.push(`**${escapeMarkdown(t.title)}**`);
    parts.push(table(columns.map((c) => mdCell(c)), t.rows.map((r) => columns.map((c) => (typeof r[c] === 'number' ? mdCell(r[c]) : mdCode(r[c]))))));
  }
  if (f.evidence.length > 0) {
    parts.push('**Evidence**');
    parts.push(rowsTable(tableOf(f.evidence)));
  }
  if (Object.keys(f.other).length > 0) {
    parts.push('**Other outputs**');
    parts.push(rowsTable(fieldsOf(f.other)));
  }
  return parts.join('\n\n');
}

export function renderMarkdown(report: IncidentReport): string {
  const { run, trigger, origin, audit } = report;
  const out: string[] = [];
  const title = trigger.playbook?.name ?? 'unknown playbook';
  out.push(`# Incident report: ${escapeMarkdown(title)} (${escapeMarkdown(run.status)}${run.dryRun ? ', dry run' : ''})`);
  // A log that fails verification must say so before anything it claims is read.
  if (audit.chain === 'broken') out.push('> **AUDIT CHAIN BROKEN: this log was altered or truncated after it was written; do not trust the record below.**');
  out.push(
    keyValues([
      ['Run', mdCode(run.runId ?? 'unknown')],
      ['Mode', mdCell(run.mode ?? 'unknown')],
      ['Status', `**${mdCell(run.status)}**${run.exitCode !== undefined ? ` (exit ${run.exitCode})` : ''}${run.reason !== undefined ? `: ${mdCell(run.reason)}` : ''}`],
      ['Started', mdCell(run.startedAt ?? '')],
      ['Finished', mdCell(run.finishedAt ?? 'never (no summary record)')],
      ['Hosts', report.hosts.map((h) => `${mdCode(h.host)} ${mdCell(h.status)}`).join(', ') || ' '],
      ['Incident', trigger.incident !== undefined ? mdCode(trigger.incident) : '_none_'],
      ['Audit chain', `${mdCell(audit.chain)}${audit.head !== undefined ? `, head ${mdCode(audit.head)}` : ''}`],
    ]),
  );

  out.push('## What changed');
  out.push(
    table(
      ['Host', 'Step', 'Change', 'Target', 'Before'],
      report.changes.map((c) => [mdCode(c.host), mdCode(c.step), mdCell(c.what), c.target === undefined ? ' ' : mdCode(c.target), c.before === undefined ? ' ' : mdCell(c.before)]),
    ),
  );

  out.push('## What failed and is still open');
  const open = stillOpen(report);
  out.push(open.length === 0 ? (run.status === 'incomplete' ? '_The log has no summary: the run did not finish; check the steps below._' : '_Nothing failed; nothing is left open._') : table(['Host', 'Step', 'What is open'], open.map((f) => [mdCode(f.host), f.step === undefined ? ' ' : mdCode(f.step), mdCell(f.error)])));

  out.push('## Findings');
  out.push(report.findings.length === 0 ? '_No detection step recorded findings._' : report.findings.map(findingSection).join('\n\n'));

  out.push('## Gates');
  out.push(
    table(
      ['Time', 'Gate', 'Question', 'Hosts', 'Answer', 'By'],
      report.gates.map((g) => [mdCell(g.ts), mdCode(g.gate), mdCell(g.message), g.hosts.map((h) => mdCode(h)).join(', ') || ' ', `**${mdCell(g.answer)}**${g.reason !== undefined ? ` (${mdCell(g.reason)})` : ''}`, mdCode(g.by)]),
    ),
  );

  out.push('## Steps and commands');
  const hostsInOrder = Array.from(new Set(report.steps.map((s) => s.host)));
  for (const host of hostsInOrder) {
    out.push(`### ${escapeMarkdown(host)}`);
    const steps = report.steps.filter((s) => s.host === host);
    out.push(
      table(
        ['Step', 'Action', 'Item', 'Status', 'Summary'],
        steps.map((s) => [mdCode(s.step), mdCode(s.action), s.item === undefined ? ' ' : mdCode(s.item), `**${mdCell(s.status)}**`, mdCell(s.error ?? s.summary ?? '')]),
      ),
    );
    for (const s of steps.filter((x) => x.commands.length > 0)) {
      out.push(commandBlock(`Commands of ${displayText(s.step)}${s.item !== undefined ? ` (${displayText(s.item)})` : ''}: ${s.commands.length}`, s.commands));
    }
  }

  out.push('## How to undo');
  out.push('`runbook undo LOG` plans these reversals and asks before running them:');
  out.push(table(['Host', 'Step', 'Undo action', 'Parameters', 'Description'], report.undo.map((u) => [mdCode(u.host), mdCode(u.step), mdCode(u.action), mdCode(u.params), mdCell(u.description)])));
  out.push('**Cannot be undone**');
  out.push(report.irreversible.length === 0 ? '_Nothing irreversible was done._' : table(['Host', 'Step', 'What'], report.irreversible.map((i) => [mdCode(i.host), mdCode(i.step), mdCell(i.text)])));

  out.push('## What triggered the run');
  out.push(
    keyValues([
      ['Playbook', trigger.playbook ? mdCode(trigger.playbook.name) : ' '],
      ['Playbook file', trigger.playbook ? mdCode(trigger.playbook.path) : ' '],
      ['Playbook sha256', trigger.playbook ? mdCode(trigger.playbook.sha256) : ' '],
      ['Plan hash', run.planHash !== undefined ? mdCode(run.planHash) : ' '],
      ['Incident', trigger.incident !== undefined ? mdCode(trigger.incident) : '_none_'],
    ]),
  );
  out.push('**Inputs**');
  out.push(table(['Input', 'Value'], Object.entries(trigger.inputs).map(([k, v]) => [mdCode(k), mdCode(v)])));

  out.push('## Who ran it, from where');
  out.push(
    keyValues([
      ['Operator', mdCode(origin.operator ?? 'unknown')],
      ['uid', mdCell(origin.uid ?? 'unknown')],
      ['Control host', mdCode(origin.controlHost ?? 'unknown')],
      ['runbook version', mdCode(origin.toolVersion ?? 'unknown')],
    ]),
  );
  out.push('Command line:');
  out.push(mdFence(argvToDisplay(origin.argv), 'sh'));

  if (report.notes.length > 0) {
    out.push('## Notes');
    out.push(table(['Time', 'Host', 'Step', 'Note'], report.notes.map((n) => [mdCell(n.ts), mdCode(n.host), mdCode(n.step), mdCell(n.message)])));
  }

  out.push('## Audit log');
  const problems = audit.problems.length > 0 ? `\n\nProblems:\n\n${audit.problems.map((p) => `- ${escapeMarkdown(p)}`).join('\n')}` : '';
  out.push(
    keyValues([
      ['Chain', `**${mdCell(audit.chain)}**`],
      ['Complete (summary closes the chain)', mdCell(audit.complete ?? 'not checked')],
      ['Chain head (sha256 of the last line)', audit.head !== undefined ? mdCode(audit.head) : 'not computed'],
      ['Head closed by the summary', audit.closedHead !== undefined ? mdCode(audit.closedHead) : 'none (no summary record)'],
      ['Signature', `${mdCell(audit.signature)}${audit.publicKey !== undefined ? `, Ed25519 public key ${mdCode(audit.publicKey)}` : ''}`],
    ]) + problems,
  );
  out.push('Keep the chain head with the incident: a later copy of the log that does not end in this hash has been changed.');
  return `${out.join('\n\n')}\n`;
}
