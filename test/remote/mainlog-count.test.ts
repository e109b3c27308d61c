// Counting on the target: the perl counter (run here as a target runs it) gives the local
// reader's result, table for table, for any log: out of time order, overlong lines, hostile
// text, RFC 2047 subjects, IPv6 clients, bytes that are not UTF-8, with and without a window.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanMainlogFile } from '../../src/investigate/mainlog-file.js';
import { scanMainlogRemote, type RemoteTransfer } from '../../src/remote/scan.js';
import { LocalTransport } from '../../src/transport/local.js';
import { anyLog, at, lists } from './hostile-logs.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runbook-count-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('counting on the target with perl', () => {
  const local = new LocalTransport();

  it('gives the local reader\'s result, every table, with and without a window, for any list lengths', async () => {
    let n = 0;
    let arrivals = 0;
    let joined = 0;
    let forgotten = 0;
    await fc.assert(
      fc.asyncProperty(anyLog, fc.constantFrom(null, '2026-11-22 10:00:30', '2026-11-22 10:01:00', '2026-11-22 09:00:00', '30s', '2m'), lists, async (bytes, since, limits) => {
        const file = join(dir, `log${n++}`);
        await writeFile(file, bytes);
        const expected = await scanMainlogFile(file, { since, ...limits });
        const actual = await scanMainlogRemote(local, file, { since, ...limits, counter: 'perl' });
        expect(actual).toEqual(expected);
        arrivals += actual.totals.arrivals;
        joined += [...actual.senders, ...actual.failing_senders].reduce((n, x) => n + x.deferrals + x.failures, 0);
        forgotten += actual.totals.messages_forgotten;
      }),
      { numRuns: 100 },
    );
    expect(arrivals).toBeGreaterThan(0);
    // The generated logs do join deferrals and failures to arrivals, and do overflow the memory.
    expect(joined).toBeGreaterThan(0);
    expect(forgotten).toBeGreaterThan(0);
  });

  it('sends back tables, not the log: a busy log gives kilobytes', async () => {
    const lines: string[] = [];
    for (let k = 0; k < 40_000; k++) {
      const ts = at(Math.floor(k / 10));
      lines.push(`${ts} cwd=/home/shop/public_html/wp-content/uploads 3 args: /usr/sbin/sendmail -t -i`);
      lines.push(`${ts} 1vX${String(k % 1000).padStart(3, '0')}-000000-AB <= promo${k % 7}@shop.test U=shop P=local S=900 T="Offer ${k % 5}" for v${k}@victim.test`);
      lines.push(`${ts} 1vX${String(k % 1000).padStart(3, '0')}-000000-AB => v${k}@victim.test R=dnslookup T=remote_smtp H=mx.victim.test [192.0.2.${k % 200}]`);
    }
    const file = join(dir, 'busy');
    const bytes = Buffer.from(`${lines.join('\n')}\n`);
    await writeFile(file, bytes);
    let transfer: RemoteTransfer | undefined;
    const actual = await scanMainlogRemote(local, file, { since: null, onTransfer: (t) => (transfer = t), counter: 'perl' });
    expect(actual).toEqual(await scanMainlogFile(file, {}));
    expect(actual.totals.arrivals).toBe(40_000);
    expect(transfer!.bytesScanned).toBe(bytes.length);
    expect(transfer!.bytesReceived).toBeLessThan(4096);
  });
});
