import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { messageId, writeSpoolMessage } from '../../fixtures/sim/lib/spool.mjs';
import { scanSpoolDir } from '../../src/investigate/spool.js';

/**
 * Behind a CDN every (client, edge) pair is its own X-PHP-Script chain: 20 clients through 14
 * edges are 280 chains, and each client must survive the ranking to be blocked.
 */
describe('scanSpoolDir: X-PHP-Script chains behind a CDN', () => {
  const base = mkdtempSync(join(tmpdir(), 'runbook-spool-chains-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('keeps every client of a script reached through many edges', async () => {
    const spool = join(base, 'spool');
    const clients = Array.from({ length: 20 }, (_, i) => `45.33.${i}.8`);
    const edges = Array.from({ length: 14 }, (_, i) => `172.70.${i}.2`);
    let t = Date.UTC(2026, 11, 7, 9) / 1000;
    for (const c of clients) {
      for (const e of edges) {
        writeSpoolMessage(spool, { id: messageId(t, 100 + (t % 5000)), time: t, login: 'shopuser', uid: 1103, gid: 1103, sender: 'shopuser@host.example.test', protocol: 'local', authId: 'shopuser', recipients: ['v@victims.test'], headers: [['Subject', 'x'], ['X-PHP-Script', `shop.test/x.php for ${c}, ${e}`]], body: 'x\n' });
        t++;
      }
    }
    const r = await scanSpoolDir(spool);
    const chains = r.scripts[0]!.chains!.map((c) => c.key.split(', ')[0]);
    expect(new Set(chains)).toEqual(new Set(clients));
  });
});
