import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { score } from '../../../bench/detection/score.mjs';

const truth = {
  sources: [
    { kind: 'mailbox' as const, id: 'info@shop.example' },
    { kind: 'script' as const, id: '/home/shop/public_html/up/x.php' },
  ],
  attackers: { ips: ['203.0.113.9', '2001:db8:bad:7::1', '2001:db8:bad:7::2'], cidrs: ['2001:db8:bad:7::/64'] },
  hostile_ips: ['203.0.113.200'],
  purge: { senders: ['info@shop.example', 'shop@srv1.hostco.example'], auth_ids: ['info@shop.example', 'shop'] },
  legit: { ips: ['192.0.2.10', '203.0.113.5', '2001:db8:bad:1::5'], mailboxes: ['news@shop.example'], auth_ids: [], senders: [], scripts: [] },
};

describe('detection score (bench/detection/score.mjs)', () => {
  it('a verdict naming every source and only attacker addresses has no legitimate target', () => {
    const s = score(truth, {
      sources: [{ kind: 'mailbox', id: 'INFO@shop.example' }, { kind: 'script', id: '/home/shop/public_html/up/x.php' }],
      ips: ['203.0.113.9', '2001:db8:bad:7::/64', '203.0.113.200'],
      senders: ['info@shop.example'],
      auth_ids: ['info@shop.example'],
      scripts: [{ path: '/home/shop/public_html/up/x.php' }],
    });
    expect(s.sources).toEqual({ total: 2, found: ['info@shop.example', '/home/shop/public_html/up/x.php'], missed: [], kind_mismatch: [] });
    expect(s.legit_targets).toEqual([]);
    expect(s.attackers).toEqual({ total: 3, blocked: 3 });
  });

  it('counts a range holding a legitimate address, a legitimate sender, login, script and source as legitimate targets', () => {
    const s = score(truth, {
      sources: [{ kind: 'mailbox', id: 'news@shop.example' }],
      ips: ['2001:db8:bad::/48', '192.0.2.10', '198.51.100.77'],
      senders: ['news@shop.example'],
      auth_ids: ['news@shop.example'],
      scripts: [{ path: '/home/other/public_html/index.php' }],
    });
    expect(s.sources.missed).toEqual(['mailbox:info@shop.example', 'script:/home/shop/public_html/up/x.php']);
    expect(s.legit_targets.map((l) => `${l.what} ${l.id}`)).toEqual([
      'ip 2001:db8:bad::/48',
      'ip 192.0.2.10',
      'ip 198.51.100.77',
      'sender news@shop.example',
      'auth_id news@shop.example',
      'script /home/other/public_html/index.php',
      'source news@shop.example',
    ]);
    expect(s.legit_targets[0]!.why).toMatch(/range holds 1 legitimate address \(2001:db8:bad:1::5\)/);
  });

  it('without sources in the verdict, sender/senders stand for mailboxes and scripts for scripts', () => {
    const s = score(truth, { kind: 'mailbox', sender: 'info@shop.example', senders: [], scripts: [], ips: [] });
    expect(s.contract).toEqual({ sources: false, auth_ids: false });
    expect(s.sources.found).toEqual(['info@shop.example']);
    expect(s.legit_targets).toEqual([]);
  });
});

describe('detection runner (bench/detection/run.mjs)', () => {
  let dir: string;
  const run = (...args: string[]) => spawnSync(process.execPath, ['bench/detection/run.mjs', '--corpus', join(dir, 'corpus'), '--json', join(dir, 'out.json'), ...args], { encoding: 'utf8' });

  beforeAll(() => {
    // A one-scenario corpus whose truth names a source the log never shows: recall 0 whatever
    // the verdict is, so --strict must fail and a plain run must not.
    dir = mkdtempSync(join(tmpdir(), 'runbook-detection-run-'));
    const sc = join(dir, 'corpus', 'tiny');
    mkdirSync(sc, { recursive: true });
    writeFileSync(
      join(sc, 'exim_mainlog'),
      [
        '2026-12-07 08:00:00 1xaSCH-0003iB-27 <= anna@shop.example H=(laptop) [198.51.100.7]:50122 P=esmtpa A=dovecot_login:anna@shop.example S=900 T="Hello" for a@remote.example',
        '2026-12-07 08:00:01 1xaSCH-0003iB-27 => a@remote.example R=lookuphost T=remote_smtp H=mx.remote.example [198.51.100.250]',
        '2026-12-07 08:00:01 1xaSCH-0003iB-27 Completed',
        '',
      ].join('\n'),
    );
    writeFileSync(join(sc, 'maillog'), '');
    writeFileSync(
      join(sc, 'truth.json'),
      JSON.stringify({
        name: 'tiny', class: 9, args: ['--since', '24h'],
        sources: [{ kind: 'mailbox', id: 'ghost@shop.example' }],
        attackers: { ips: [], cidrs: [] }, hostile_ips: [], purge: { senders: [], auth_ids: [] },
        legit: { ips: ['198.51.100.7'], mailboxes: ['anna@shop.example'], auth_ids: [], senders: [], scripts: [] },
        files: { mainlog: 'exim_mainlog', maillog: 'maillog', spool: null, domlogs: null },
      }),
    );
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints per scenario what was missed and the totals, and exits 0 without --strict', () => {
    const r = run();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('tiny (class 9): sources 0/1');
    expect(r.stdout).toContain('missed: mailbox:ghost@shop.example');
    expect(r.stdout).toMatch(/TOTAL: recall of sources 0\/1 \(0\.0%\)/);
    const doc = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as { totals: { recall: number; sources: number } };
    expect(doc.totals).toMatchObject({ recall: 0, sources: 1 });
  });

  it('exits 1 under --strict when a target is not met, 0 when the targets are lowered', () => {
    const strict = run('--strict');
    expect(strict.status).toBe(1);
    expect(strict.stdout).toContain('STRICT: target not met');
    expect(run('--strict', '--min-recall', '0', '--max-legit', '1000').status).toBe(0);
    expect(run('--min-recall', '2').status).toBe(2);
  });
});
