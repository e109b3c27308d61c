import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { attachExitCode, attachRun, AttachTargetError, loadAttachCredentials, parseAttachTarget } from '../../src/audit/attach/index.js';
import { readAuditLog } from '../../src/audit/read.js';
import { writeSpamIncidentLog } from './sample-log.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

type Reply = { status: number; body?: string; hangMs?: number };

/** A scripted HTTP service on 127.0.0.1: replies are taken in order, then 201s. */
class FakeService {
  readonly seen: Seen[] = [];
  replies: Reply[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<import('node:net').Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor() {
    this.#server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
        const reply = this.replies.shift() ?? { status: 201, body: '{"id":"1"}' };
        const send = () => {
          res.writeHead(reply.status, { 'Content-Type': 'application/json' });
          res.end(reply.body ?? '{}');
        };
        if (reply.hangMs !== undefined) {
          const t = setTimeout(send, reply.hangMs);
          this.#timers.add(t);
        } else send();
      });
    });
    this.#server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  reset(): void {
    this.seen.length = 0;
    this.replies = [];
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

const service = new FakeService();
let base = '';
const noSleep = { sleep: async () => {}, baseDelayMs: 1, timeoutMs: 5000 };
// An empty private credentials file: everything comes from the env given to each test.
const credentialsFile = join(mkdtempSync(join(tmpdir(), 'runbook-creds-')), 'empty.yml');
writeFileSync(credentialsFile, '', { mode: 0o600 });
let logPath = '';
let head = '';

function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { HOME: '/nonexistent', ...extra };
}

beforeAll(async () => {
  base = await service.start();
  logPath = writeSpamIncidentLog();
  head = readAuditLog(logPath).head;
});
afterEach(() => service.reset());
afterAll(async () => service.stop());

describe('attach targets', () => {
  it('parses the four target kinds', () => {
    expect(parseAttachTarget('webhook:https://hooks.example/x?y=1')).toEqual({ kind: 'webhook', url: 'https://hooks.example/x?y=1' });
    expect(parseAttachTarget('pagerduty:PABC123')).toEqual({ kind: 'pagerduty', incidentId: 'PABC123' });
    expect(parseAttachTarget('jira:OPS-42')).toEqual({ kind: 'jira', issueKey: 'OPS-42' });
    expect(parseAttachTarget('github:acme/infra#7')).toEqual({ kind: 'github', owner: 'acme', repo: 'infra', issue: 7 });
  });
  it('rejects malformed targets and credentials in URLs', () => {
    for (const bad of ['slack:#ops', 'jira:ops-1', 'jira:OPS-1/../x', 'github:acme/..#1', 'github:acme/infra', 'pagerduty:P/1', 'webhook:ftp://x', 'webhook:https://u:p@x/']) {
      expect(() => parseAttachTarget(bad), bad).toThrow(AttachTargetError);
    }
  });
});

