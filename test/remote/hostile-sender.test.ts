/**
 * The remote scan (perl counting on the host) on logs whose senders
 * are chosen by an attacker: the same logins, addresses and totals as with plain senders.
 * Perl runs for real, through the local transport.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { scanMainlogRemote } from '../../src/remote/scan.js';
import { scanMainlogBuffer } from '../../src/parsers/mainlog-scan.js';
import { LocalTransport } from '../../src/transport/local.js';
import { hostileArrivalLogs, withoutSenderNames } from '../parsers/hostile-arrivals.js';

const dir = mkdtempSync(join(tmpdir(), 'runbook-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('remote scan with hostile envelope senders', () => {
  it('perl counter: same totals, AUTH logins and addresses as with plain senders, same result as a local scan', async () => {
    const local = new LocalTransport();
    const limits = { limit: 1000, nestedLimit: 1000 };
    let n = 0;
    await fc.assert(
      fc.asyncProperty(hostileArrivalLogs, async ({ hostileLog, plainLog, plainOf }) => {
        const hostilePath = join(dir, `hostile-${n}`);
        const plainPath = join(dir, `plain-${n++}`);
        writeFileSync(hostilePath, hostileLog);
        writeFileSync(plainPath, plainLog);
        const hostile = await scanMainlogRemote(local, hostilePath, limits);
        const plain = await scanMainlogRemote(local, plainPath, limits);
        expect(withoutSenderNames(hostile, plainOf)).toEqual(withoutSenderNames(plain, new Map()));
        expect({ ...hostile, file: null }).toEqual(scanMainlogBuffer(Buffer.from(hostileLog), limits));
      }),
      { numRuns: 20 },
    );
  });
});
