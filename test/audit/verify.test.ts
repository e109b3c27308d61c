import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { auditVerifyCommand } from '../../src/cli/commands/audit.js';
import { checkChain, parseAuditLog } from '../../src/audit/read.js';
import { verifyAuditText } from '../../src/audit/verify.js';
import { AuditWriter } from '../../src/audit/writer.js';
import { Secret } from '../../src/core/secret.js';

function sampleLog(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'runbook-verify-')), 'run.jsonl');
  const w = AuditWriter.create(path);
  w.append({ type: 'run.header', format: 'runbook-audit/1', runId: 'r1', mode: 'apply', operator: 'op', uid: 0, controlHost: 'c', toolVersion: 't', argv: [], playbook: { path: 'p', sha256: 's', name: 'n' }, inputs: { token: new Secret('super-secret-token') }, hosts: ['h'] });
  w.append({ type: 'plan', planHash: 'abc', steps: [] });
  w.appendDurable({ type: 'command.intent', host: 'h', step: 's', argv: ['chmod', '000', '--', '/home/u/x.php'], stdin: 'none', mutates: true });
  w.append({ type: 'note', host: 'h', step: 's', message: 'the token super-secret-token leaked into text' });
  w.append({ type: 'run.summary', status: 'ok', exitCode: 0, dryRun: false, hosts: { h: 'ok' }, counts: {}, head: w.head });
  w.close();
  return readFileSync(path, 'utf8');
}

describe('audit log chain', () => {
  const text = sampleLog();
  const lines = text.trimEnd().split('\n');
  const join_ = (ls: string[]) => `${ls.join('\n')}\n`;

  it('verifies an intact log and redacts secrets in every record', () => {
    const result = verifyAuditText(text);
    expect(result.ok).toBe(true);
    expect(result.records).toHaveLength(5);
    expect(text).not.toContain('super-secret-token');
    expect(text).toContain('[redacted]');
  });

  it('detects an edited record and names the line after it', () => {
    const edited = [...lines];
    edited[2] = edited[2]!.replace('/home/u/x.php', '/home/u/y.php');
    expect(verifyAuditText(join_(edited)).problem).toMatchObject({ line: 4, message: expect.stringMatching(/hash chain broken/) });
  });

  it('detects a deleted record', () => {
    const deleted = lines.filter((_, i) => i !== 2);
    expect(verifyAuditText(join_(deleted)).problem?.line).toBe(3);
  });

  it('detects reordered records', () => {
    const swapped = [...lines];
    [swapped[2], swapped[3]] = [swapped[3]!, swapped[2]!];
    expect(verifyAuditText(join_(swapped)).ok).toBe(false);
  });

  it('detects a record cut off mid-line and a removed tail', () => {
    const cut = text.slice(0, text.length - 40);
    expect(verifyAuditText(cut)).toMatchObject({ torn: true, problem: { line: lines.length, message: expect.stringMatching(/^last record incomplete: the disk filled or the run was killed while writing/) } });
    const tail = join_(lines.slice(0, 3));
    expect(verifyAuditText(tail)).toMatchObject({ ok: false, complete: false });
    expect(verifyAuditText(tail).problem?.message).toMatch(/no run summary/);
  });

  it('detects records appended after the summary', () => {
    expect(verifyAuditText(join_([...lines, lines[3]!])).ok).toBe(false);
  });

  it('rejects a log whose edited line was re-hashed but whose chain no longer matches the summary', () => {
    const forged = [...lines];
    forged[4] = forged[4]!.replace(/"head":"[0-9a-f]{64}"/, `"head":"${'1'.repeat(64)}"`);
    expect(verifyAuditText(join_(forged)).problem?.message).toMatch(/different chain head/);
  });

  it('runbook audit verify calls a torn last line incomplete, and an edit still a broken chain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runbook-verify-cli-'));
    const say = async (content: string) => {
      const file = join(dir, `${Math.random().toString(36).slice(2)}.jsonl`);
      writeFileSync(file, content);
      let out = '';
      const spies = [process.stdout, process.stderr].map((stream) => vi.spyOn(stream, 'write').mockImplementation((chunk) => ((out += String(chunk)), true)));
      try {
        return { code: await auditVerifyCommand(file, {}), out };
      } finally {
        for (const spy of spies) spy.mockRestore();
      }
    };
    const tornText = `${join_(lines.slice(0, 3))}${lines[3]!.slice(0, 30)}`;
    // Reports and undo read it the same way: the links there hold, the log is not complete.
    expect(checkChain(parseAuditLog(tornText))).toMatchObject({ linksHold: true, complete: false, ok: false });
    const torn = await say(tornText);
    expect(torn.code).toBe(5);
    expect(torn.out).toMatch(/:4: last record incomplete: the disk filled or the run was killed while writing \(the 3 records before it are intact\)/);
    expect(torn.out).toMatch(/INCOMPLETE \(3 records intact; the chain shows no tampering\)/);
    expect(torn.out).not.toMatch(/FAILED|chain broken|edited/);
    const edited = [...lines];
    edited[1] = edited[1]!.replace('abc', 'abd');
    expect(checkChain(parseAuditLog(join_(edited))).linksHold).toBe(false);
    const broken = await say(join_(edited));
    expect(broken.code).toBe(5);
    expect(broken.out).toMatch(/hash chain broken/);
    expect(broken.out).toMatch(/FAILED verification/);
  });
});
