import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { score } from '../../bench/detection/score.mjs';
import { generateBlindCorpus } from '../../fixtures/scenarios-blind/generate.mjs';
import type { GeneratedScenario } from '../../fixtures/scenarios/generate.mjs';
import { createSimHost } from '../../fixtures/sim/host.mjs';
import { runCli } from '../cli/run-cli.js';

/**
 * The shipped playbook's dry-run on a simulated host staged with a scenario of the blind corpus
 * (fixtures/scenarios-blind: built from the references, apart from the verdict's rules), one
 * per class of the issue: what it would reset, suspend, disable, purge and block is scored like
 * the detection bench scores a verdict — every source contained, nothing legitimate touched.
 */
interface PlanStep {
  step: string;
  params: Record<string, unknown>;
  /** Why a step would not run (a false `when`, an empty `foreach`). */
  skipped?: string;
}

const ONE_PER_CLASS = [
  'botnet-on-sales-mailbox', // 1 owner or attacker
  'own-addresses-in-log', // 2 the server itself
  'cloudflare-site-mailer', // 3 proxies
  'index-php-of-another-account', // 4 the wrong script
  'two-mailboxes-and-an-account', // 5 several sources
  'forged-envelope-senders', // 6 forged envelope senders
  'cpanel-account-login', // 7 an account login
  'internal-and-idless-logins', // 8 logins that are not mailboxes
  'common-subjects-heavy-sales', // 9 legitimate mail only
  'stuffing-fourteen-mailboxes', // 10 blind spots
];

/** Copies a directory's files into a split spool (input/<6th character of the id>/). */
function stageSpool(from: string, spoolDir: string): void {
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
  for (const f of walk(from)) {
    const sub = join(spoolDir, 'input', basename(f)[5]!);
    mkdirSync(sub, { recursive: true });
    copyFileSync(f, join(sub, basename(f)));
  }
}

describe('spam-incident dry-run on the blind corpus, one scenario per class', () => {
  let base: string;
  let corpus: GeneratedScenario[];
  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'runbook-blind-plan-'));
    // The scenarios end a minute ago: the simulated host's real Exim logs its own commands now,
    // and the playbook's window counts back from the newest line, as on a live server.
    corpus = generateBlindCorpus(join(base, 'corpus'), { only: ONE_PER_CLASS, end: Date.now() / 1000 - 60 });
  }, 120_000);
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  for (const name of ONE_PER_CLASS) {
    it(`${name}: the plan contains every source and nothing legitimate`, async () => {
      const s = corpus.find((c) => c.name === name)!;
      const root = join(base, `root-${name}`);
      const server = (s.truth as unknown as { server: { accounts: { user: string; domain: string; mailboxes: string[] }[] } }).server;
      const accounts = server.accounts.map((a, i) => ({ user: a.user, uid: 2000 + i, domains: [a.domain], mailboxes: a.mailboxes.map((address) => ({ address, hash: '$6$blind$unused' })) }));
      const info = createSimHost({ root, accounts, serverIps: ['198.51.100.20', '198.51.100.21'] });
      // The host's homes are under its root: the log names them there.
      writeFileSync(info.mainlog, readFileSync(join(s.dir, s.truth.files.mainlog), 'utf8').replaceAll('cwd=/home', `cwd=${root}/home`));
      const maillog = join(root, 'var/log/maillog');
      copyFileSync(join(s.dir, s.truth.files.maillog), maillog);
      if (s.truth.files.spool !== null) stageSpool(join(s.dir, s.truth.files.spool), info.spoolDir);
      const layout: Record<string, unknown> = { ...info.layout, homeRoots: [join(root, 'home'), join(root, 'home2')], lockDir: join(root, 'var/sim/runbook.lock'), maillog };
      if (s.truth.files.domlogs !== null && typeof info.layout.domlogsDir === 'string') {
        mkdirSync(info.layout.domlogsDir, { recursive: true });
        cpSync(join(s.dir, s.truth.files.domlogs), info.layout.domlogsDir, { recursive: true });
      }
      // Scripts exist where the log says they ran (the host's directory listing checks that).
      for (const src of s.truth.sources.filter((x) => x.kind === 'script')) {
        const file = join(root, src.id);
        mkdirSync(join(file, '..'), { recursive: true });
        if (!existsSync(file)) writeFileSync(file, '<?php // sender\n');
      }
      const inventory = join(base, `inventory-${name}.json`);
      writeFileSync(inventory, JSON.stringify({ hosts: { mail1: { hostname: 'local', tools: info.tools, layout, vars: { allow_documentation_ips: true } } } }));
      const since = s.truth.args[s.truth.args.indexOf('--since') + 1] ?? '24h';
      const r = await runCli(['apply', 'playbooks/spam-incident.yml', '-i', inventory, '--dry-run', '--json', '--var', `since=${since}`, '--audit-dir', join(base, `audit-${name}`)], { env: info.env, timeoutMs: 300_000 });
      expect(r.code, r.stderr).toBe(0);
      const plan = (JSON.parse(r.stdout) as { plan: PlanStep[] }).plan;
      const param = (step: string, key: string): string[] => plan.filter((p) => p.step === step && p.skipped === undefined).map((p) => String(p.params[key]));
      const scripts = param('disable_scripts', 'path').map((p) => (p.startsWith(root) ? p.slice(root.length) : p));
      // The plan as a verdict: what it resets, suspends and disables are its sources.
      const planned = {
        sources: [...param('reset_password', 'email').map((id) => ({ kind: 'mailbox', id })), ...param('suspend_account', 'user').map((id) => ({ kind: 'account', id })), ...scripts.map((id) => ({ kind: 'script', id }))],
        ips: param('block', 'ip'),
        senders: param('purge', 'sender'),
        auth_ids: param('purge_auth', 'auth_id'),
        scripts: scripts.map((path) => ({ path })),
      };
      const sc = score(s.truth, planned);
      expect(sc.sources.missed, JSON.stringify(planned)).toEqual([]);
      expect(sc.legit_targets, JSON.stringify(planned)).toEqual([]);
      for (const id of s.truth.sources.filter((x) => x.kind !== 'script').map((x) => x.id)) expect(planned.auth_ids).toContain(id);
    }, 320_000);
  }
});
