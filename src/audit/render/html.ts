import { argvToDisplay, displayText, escapeHtml } from './escape.js';
import type { CommandRow, Finding, IncidentReport } from './model.js';
import { stillOpen } from './open.js';
import { fieldsOf, tableOf, type Rows } from './rows.js';

/**
 * The incident report as ONE self-contained HTML file: inline CSS, no script, no external
 * resource (a Content-Security-Policy forbids both, in case a value ever slipped through),
 * readable on screen and on paper. Every logged value is escaped with escapeHtml.
 */

const h = (value: unknown): string => escapeHtml(displayText(value));
const code = (value: unknown): string => `<code>${h(value)}</code>`;
/** Short identifiers (hosts, steps, actions) never wrap mid-word. */
const ident = (value: unknown): string => `<code class="id">${h(value)}</code>`;

const STATUS_CLASS: Record<string, string> = {
  ok: 'good', changed: 'warn', accepted: 'good', verified: 'good', skipped: 'neutral', 'not checked': 'neutral',
  absent: 'neutral', failed: 'bad', declined: 'bad', refused: 'bad', broken: 'bad', invalid: 'bad',
  interrupted: 'bad', unreachable: 'bad', incomplete: 'bad', unfinished: 'bad', unknown: 'neutral',
};

function badge(status: string): string {
  return `<span class="badge ${STATUS_CLASS[status] ?? 'neutral'}">${h(status)}</span>`;
}

