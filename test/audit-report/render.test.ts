import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { checkChain, readAuditLog } from '../../src/audit/read.js';
import { buildReport, renderReport } from '../../src/audit/render/index.js';
import { escapeHtml, escapeMarkdown, mdCode, mdFence, neutralize } from '../../src/audit/render/escape.js';
import { ATTACKER_IPS, GENERATED_PASSWORD, HOSTILE_PATH, HOSTILE_SUBJECT, SCRIPT, SENDER, writeSpamIncidentLog } from './sample-log.js';

function sample() {
  const path = writeSpamIncidentLog();
  const log = readAuditLog(path);
  const chain = checkChain(log);
  return { path, log, chain, verification: { head: chain.head, chainOk: chain.ok, complete: chain.complete, problems: chain.problems } };
}

describe('report model', () => {
  it('collects trigger, origin, findings, gates, changes, failures and undo from the records', () => {
    const { log, verification } = sample();
    const r = buildReport(log.records, verification);
    expect(r.trigger.playbook?.name).toBe('spam-incident');
    expect(r.trigger.incident).toBe('pagerduty:PABC123');
    expect(r.origin).toMatchObject({ operator: 'alice', uid: 1000, controlHost: 'ops-bastion', toolVersion: '0.1.0' });
    expect(r.run.status).toBe('failed');
    expect(r.findings.map((f) => f.host)).toEqual(['web1', 'web2']);
    expect(r.findings[0]?.scripts[0]).toEqual({ path: SCRIPT, count: 1180, ips: ATTACKER_IPS });
    expect(r.findings[0]?.tables.map((t) => t.title)).toEqual(['senders', 'subjects']);
    expect(r.gates).toHaveLength(1);
    expect(r.gates[0]?.answer).toBe('accepted');
    expect(r.changes.map((c) => c.kind)).toEqual(['password-reset', 'other', 'file-mode', 'messages-removed', 'ip-deny', 'ip-deny']);
    expect(r.changes.find((c) => c.kind === 'file-mode')).toMatchObject({ target: SCRIPT, before: 'mode 0644', what: 'file disabled (mode 000)' });
    expect(r.changes.find((c) => c.kind === 'messages-removed')?.what).toBe('2 messages removed from the queue');
    expect(r.failures).toEqual([
      { host: 'web2', step: 'reset', error: `You do not have an email account named “${SENDER}”.` },
      { host: 'web2', step: undefined, error: 'step reset failed' },
    ]);
    expect(r.undo.map((u) => u.action)).toEqual(['file.restore_mode', 'csf.remove_deny', 'csf.remove_deny']);
    expect(r.irreversible.map((i) => i.step)).toEqual(['reset', 'purge']);
    expect(r.audit).toMatchObject({ chain: 'verified', complete: true, head: verification.head, signed: false, signature: 'absent' });
    // Commands attach to their step, with outcomes.
    const purge = r.steps.find((s) => s.step === 'purge');
    expect(purge?.commands).toHaveLength(1);
    expect(purge?.commands[0]).toMatchObject({ outcome: 'ok', mutates: true });
    const reset = r.steps.find((s) => s.host === 'web1' && s.step === 'reset');
    expect(reset?.commands[0]?.stdin).toBe('[redacted]');
  });

  it('describes changed steps from the typed changes they recorded, whatever the action is called', () => {
    const finish = (step: string, changes: unknown[]) =>
      ({ type: 'step.finish', seq: 0, time: '2026-01-01T00:00:00Z', prev: '', host: 'h1', step, action: 'site.custom', status: 'changed', durationMs: 1, summary: `${step} done`, changes }) as never;
    const r = buildReport([
      finish('chmod', [{ kind: 'file-mode', path: '/home/u/x.php', from: '0644', to: '0000' }, { kind: 'file-mode', path: '/home/u/y.php', from: '0000', to: '0755' }]),
      finish('purge', [{ kind: 'messages-removed', count: 1, ids: ['1abcde-000001-AB'], sender: 'a@example.com' }]),
      finish('deny', [{ kind: 'ip-deny', ip: '203.0.113.9', comment: 'spam' }]),
      finish('reset', [{ kind: 'password-reset', mailbox: 'b@example.com' }]),
      finish('restart', [{ kind: 'services-restarted', services: ['exim', 'imap'] }]),
      finish('hold', [{ kind: 'mailbox-suspension', mailbox: 'b@example.com', scope: 'outgoing', suspended: true }]),
    ]);
    expect(r.changes.map((c) => [c.kind, c.what, c.target, c.before])).toEqual([
      ['file-mode', 'file disabled (mode 000)', '/home/u/x.php', 'mode 0644'],
      ['file-mode', 'file mode set to 0755', '/home/u/y.php', 'mode 0000'],
      ['messages-removed', '1 message removed from the queue', 'a@example.com', undefined],
      ['ip-deny', 'IP blocked in the firewall', '203.0.113.9', undefined],
      ['password-reset', 'mailbox password reset', 'b@example.com', undefined],
      ['services-restarted', 'services restarted', ['exim', 'imap'], undefined],
      ['mailbox-suspension', 'mailbox outgoing suspended', 'b@example.com', undefined],
    ]);
  });

  it('shows a step that started but never finished as a failure, and a missing summary as incomplete', () => {
    const { log } = sample();
    const cut = log.records.filter((r) => !(r.type === 'run.summary' || (r.type === 'step.finish' && r.step === 'verify')));
    const r = buildReport(cut);
    expect(r.run.status).toBe('incomplete');
    expect(r.steps.find((s) => s.step === 'verify')?.status).toBe('unfinished');
    expect(r.failures.some((f) => f.step === 'verify')).toBe(true);
    expect(r.audit.chain).toBe('not checked');
  });
});

