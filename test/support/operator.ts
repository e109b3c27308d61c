// What an operator does around a run, for tests: a notification endpoint on 127.0.0.1 that
// keeps what it was sent, and a `runbook …` line pasted into a shell as a person would.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { CLI, REPO } from '../cli/run-cli.js';

export interface Received {
  url: string;
  body: string;
}

/** A notification endpoint on 127.0.0.1 answering every POST with `status`. */
export async function startHook(status: number): Promise<{ url: string; received: Received[]; stop(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ url: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end(status === 200 ? 'ok' : 'internal error');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Runs a `runbook …` line as a human pasting it would: through a POSIX shell, the built CLI as `runbook`. */
export function runPasted(line: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  expect(line.startsWith('runbook ')).toBe(true);
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', `runbook() { "$RUNBOOK_NODE" "$RUNBOOK_CLI" "$@"; }; ${line}`], {
      cwd: REPO,
      env: { ...process.env, NO_COLOR: '1', RUNBOOK_NODE: process.execPath, RUNBOOK_CLI: CLI, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

