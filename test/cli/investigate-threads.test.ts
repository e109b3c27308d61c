// `runbook investigate --mainlog` reads one large plain log with the threaded file scanner;
// one thread and two give the same report, and a bad thread count is a usage error.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

let dir: string;
let log: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runbook-threads-'));
  log = join(dir, 'exim_mainlog');
  // Over the 32 MiB below which one thread reads the whole log; the split falls inside the
  // burst of one mailbox, so the two threads' counts must be added for the verdict.
  const lines: string[] = [];
  for (let k = 0; k < 220_000; k++) {
    const t = new Date(Date.UTC(2026, 10, 22, 0, 0, 0) + k * 300).toISOString().slice(0, 19).replace('T', ' ');
    const who = k % 2 === 0 ? 'info@shop.example.test' : `user${k % 97}@site.example.test`;
    lines.push(`${t} 1xV5FE-000${String(k % 1000).padStart(3, '0')}-00 <= ${who} H=(pc) [203.0.113.${k % 7}]:5001 P=esmtpsa X=TLS1.3 A=dovecot_login:${who} S=${900 + (k % 50)} T="Offer number ${k % 3}" for someone${k % 13}@remote.test`);
  }
  await writeFile(log, `${lines.join('\n')}\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runbook investigate --mainlog --threads', () => {
  it('gives the same findings with one thread and with two', async () => {
    const one = await runCli(['investigate', '--mainlog', log, '--since', '30d', '--json', '--threads', '1']);
    const two = await runCli(['investigate', '--mainlog', log, '--since', '30d', '--json', '--threads', '2']);
    expect(one.code).toBe(0);
    expect(two.code).toBe(0);
    expect(JSON.parse(two.stdout)).toEqual(JSON.parse(one.stdout));
    const text = JSON.stringify(JSON.parse(one.stdout));
    expect(text).toContain('info@shop.example.test');
    expect(text).toContain('110000');
  });

  it('refuses a thread count that is not 1 to 8', async () => {
    const r = await runCli(['investigate', '--mainlog', log, '--threads', 'many']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--threads must be a whole number from 1 to 8');
  });
});
