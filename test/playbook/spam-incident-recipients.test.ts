import { appendFileSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimHost } from '../../fixtures/sim/host.mjs';
import { messageId, writeSpoolMessage, type SpoolMessageSpec } from '../../fixtures/sim/lib/spool.mjs';
import { runCli } from '../cli/run-cli.js';
import { HOUR, SmallLogs, T0 } from '../investigate/small-logs.js';

/**
 * The shipped playbook's dry-run for the classes found by distinct recipients per hour and by a
 * login's failures: a mailbox sending 600 distinct recipients in one hour, a login sending with
 * forged envelope senders to a harvested list, and next to them a customer's newsletter of 600
 * distinct recipients in an hour from its office, which must stay untouched. A fourth mailbox
 * peaks at 400 in an hour: under cPanel's default, over its account's own threshold (300).
 */
interface PlanStep {
  step: string;
  action: string;
  params: Record<string, unknown>;
  summary: string;
  commands: string[][];
}

const FLOOD = 'lea@print.test';
const FORGED = 'max@farm.test';
const NEWS = 'news@bakery.test';
const OWN_LIMIT = 'ola@shop.test';
const OWN_LIMIT_BOT = '45.33.96.1';
const FLOOD_BOTS = ['45.33.80.1', '45.33.81.1', '45.33.82.1'];
const FORGED_BOTS = ['45.33.93.1', '45.33.94.1'];
const OFFICES = { [FLOOD]: '198.51.100.71', [FORGED]: '198.51.100.72', [NEWS]: '198.51.100.73', [OWN_LIMIT]: '198.51.100.74' };

function incidentLogs(): SmallLogs {
  const logs = new SmallLogs();
  // Owners writing and reading mail from their offices.
  for (const [mailbox, office] of Object.entries(OFFICES)) {
    for (let h = 8; h < 18; h += 2) {
      const id = logs.smtp(T0 + h * HOUR + 120, { sender: mailbox, ip: office, authId: mailbox, subject: `Quote ${h}`, rcpts: ['client@remote.test'] });
      logs.outcome(T0 + h * HOUR + 121, id, '=>', 'client@remote.test');
      logs.imap(T0 + h * HOUR + 60, mailbox, office);
    }
  }
  // 600 distinct recipients in an hour: lea's from a botnet, the bakery's newsletter from its office.
  for (const [mailbox, ips, at] of [[FLOOD, FLOOD_BOTS, T0 + 20 * HOUR], [NEWS, [OFFICES[NEWS]], T0 + 18 * HOUR]] as const) {
    for (let i = 0; i < 60; i++) {
      const t = at + i * 55;
      const rcpts = Array.from({ length: 10 }, (_, k) => `p${i}-${k}@${mailbox.split('@')[1]!.split('.')[0]}-list.test`);
      const id = logs.smtp(t, { sender: mailbox, ip: ips[i % ips.length]!, authId: mailbox, subject: mailbox === NEWS ? 'Bakery news' : 'Your invoice', rcpts, helo: mailbox === NEWS ? 'OFFICE-PC' : 'User' });
      for (const r of rcpts) logs.outcome(t + 1, id, '=>', r);
    }
  }
  // Ola's: 400 distinct recipients in one hour, 150 more the hour after (550 in the window).
  for (let i = 0; i < 55; i++) {
    const t = T0 + 19 * HOUR + (i < 40 ? i * 80 : 3600 + (i - 40) * 200);
    const rcpts = Array.from({ length: 10 }, (_, k) => `o${i}-${k}@shop-list.test`);
    const id = logs.smtp(t, { sender: OWN_LIMIT, ip: OWN_LIMIT_BOT, authId: OWN_LIMIT, subject: 'Document shared with you', rcpts, helo: 'User' });
    for (const r of rcpts) logs.outcome(t + 1, id, '=>', r);
  }
  // Max's login with a new forged sender every message: three of four recipients do not exist.
  for (let i = 0; i < 30; i++) {
    const t = T0 + 3 * HOUR + i * 1100;
    const rcpts = [0, 1, 2, 3].map((k) => `f${i}-${k}@harvested.test`);
    const id = logs.smtp(t, { sender: `billing${i}@paypa1-secure.test`, ip: FORGED_BOTS[i % 2]!, authId: FORGED, subject: 'Payment confirmation required', rcpts, helo: 'User' });
    for (const r of rcpts.slice(0, 3)) logs.outcome(t + 1, id, '**', r);
    logs.outcome(t + 1, id, '=>', rcpts[3]!);
  }
  return logs;
}