describe('escaping', () => {
  it('neutralizes ANSI, control and bidi characters', () => {
    expect(neutralize('a\u001b[31mred\u001b[0m\u0007b\u202ec')).toBe('ared\\u0007b\\u202ec');
  });
  it('escapes HTML metacharacters', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });
  it('escapes Markdown so a value cannot open blocks, links, mentions or break a table', () => {
    expect(escapeMarkdown('# [x](http://e) @bob | *y*\n- z')).toBe('\\# \\[x\\]\\(http://e\\) \\@bob \\| \\*y\\* - z');
    expect(escapeMarkdown('1. first')).toBe('1\\. first');
    expect(mdCode('a`b|c')).toBe('``a`b\\|c``');
    expect(mdFence('```\nrm -rf /\n```')).toBe('````\n```\nrm -rf /\n```\n````');
  });
});

describe('renderReport', () => {
  it('renders Markdown with tables, fenced commands and escaped hostile values', () => {
    const { log, verification } = sample();
    const md = renderReport(log.records, 'md', verification);
    mkdirSync('test-artifacts', { recursive: true });
    writeFileSync('test-artifacts/incident-report.md', md);
    for (const heading of ['## What triggered the run', '## Who ran it, from where', '## Findings', '## Gates', '## Steps and commands', '## What changed', '## What failed', '## How to undo', '## Audit log']) {
      expect(md).toContain(heading);
    }
    expect(md).toContain('| Host | Step | Change | Target | Before |');
    expect(md).toContain('```sh\n/usr/sbin/exim -Mrm 1tA1bC-000AbC-1x 1tA1bD-000AbC-2y\n#   → ok');
    expect(md).toContain(verification.head);
    expect(md).not.toContain('\u001b');
    // Outside code (fences and spans, where Markdown shows text literally) no raw tag remains.
    const prose = md.replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1$/gm, '').replace(/(`+)(?:(?!\1)[\s\S])*?\1/g, '');
    expect(prose).not.toMatch(/(?<!\\)<(?:script|img)/i);
    expect(prose).toContain('\\<script\\>'); // escaped in free text (the note)
    expect(md).toContain('``<script>alert(1)</script> Win \\| a `prize` **now** RED``');
    expect(md).not.toContain(GENERATED_PASSWORD);
    // Every table row has the same number of cells as its header: no hostile `|` split a cell.
    const rows = md.split('\n').filter((l) => l.startsWith('| '));
    for (const row of rows) expect(row.replace(/\\\|/g, '').endsWith(' |')).toBe(true);
  });

  it('renders one self-contained HTML file with hostile content escaped', () => {
    const { log, verification } = sample();
    const html = renderReport(log.records, 'html', verification);
    mkdirSync('test-artifacts', { recursive: true });
    writeFileSync('test-artifacts/incident-report.html', html);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/<[^>]*\sonerror=/i);
    expect(html).not.toMatch(/(?:src|href)=["']?(?:https?:)?\/\//i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(2)&gt;.php');
    expect(html).toContain("Content-Security-Policy\" content=\"default-src 'none'");
    expect(html).toContain('@media print');
    expect(html).not.toContain('\u001b');
    expect(html).not.toContain(GENERATED_PASSWORD);
    expect(html).toContain(verification.head);
    for (const id of ['trigger', 'origin', 'findings', 'gates', 'steps', 'changes', 'failures', 'undo', 'audit']) expect(html).toContain(`<section id="${id}">`);
  });

  it('renders JSON that parses back to the report model', () => {
    const { log, verification } = sample();
    const json = JSON.parse(renderReport(log.records, 'json', verification)) as ReturnType<typeof buildReport>;
    expect(json.findings[0]?.sender).toBe(SENDER);
    expect(json.findings[0]?.scripts[1]?.path).toBe(HOSTILE_PATH);
    expect(json.findings[0]?.tables[1]?.rows[0]?.subject).toBe(HOSTILE_SUBJECT);
    expect(json.audit.head).toBe(verification.head);
  });

  it('never leaks the generated password: the writer redacted it on the way in', () => {
    const { path } = sample();
    expect(readFileSync(path, 'utf8')).not.toContain(GENERATED_PASSWORD);
  });
});
