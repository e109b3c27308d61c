// Cases where the WebAssembly main-log scanner or its file reader give a result
// other than one sequential pass of the line-by-line reference, or hide that they did.
import { truncateSync } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishScan, MainlogScanner, scanMainlogBuffer } from '../../src/parsers/mainlog-scan.js';
import { readLinesAhead, scanMainlogFile } from '../../src/investigate/mainlog-file.js';
import { referenceScan } from './mainlog-reference.js';

const T1 = '2026-11-22 10:56:28';
const T2 = '2026-11-22 10:56:29';
const ID = '1xV5FE-0001it-00';

describe('caps are reported', () => {
  it('a client address that does not fit in the address table marks the scan truncated', () => {
    const text = [1, 2, 3].map((k) => `${T1} ${ID} <= a@b H=(h) [10.0.0.${k}]:1 A=dovecot_login:a@b`).join('\n') + '\n';
    const r = scanMainlogBuffer(Buffer.from(text), { maxKeys: 2 });
    // Only two of the three addresses can be kept; the third must not vanish silently.
    expect(r.senders[0]!.ips).toHaveLength(2);
    expect(r.truncated).toBe(true);
  });

  it('authenticator pairs dropped at maxPairs mark the scan truncated', () => {
    const text = `${T1} ${ID} <= a@b A=p1:id\n${T1} ${ID} <= a@b A=p2:id\n`;
    const r = scanMainlogBuffer(Buffer.from(text), { maxPairs: 1 });
    expect(r.auth_senders[0]!.authenticators).toEqual([{ key: 'p1', count: 1 }]);
    expect(r.truncated).toBe(true);
  });
});

describe('file reader', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'runbook-review-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([true, false])('does not return a partial result as complete when the file shrinks during the scan (read ahead: %s)', async (ahead) => {
    const text = Array.from({ length: 200 }, (_, k) => `${T1} ${ID} <= s${k}@x.test U=u P=local`).join('\n') + '\n';
    const file = join(dir, 'shrinks');
    await writeFile(file, text);
    let truncated = false;
    const scan = scanMainlogFile(file, {
      chunkBytes: 1024,
      ahead,
      onProgress: () => {
        if (!truncated) truncateSync(file, 0);
        truncated = true;
      },
    });
    // Either the scan fails, or it says it read less than the whole range.
    const outcome = await scan.then((r) => r, (err: unknown) => err as Error);
    if (!(outcome instanceof Error)) expect(outcome.window.bytes_scanned).toBeLessThan(Buffer.byteLength(text));
    expect(truncated).toBe(true);
  });

  it('leaves no read ahead failing unheard when a batch throws (the kernel out of memory as the file shrinks)', async () => {
    // Two reads of 512 bytes, 64-byte lines.
    const text = Array.from({ length: 16 }, (_, k) => `${`${T1} ${ID} <= s${k}@x.test U=u P=local`.padEnd(63)}\n`).join('');
    const file = join(dir, 'throws');
    await writeFile(file, text);
    const unheard: unknown[] = [];
    const note = (reason: unknown): void => {
      unheard.push(reason);
    };
    process.on('unhandledRejection', note);
    const fh = await open(file, 'r');
    try {
      const scanner = new MainlogScanner();
      let batches = 0;
      // The range runs past the file's end, as when it shrank after its size was taken: the
      // read ahead of the second batch (the third read) comes back short while that batch throws.
      const reading = readLinesAhead(scanner, fh, 0, text.length + 4096, { chunkBytes: 512, ahead: true }, () => {
        if (++batches === 2) throw new Error('main-log scanner ran out of memory');
        return false;
      });
      await expect(reading).rejects.toThrow(/out of memory/);
    } finally {
      // Closing waits for the read in flight; a rejection nobody handles is reported by then.
      await fh.close();
      await new Promise((resolve) => setImmediate(resolve));
      process.off('unhandledRejection', note);
    }
    expect(unheard).toEqual([]);
  });
});

describe('cwd= lines and their arrivals', () => {
  it('a cwd= line and its arrival stay paired when a line of the next second is logged between them', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 60; i++) lines.push(`${T1} ${ID} Completed`);
    lines.push(`${T1} cwd=/home/u/public_html 3 args: /usr/sbin/sendmail -t -i`);
    // Another process logs a line of the next second before the submission's arrival line.
    lines.push(`${T2} ${ID} Completed`);
    lines.push(`${T1} ${ID} <= spam@x.test U=u P=local`);
    for (let i = 0; i < 20; i++) lines.push(`${T2} ${ID} Completed`);
    const text = `${lines.join('\n')}\n`;
    const dir = await mkdtemp(join(tmpdir(), 'runbook-review-split-'));
    try {
      const file = join(dir, 'log');
      await writeFile(file, text);
      const want = finishScan(referenceScan(text), { startOffset: 0, endOffset: Buffer.byteLength(text) });
      expect(want.cwd[0]!.senders).toEqual([{ key: 'spam@x.test', count: 1 }]);
      const got = await scanMainlogFile(file);
      expect(got.cwd).toEqual(want.cwd);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