function table(headers: string[], rows: string[][], empty = 'None.'): string {
  if (rows.length === 0) return `<p class="empty">${h(empty)}</p>`;
  return `<table><thead><tr>${headers.map((x) => `<th>${h(x)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function rowsTable(rows: Rows): string {
  return table(rows.columns, rows.rows.map((r) => r.map((cell) => h(cell))));
}

function keyValues(pairs: [string, string][]): string {
  return `<dl class="kv">${pairs.map(([k, v]) => `<dt>${h(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

function section(id: string, title: string, body: string): string {
  return `<section id="${id}"><h2>${h(title)}</h2>${body}</section>`;
}

/** Folded: the commands are there for whoever checks, not in the way of whoever reads. */
function commands(title: string, rows: CommandRow[]): string {
  return `<details><summary>${title} <span class="muted">(${rows.length})</span></summary><pre class="commands">${rows
    .map((c) => {
      const stdin = c.stdin !== undefined && c.stdin !== 'none' ? ` <span class="muted"># stdin: ${h(c.stdin)}</span>` : '';
      const outcome = `<span class="${c.ok ? 'good' : 'bad'}-text">→ ${h(c.outcome)}</span>${c.durationMs !== undefined ? ` <span class="muted">${h(c.durationMs)} ms</span>` : ''}${c.error !== undefined ? ` ${h(c.error)}` : ''}`;
      return `<span class="prompt">$</span> ${h(argvToDisplay(c.argv))}${stdin}\n  ${outcome}`;
    })
    .join('\n')}</pre></details>`;
}

function finding(f: Finding): string {
  const parts: string[] = [`<h3>${h(f.host)} <span class="muted">· step ${code(f.step)} · ${code(f.action)}</span></h3>`];
  if (f.summary !== undefined) parts.push(`<p class="lead">${h(f.summary)}</p>`);
  const facts: [string, string][] = [];
  if (f.kind !== undefined) facts.push(['Source kind', h(f.kind)]);
  if (f.sender !== undefined) facts.push(['Sender', code(f.sender)]);
  for (const [name, value] of Object.entries(f.counts)) facts.push([`Count: ${displayText(name)}`, h(value)]);
  if (facts.length > 0) parts.push(keyValues(facts));
  if (f.scripts.length > 0) {
    parts.push('<h4>Scripts sending mail</h4>');
    parts.push(table(['Path', 'Messages', 'IPs'], f.scripts.map((s) => [code(s.path), h(s.count ?? ''), s.ips.map(code).join(' ')])));
  }
  if (f.ips.length > 0) parts.push(`<h4>IPs</h4><p>${f.ips.map(code).join(' ')}</p>`);
  for (const t of f.tables) {
    const columns = Array.from(new Set(t.rows.flatMap((r) => Object.keys(r))));
    parts.push(`<h4>${h(t.title)}</h4>`);
    parts.push(table(columns, t.rows.map((r) => columns.map((c) => (typeof r[c] === 'number' ? `<span class="num">${h(r[c])}</span>` : code(r[c] ?? ''))))));
  }
  if (f.evidence.length > 0) parts.push(`<h4>Evidence</h4>${rowsTable(tableOf(f.evidence))}`);
  if (Object.keys(f.other).length > 0) parts.push(`<h4>Other outputs</h4>${rowsTable(fieldsOf(f.other))}`);
  return `<div class="card">${parts.join('')}</div>`;
}

const CSS = `
:root{--fg:#1d232b;--muted:#5d6773;--line:#d8dde3;--bg:#fff;--panel:#f5f7f9;--good:#1b7f3b;--warn:#9a6200;--bad:#b3261e;}
*{box-sizing:border-box}
body{font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0}
main{max-width:1100px;margin:0 auto;padding:24px 28px 48px}
header.top{border-bottom:3px solid var(--fg);padding-bottom:12px;margin-bottom:8px}
h1{font-size:24px;margin:0 0 6px}
h2{font-size:18px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:14px 0 8px}
h4{font-size:13px;margin:12px 0 6px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
h4 code{text-transform:none;letter-spacing:0;font-weight:400}
code,pre{font:12.5px/1.45 ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace}
code{background:var(--panel);border:1px solid var(--line);border-radius:3px;padding:0 3px;overflow-wrap:anywhere}
code.id{white-space:nowrap;overflow-wrap:normal}
td.time{white-space:nowrap}
pre{background:var(--panel);border:1px solid var(--line);border-radius:4px;padding:10px 12px;white-space:pre-wrap;overflow-wrap:anywhere;margin:6px 0 12px}
pre.commands .prompt{color:var(--muted);user-select:none}
table{border-collapse:collapse;width:100%;margin:6px 0 12px}
th,td{border:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:var(--panel);font-weight:600}
td .num,.num{font-variant-numeric:tabular-nums}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:8px 0 12px}
dl.kv dt{color:var(--muted)}
dl.kv dd{margin:0;overflow-wrap:anywhere}
.badge{display:inline-block;white-space:nowrap;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;color:#fff;background:var(--muted)}
.badge.neutral{background:#6b7480}.badge.good{background:var(--good)}.badge.warn{background:var(--warn)}.badge.bad{background:var(--bad)}
.good-text{color:var(--good)}.bad-text{color:var(--bad)}.muted{color:var(--muted)}
details{margin:6px 0 10px}details>summary{cursor:pointer;font-size:13px}
.card{border:1px solid var(--line);border-radius:6px;padding:4px 14px 8px;margin:10px 0}
.lead{font-size:15px}
.empty{color:var(--muted);font-style:italic}
.anchor{font-size:13px;background:var(--panel);border-left:4px solid var(--fg);padding:8px 12px}
nav.toc{font-size:13px;color:var(--muted)}nav.toc a{color:inherit;margin-right:12px}
@media print{
  body{font-size:10.5pt}
  main{max-width:none;padding:0}
  nav.toc{display:none}
  h2{break-after:avoid}
  table,pre,.card,dl.kv{break-inside:avoid}
  pre,code,th{background:none}
  .badge{color:#000;background:none!important;border:1px solid #000}
  a{color:inherit;text-decoration:none}
}
@page{margin:16mm}
`;

export function renderHtml(report: IncidentReport): string {
  const { run, trigger, origin, audit } = report;
  const title = `Incident report: ${trigger.playbook?.name ?? 'unknown playbook'}`;
  const body: string[] = [];

  if (audit.chain === 'broken') body.push('<p class="badge bad" role="alert">AUDIT CHAIN BROKEN: this log was altered or truncated after it was written; do not trust the record below.</p>');
  body.push(`<header class="top"><h1>${h(title)} ${badge(run.status)}${run.dryRun ? ' <span class="badge neutral">dry run</span>' : ''}</h1>${keyValues([
    ['Run', code(run.runId ?? 'unknown')],
    ['Mode', h(run.mode ?? 'unknown')],
    ['Status', `${badge(run.status)}${run.exitCode !== undefined ? ` exit ${h(run.exitCode)}` : ''}${run.reason !== undefined ? ` — ${h(run.reason)}` : ''}`],
    ['Started / finished', `${h(run.startedAt ?? '')} → ${h(run.finishedAt ?? 'never (no summary record)')}`],
    ['Hosts', report.hosts.map((x) => `${code(x.host)} ${badge(x.status)}`).join(' ')],
    ['Incident', trigger.incident !== undefined ? code(trigger.incident) : '<span class="muted">none</span>'],
    ['Audit chain', `${badge(audit.chain)}${audit.head !== undefined ? ` head ${code(audit.head)}` : ''}`],
  ])}</header>`);
  body.push(`<nav class="toc"><a href="#changes">Changes</a><a href="#failures">Still open</a><a href="#findings">Findings</a><a href="#gates">Gates</a><a href="#steps">Steps</a><a href="#undo">Undo</a><a href="#trigger">Trigger</a><a href="#origin">Who</a><a href="#audit">Audit</a></nav>`);

  body.push(section('changes', 'What changed', table(['Host', 'Step', 'Change', 'Target', 'Before'], report.changes.map((c) => [
    ident(c.host), ident(c.step), h(c.what), c.target === undefined ? '' : code(c.target), c.before === undefined ? '' : h(c.before),
  ]), 'Nothing was changed.')));

  body.push(section('failures', 'What failed and is still open', table(['Host', 'Step', 'What is open'], stillOpen(report).map((f) => [
    ident(f.host), f.step === undefined ? '' : ident(f.step), `<span class="bad-text">${h(f.error)}</span>`,
  ]), run.status === 'incomplete' ? 'The log has no summary: the run did not finish; check the steps below.' : 'Nothing failed; nothing is left open.')));

  body.push(section('findings', 'Findings', report.findings.length === 0 ? '<p class="empty">No detection step recorded findings.</p>' : report.findings.map(finding).join('')));

  body.push(section('gates', 'Gates', table(['Time', 'Gate', 'Question', 'Hosts', 'Answer', 'By'], report.gates.map((g) => [
    h(g.ts), ident(g.gate), h(g.message), g.hosts.map(ident).join(' '), `${badge(g.answer)}${g.reason !== undefined ? ` ${h(g.reason)}` : ''}`, code(g.by),
  ]), 'No gate was reached.')));

  const stepParts: string[] = [];
  for (const host of Array.from(new Set(report.steps.map((s) => s.host)))) {
    const steps = report.steps.filter((s) => s.host === host);
    stepParts.push(`<h3>${h(host)}</h3>`);
    stepParts.push(table(['Step', 'Action', 'Item', 'Status', 'Summary / error'], steps.map((s) => [
      ident(s.step), ident(s.action), s.item === undefined ? '' : code(s.item), badge(s.status), h(s.error ?? s.summary ?? ''),
    ])));
    for (const s of steps.filter((x) => x.commands.length > 0)) {
      stepParts.push(commands(`Commands of ${ident(s.step)}${s.item !== undefined ? ` ${code(s.item)}` : ''}`, s.commands));
    }
  }
  body.push(section('steps', 'Steps and commands', stepParts.join('') || '<p class="empty">No step ran.</p>'));

  body.push(section('undo', 'How to undo', `<p><code>runbook undo LOG</code> plans these reversals and asks before running them.</p>` +
    table(['Host', 'Step', 'Undo action', 'Parameters', 'Description'], report.undo.map((u) => [ident(u.host), ident(u.step), ident(u.action), code(u.params), h(u.description)]), 'Nothing to undo.') +
    '<h4>Cannot be undone</h4>' +
    table(['Host', 'Step', 'What'], report.irreversible.map((i) => [ident(i.host), ident(i.step), h(i.text)]), 'Nothing irreversible was done.')));

  body.push(section('trigger', 'What triggered the run', keyValues([
    ['Playbook', trigger.playbook ? code(trigger.playbook.name) : ''],
    ['Playbook file', trigger.playbook ? code(trigger.playbook.path) : ''],
    ['Playbook sha256', trigger.playbook ? code(trigger.playbook.sha256) : ''],
    ['Plan hash', run.planHash !== undefined ? code(run.planHash) : ''],
    ['Incident', trigger.incident !== undefined ? code(trigger.incident) : '<span class="muted">none</span>'],
  ]) + '<h4>Inputs</h4>' + table(['Input', 'Value'], Object.entries(trigger.inputs).map(([k, v]) => [code(k), code(v)]))));

  body.push(section('origin', 'Who ran it, from where', keyValues([
    ['Operator', code(origin.operator ?? 'unknown')],
    ['uid', h(origin.uid ?? 'unknown')],
    ['Control host', code(origin.controlHost ?? 'unknown')],
    ['runbook version', code(origin.toolVersion ?? 'unknown')],
  ]) + `<h4>Command line</h4><pre>${h(argvToDisplay(origin.argv))}</pre>`));

  if (report.notes.length > 0) {
    body.push(section('notes', 'Notes', table(['Time', 'Host', 'Step', 'Note'], report.notes.map((n) => [h(n.ts), ident(n.host), ident(n.step), h(n.message)]))));
  }

  body.push(section('audit', 'Audit log', keyValues([
    ['Chain', badge(audit.chain)],
    ['Complete', h(audit.complete ?? 'not checked')],
    ['Chain head (sha256 of the last line)', audit.head !== undefined ? code(audit.head) : 'not computed'],
    ['Head closed by the summary', audit.closedHead !== undefined ? code(audit.closedHead) : 'none (no summary record)'],
    ['Signature', `${badge(audit.signature)}${audit.publicKey !== undefined ? ` Ed25519 public key ${code(audit.publicKey)}` : ''}`],
  ]) + (audit.problems.length > 0 ? `<h4>Problems</h4><ul>${audit.problems.map((p) => `<li class="bad-text">${h(p)}</li>`).join('')}</ul>` : '') +
    '<p class="anchor">Keep the chain head with the incident: a later copy of the log that does not end in this hash has been changed.</p>'));

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${h(title)}</title>
<style>${CSS}</style>
</head>
<body><main>
${body.join('\n')}
</main></body>
</html>
`;
}