describe('spam-incident dry-run: distinct recipients per hour and a failing login', () => {
  let base: string;
  let plan: PlanStep[];
  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'runbook-recipients-plan-'));
    const root = join(base, 'root');
    const info = createSimHost({
      root,
      accounts: [
        { user: 'printco', uid: 1201, domains: ['print.test'], mailboxes: [{ address: FLOOD, password: 'Old-pass-123-xyz' }] },
        { user: 'farmco', uid: 1202, domains: ['farm.test'], mailboxes: [{ address: FORGED, password: 'Old-pass-123-xyz' }] },
        { user: 'bakeryco', uid: 1203, domains: ['bakery.test'], mailboxes: [{ address: NEWS, password: 'Old-pass-123-xyz' }] },
        { user: 'shopco', uid: 1204, domains: ['shop.test'], mailboxes: [{ address: OWN_LIMIT, password: 'Old-pass-123-xyz' }] },
      ],
    });
    // cPanel's per-account override of the outbound spam threshold, in its cpuser file.
    appendFileSync(join(info.layout.cpanelUsersDir, 'shopco'), 'EMAIL_OUTBOUND_SPAM_DETECT_THRESHOLD=300\n');
    const files = incidentLogs().write(base);
    copyFileSync(files.mainlog, info.mainlog);
    const maillog = join(root, 'var/log/maillog');
    copyFileSync(files.maillog, maillog);
    // The queue: lea's and max's (forged senders) mail, next to the newsletter's that must stay.
    let t = T0 + 21 * HOUR;
    const queue = (m: Pick<SpoolMessageSpec, 'sender' | 'authId' | 'hostAddress'>): void => {
      writeSpoolMessage(info.spoolDir, { id: messageId(t, 100 + (t % 1000)), time: t, uid: 47, gid: 12, login: 'mailnull', protocol: 'esmtpa', authenticator: 'dovecot_login', hostPort: 4000, helo: 'User', recipients: ['v@victims.test'], headers: [['Subject', 'x']], body: 'x\n', ...m });
      t++;
    };
    for (let i = 0; i < 4; i++) queue({ sender: FLOOD, authId: FLOOD, hostAddress: FLOOD_BOTS[0]! });
    for (let i = 0; i < 3; i++) queue({ sender: `billing${90 + i}@paypa1-secure.test`, authId: FORGED, hostAddress: FORGED_BOTS[0]! });
    for (let i = 0; i < 5; i++) queue({ sender: NEWS, authId: NEWS, hostAddress: OFFICES[NEWS] });
    const inventory = join(base, 'inventory.json');
    writeFileSync(inventory, JSON.stringify({
      hosts: { mail1: { hostname: 'local', tools: info.tools, layout: { ...info.layout, lockDir: join(root, 'var/sim/runbook.lock'), maillog }, vars: { allow_documentation_ips: true } } },
    }));
    const r = await runCli(['apply', 'playbooks/spam-incident.yml', '-i', inventory, '--dry-run', '--json', '--var', 'since=48h', '--audit-dir', join(base, 'audit')], { env: info.env, timeoutMs: 300_000 });
    expect(r.code, r.stderr).toBe(0);
    plan = (JSON.parse(r.stdout) as { plan: PlanStep[] }).plan;
  }, 320_000);
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  const steps = (id: string): PlanStep[] => plan.filter((s) => s.step === id);

  it('resets the compromised mailboxes, never the newsletter\'s; ola\'s for its account\'s own threshold', () => {
    expect(steps('reset_password').map((s) => s.params['email'])).toEqual([FLOOD, OWN_LIMIT, FORGED]);
  });

  it('purges their queued mail by login (the forged senders too), and none of the newsletter\'s', () => {
    expect(steps('purge_auth').map((s) => s.params['auth_id'])).toEqual([FLOOD, OWN_LIMIT, FORGED]);
    expect(steps('purge_auth')[2]!.summary).toMatch(/remove 3 of 12 queued messages from auth id max@farm\.test/);
    expect(steps('purge').map((s) => s.params['sender'])).not.toContain(NEWS);
    const removed = plan.flatMap((s) => s.commands.filter((c) => c.includes('-Mrm')).flatMap((c) => c.slice(2)));
    expect(new Set(removed).size).toBe(4 + 3);
  });

  it('blocks both botnets and no office', () => {
    const blocked = steps('block').map((s) => s.params['ip'] as string).sort();
    expect(blocked).toEqual([...FLOOD_BOTS, ...FORGED_BOTS, OWN_LIMIT_BOT].sort());
  });

  it('the gate names every source, never the newsletter', () => {
    const gate = steps('gate')[0]!.params['message'] as string;
    for (const who of [FLOOD, FORGED, OWN_LIMIT]) expect(gate).toContain(who);
    expect(gate).not.toContain(NEWS);
  });
});
