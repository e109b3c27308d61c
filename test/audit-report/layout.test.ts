import { describe, expect, it } from 'vitest';
import { readAuditLog } from '../../src/audit/read.js';
import type { AuditRecord, StepFinishRecord } from '../../src/audit/records.js';
import { renderReport } from '../../src/audit/render/index.js';
import { writeSpamIncidentLog } from './sample-log.js';

/** The sample run, with detection evidence and extra outputs as records (as exim.detect logs them). */
function records(): AuditRecord[] {
  const all = readAuditLog(writeSpamIncidentLog()).records;
  const detect = all.find((r): r is StepFinishRecord => r.type === 'step.finish' && r.host === 'web1' && r.step === 'detect')!;
  detect.outputs = {
    ...detect.outputs,
    evidence: [{ source: 'queue', detail: 'info@bob-shop.example has 1204 queued', count: 1204 }, { source: 'mainlog', detail: 'AUTH logins from 2 addresses', count: 2 }],
    window: { since: '24h', from: '2026-11-21T10:00:00Z', to: '2026-11-22T10:00:00Z' },
  };
  return all;
}

const order = (text: string, marks: string[]) => marks.map((m) => text.indexOf(m));

describe('incident reports open with what was done and what is still open', () => {
  it('Markdown: changes, then what is open, then findings, then gates; commands folded; evidence as rows', () => {
    const md = renderReport(records(), 'md');
    const at = order(md, ['## What changed', '## What failed and is still open', '## Findings', '## Gates', '## Steps and commands', '## What triggered the run']);
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(md).toMatch(/\| `web2` \| `reset` \| You do not have an email account/);
    expect(md).toMatch(/<details><summary>Commands of purge: 1<\/summary>\n\n```sh\n\/usr\/sbin\/exim -Mrm/);
    expect(md).toContain('| source | detail | count |');
    expect(md).toContain('| queue | info\\@bob-shop.example has 1204 queued | 1204 |');
    expect(md).toContain('| window | since: 24h; from: 2026-11-21T10:00:00Z; to: 2026-11-22T10:00:00Z |');
    expect(md).not.toMatch(/\{"source"|```json/);
  });

  it('HTML: the same order, commands in <details>, evidence as table rows', () => {
    const html = renderReport(records(), 'html');
    const at = order(html, ['<section id="changes">', '<section id="failures">', '<section id="findings">', '<section id="gates">', '<section id="steps">', '<section id="trigger">']);
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(html).toMatch(/<details><summary>Commands of <code class="id">purge<\/code> <span class="muted">\(1\)<\/span><\/summary><pre class="commands">/);
    expect(html).not.toMatch(/<h4>Commands of/);
    expect(html).toContain('<th>source</th><th>detail</th><th>count</th>');
    expect(html).toContain('<td>queue</td><td>info@bob-shop.example has 1204 queued</td><td>1204</td>');
    expect(html).not.toMatch(/\{&quot;source|<pre>\{/);
  });
});