describe('adapters against a local service', () => {
  it('webhook: one JSON POST with the report, the raw log and the chain head', async () => {
    const result = await attachRun(logPath, `webhook:${base}/hooks/incident`, { env: env({ RUNBOOK_WEBHOOK_TOKEN: 'wh-token-123' }), credentialsFile, ...noSleep });
    expect(result).toMatchObject({ ok: true, head });
    expect(service.seen).toHaveLength(1);
    const [req] = service.seen;
    expect(req?.url).toBe('/hooks/incident');
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.headers.authorization).toBe('Bearer wh-token-123');
    const body = JSON.parse(req!.body.toString()) as Record<string, unknown> & { report: { markdown: string; html: string }; log: { jsonl: string } };
    expect(body.head).toBe(head);
    expect(body.report.markdown).toContain('## What changed');
    expect(body.report.html).toContain('<!DOCTYPE html>');
    expect(body.log.jsonl).toBe(readFileSync(logPath, 'utf8'));
  });

  it('Slack: {text, blocks} to the hook URL; the URL is never in the result or the saved report', async () => {
    const hook = `${base}/services/T1/B1/slackSecretPath987`;
    const result = await attachRun(logPath, `slack:${hook}`, { env: env({}), credentialsFile, ...noSleep, pending: { what: '1 step waits', command: 'runbook apply f.yml --approve abc' } });
    expect(result).toMatchObject({ ok: true, head, target: `Slack webhook at ${new URL(base).host}` });
    const [req] = service.seen;
    expect(req?.url).toBe('/services/T1/B1/slackSecretPath987');
    expect(req?.headers.authorization).toBeUndefined();
    const body = JSON.parse(req!.body.toString()) as { text: string; blocks: { type: string; text: { text: string } }[] };
    expect(body.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section']);
    expect(body.blocks[2]?.text.text).toContain('```runbook apply f.yml --approve abc```');

    service.replies = [{ status: 404, body: 'no_service' }];
    const fallbackDir = mkdtempSync(join(tmpdir(), 'runbook-fallback-'));
    const failed = await attachRun(logPath, `slack:${hook}`, { env: env({}), credentialsFile, fallbackDir, ...noSleep });
    expect(failed).toMatchObject({ ok: false, failure: 'rejected' });
    expect(JSON.stringify(failed)).not.toContain('slackSecretPath987');
    expect(readFileSync(failed.reportPath!, 'utf8')).not.toContain('slackSecretPath987');
  });

  it('PagerDuty: incident note with the v2 headers', async () => {
    const result = await attachRun(logPath, 'pagerduty:PABC123', {
      env: env({ RUNBOOK_PAGERDUTY_TOKEN: 'pd-token-xyz', RUNBOOK_PAGERDUTY_FROM: 'oncall@example.com', RUNBOOK_PAGERDUTY_URL: base }), credentialsFile, ...noSleep,
    });
    expect(result.ok).toBe(true);
    const [req] = service.seen;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/incidents/PABC123/notes');
    expect(req?.headers.authorization).toBe('Token token=pd-token-xyz');
    expect(req?.headers.from).toBe('oncall@example.com');
    expect(req?.headers.accept).toBe('application/vnd.pagerduty+json;version=2');
    const note = JSON.parse(req!.body.toString()) as { note: { content: string } };
    expect(note.note.content).toContain(`Audit chain head: ${head}`);
    expect(note.note.content).toContain('web2 failed');
  });

  it('Jira: multipart attachments with no-check, then an ADF comment carrying the head', async () => {
    const result = await attachRun(logPath, 'jira:OPS-42', {
      env: env({ RUNBOOK_JIRA_URL: `${base}/`, RUNBOOK_JIRA_EMAIL: 'ops@example.com', RUNBOOK_JIRA_TOKEN: 'jira-token-abc' }), credentialsFile, ...noSleep,
    });
    expect(result.ok).toBe(true);
    expect(service.seen.map((s) => s.url)).toEqual(['/rest/api/3/issue/OPS-42/attachments', '/rest/api/3/issue/OPS-42/comment']);
    const [attach, comment] = service.seen;
    const basic = `Basic ${Buffer.from('ops@example.com:jira-token-abc').toString('base64')}`;
    expect(attach?.headers.authorization).toBe(basic);
    expect(attach?.headers['x-atlassian-token']).toBe('no-check');
    const type = String(attach?.headers['content-type']);
    expect(type).toMatch(/^multipart\/form-data; boundary=/);
    const boundary = type.split('boundary=')[1]!;
    const parts = attach!.body.toString().split(`--${boundary}`).filter((p) => p.includes('Content-Disposition'));
    expect(parts).toHaveLength(2);
    expect(parts[0]).toContain('name="file"; filename="run.report.html"');
    expect(parts[0]).toContain('<!DOCTYPE html>');
    expect(parts[0]).toContain(head);
    expect(parts[1]).toContain('name="file"; filename="run.jsonl"');
    expect(parts[1]).toContain('"type":"run.header"');
    expect(comment?.headers.authorization).toBe(basic);
    const adf = JSON.parse(comment!.body.toString()) as { body: { type: string; version: number; content: { type: string; content?: { text?: string }[] }[] } };
    expect(adf.body).toMatchObject({ type: 'doc', version: 1 });
    const code = adf.body.content.find((n) => n.type === 'codeBlock');
    expect(code?.content?.[0]?.text).toBe(head);
  });

  it('GitHub: issue comment with Bearer auth and the v3 media type', async () => {
    const result = await attachRun(logPath, 'github:acme/infra#7', { env: env({ RUNBOOK_GITHUB_TOKEN: 'ghp_token456', RUNBOOK_GITHUB_URL: base }), credentialsFile, ...noSleep });
    expect(result.ok).toBe(true);
    const [req] = service.seen;
    expect(req?.url).toBe('/repos/acme/infra/issues/7/comments');
    expect(req?.headers.authorization).toBe('Bearer ghp_token456');
    expect(req?.headers.accept).toBe('application/vnd.github+json');
    const body = JSON.parse(req!.body.toString()) as { body: string };
    expect(body.body).toContain('# Incident report: spam-incident');
    expect(body.body).toContain(`Audit chain head: \`${head}\``);
  });

  it('retries 5xx with growing backoff, then succeeds', async () => {
    service.replies = [{ status: 503 }, { status: 502 }];
    const delays: number[] = [];
    const result = await attachRun(logPath, 'github:acme/infra#7', {
      env: env({ RUNBOOK_GITHUB_TOKEN: 'ghp_token456', RUNBOOK_GITHUB_URL: base }), credentialsFile,
      baseDelayMs: 100, sleep: async (ms) => { delays.push(ms); },
    });
    expect(result.ok).toBe(true);
    expect(result.posted[0]?.attempts).toBe(3);
    expect(service.seen).toHaveLength(3);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeGreaterThanOrEqual(50);
    expect(delays[0]).toBeLessThanOrEqual(100);
    expect(delays[1]).toBeGreaterThanOrEqual(100);
    expect(delays[1]).toBeLessThanOrEqual(200);
  });

  it('gives up after bounded retries on timeouts and leaves the report on disk', async () => {
    service.replies = [{ status: 201, hangMs: 10_000 }, { status: 201, hangMs: 10_000 }];
    const fallbackDir = mkdtempSync(join(tmpdir(), 'runbook-fallback-'));
    const result = await attachRun(logPath, 'github:acme/infra#7', {
      env: env({ RUNBOOK_GITHUB_TOKEN: 'ghp_token456', RUNBOOK_GITHUB_URL: base }), credentialsFile, fallbackDir,
      attempts: 2, timeoutMs: 150, sleep: async () => {},
    });
    expect(result).toMatchObject({ ok: false, failure: 'unreachable' });
    expect(result.error).toMatch(/after 2 attempts: no answer within 150 ms/);
    expect(service.seen).toHaveLength(2);
    expect(result.reportPath).toBe(join(fallbackDir, 'run.report.md'));
    expect(readFileSync(result.reportPath!, 'utf8')).toContain(head);
    expect(attachExitCode(result)).toBe(1);
  });

  it('retries network errors (nothing listening) and fails with the report saved', async () => {
    const closed = new FakeService();
    const url = await closed.start();
    await closed.stop();
    const result = await attachRun(logPath, `webhook:${url}/x`, { env: env({}), credentialsFile, attempts: 3, sleep: async () => {}, fallbackDir: mkdtempSync(join(tmpdir(), 'rb-')) });
    expect(result).toMatchObject({ ok: false, failure: 'unreachable' });
    expect(result.error).toMatch(/after 3 attempts: network error/);
    expect(existsSync(result.reportPath!)).toBe(true);
  });

  it('does not retry a 401 and says which variable to fix, without echoing the token', async () => {
    service.replies = [{ status: 401, body: '{"message":"Bad credentials ghp_badtoken999"}' }];
    const result = await attachRun(logPath, 'github:acme/infra#7', {
      env: env({ RUNBOOK_GITHUB_TOKEN: 'ghp_badtoken999', RUNBOOK_GITHUB_URL: base }), credentialsFile, fallbackDir: mkdtempSync(join(tmpdir(), 'rb-')), ...noSleep,
    });
    expect(service.seen).toHaveLength(1);
    expect(result).toMatchObject({ ok: false, failure: 'auth' });
    expect(result.error).toContain('RUNBOOK_GITHUB_TOKEN');
    expect(result.error).not.toContain('ghp_badtoken999');
    expect(attachExitCode(result)).toBe(6);
  });

  it('names the missing variable and sends nothing when credentials are absent', async () => {
    const result = await attachRun(logPath, 'pagerduty:PABC123', { env: env({ RUNBOOK_PAGERDUTY_URL: base }), credentialsFile, fallbackDir: mkdtempSync(join(tmpdir(), 'rb-')), ...noSleep });
    expect(result).toMatchObject({ ok: false, failure: 'credentials' });
    expect(result.error).toContain('RUNBOOK_PAGERDUTY_TOKEN');
    expect(service.seen).toHaveLength(0);
  });
});

describe('credentials file', () => {
  it('reads sections from a private file; the environment wins', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'runbook-creds-')), 'credentials.yml');
    writeFileSync(file, 'github:\n  token: from-file-token\n  url: https://ghe.example/api/v3\njira:\n  url: https://acme.atlassian.net\n  email: a@example.com\n  token: jt\n', { mode: 0o600 });
    const creds = loadAttachCredentials(env({ RUNBOOK_JIRA_EMAIL: 'env@example.com' }), file);
    expect(creds.github.token?.reveal()).toBe('from-file-token');
    expect(creds.github.url).toBe('https://ghe.example/api/v3');
    expect(creds.jira.email).toBe('env@example.com');
    expect(String(creds.github.token)).toBe('[redacted]');
  });
  it('refuses a file others can read', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'runbook-creds-')), 'credentials.yml');
    writeFileSync(file, 'github:\n  token: t\n');
    chmodSync(file, 0o644);
    expect(() => loadAttachCredentials(env({}), file)).toThrow(/chmod 600/);
  });
});
