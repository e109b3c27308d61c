import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { captureStdio } from '../support/capture-stdio.js';
import { signSummary } from '../../src/audit/sign.js';
import { auditAttachCommand, auditRenderCommand } from '../../src/cli/commands/audit-report.js';
import { undoCommand } from '../../src/cli/commands/undo.js';
import { writeSpamIncidentLog } from './sample-log.js';

const stdio = captureStdio();

function tamper(path: string): void {
  writeFileSync(path, readFileSync(path, 'utf8').replace('"answer":"accepted"', '"answer":"declined"'));
}

describe('runbook audit render', () => {
  it('prints Markdown for an intact log and exits 0', async () => {
    expect(await auditRenderCommand(writeSpamIncidentLog(), { format: 'md' })).toBe(0);
    expect(stdio.out).toContain('# Incident report: spam-incident');
    expect(stdio.out).toContain('| Chain | **verified** |');
  });

  it('writes HTML to a private file with -o', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rb-render-')), 'r.html');
    expect(await auditRenderCommand(writeSpamIncidentLog(), { format: 'html', output: file })).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/^<!DOCTYPE html>/);
    expect((await import('node:fs')).statSync(file).mode & 0o777).toBe(0o600);
    expect(stdio.err).toContain(`Report written to ${file}`);
  });

  it('still renders a tampered log, marks it broken and exits 5', async () => {
    const log = writeSpamIncidentLog();
    tamper(log);
    expect(await auditRenderCommand(log, { format: 'md' })).toBe(5);
    expect(stdio.out).toContain('| Chain | **broken** |');
    expect(stdio.err).toMatch(/hash chain broken/);
  });

  it('checks the signature with --pubkey', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-render-key-'));
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', join(dir, 'k.pem')]);
    chmodSync(join(dir, 'k.pem'), 0o600);
    execFileSync('openssl', ['pkey', '-in', join(dir, 'k.pem'), '-pubout', '-out', join(dir, 'p.pem')]);
    const log = writeSpamIncidentLog({ sign: (summary) => signSummary(summary, join(dir, 'k.pem')) });
    expect(await auditRenderCommand(log, { format: 'md', pubkey: join(dir, 'p.pem') })).toBe(0);
    expect(stdio.out).toMatch(/\| Signature \| verified, Ed25519 public key `/);
  });

  it('rejects an unknown format with exit 2', async () => {
    expect(await auditRenderCommand(writeSpamIncidentLog(), { format: 'pdf' })).toBe(2);
    expect(stdio.err).toContain('--format must be one of md, html, json');
  });
});

describe('runbook audit attach', () => {
  let server: Server;
  let bodies: string[];
  beforeEach(async () => {
    bodies = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(body);
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterEach(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  const creds = () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rb-creds-')), 'c.yml');
    writeFileSync(file, '', { mode: 0o600 });
    return file;
  };

  it('posts to a webhook and prints where, with --json', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    expect(await auditAttachCommand(writeSpamIncidentLog(), { to: `webhook:${url}`, credentials: creds(), json: true })).toBe(0);
    const result = JSON.parse(stdio.out) as { ok: boolean; head: string };
    expect(result.ok).toBe(true);
    expect(bodies[0]).toContain(result.head);
  });

  it('exits 2 for a malformed target and 6 when credentials are missing', async () => {
    expect(await auditAttachCommand(writeSpamIncidentLog(), { to: 'jira:not a key', credentials: creds() })).toBe(2);
    expect(stdio.err).toContain('jira:OPS-123');
    stdio.err = '';
    const saved = process.env.RUNBOOK_GITHUB_TOKEN;
    const savedGh = process.env.GITHUB_TOKEN;
    delete process.env.RUNBOOK_GITHUB_TOKEN;
    delete process.env.GITHUB_TOKEN;
    try {
      expect(await auditAttachCommand(writeSpamIncidentLog(), { to: 'github:acme/infra#1', credentials: creds() })).toBe(6);
    } finally {
      if (saved !== undefined) process.env.RUNBOOK_GITHUB_TOKEN = saved;
      if (savedGh !== undefined) process.env.GITHUB_TOKEN = savedGh;
    }
    expect(stdio.err).toContain('RUNBOOK_GITHUB_TOKEN');
    expect(stdio.err).toMatch(/report is saved at .*run\.report\.md/);
  });
});

describe('runbook undo (command)', () => {
  it('refuses a tampered log with exit 2 and says how to check it', async () => {
    const log = writeSpamIncidentLog();
    tamper(log);
    expect(await undoCommand(log, { host: [], auditDir: mkdtempSync(join(tmpdir(), 'rb-undo-')) }, ['undo', log])).toBe(2);
    expect(stdio.err).toContain('runbook audit verify');
  });

  it('refuses a log edited to pass as a dry-run', async () => {
    const log = writeSpamIncidentLog();
    const lines = readFileSync(log, 'utf8');
    expect(lines).toContain('csf.remove_deny');
    const dir = mkdtempSync(join(tmpdir(), 'rb-undo-'));
    const dry = join(dir, 'dry.jsonl');
    writeFileSync(dry, lines.replace('"mode":"apply"', '"mode":"dry-run"'));
    expect(await undoCommand(dry, { host: [], auditDir: dir }, ['undo', dry])).toBe(2);
    expect(stdio.err).toMatch(/does not verify/);
  });
});
