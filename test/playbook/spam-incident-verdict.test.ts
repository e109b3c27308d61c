import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimHost } from '../../fixtures/sim/host.mjs';
import { messageId, writeSpoolMessage, type SpoolMessageSpec } from '../../fixtures/sim/lib/spool.mjs';
import { runCli } from '../cli/run-cli.js';
import { EXPECT, SERVER_IP, writeRealisticIncident } from '../investigate/realistic-incident.js';

/**
 * The shipped playbook's dry-run on a host with ordinary traffic around an incident: what it
 * would reset, suspend, purge and block comes from the verdict, and none of it touches the
 * owners, the server, cron, cPanel's notices or the newsletter.
 */
interface PlanStep {
  step: string;
  action: string;
  params: Record<string, unknown>;
  summary: string;
  /** argv of each command. */
  commands: string[][];
}

describe('spam-incident dry-run on a realistic incident', () => {
  let base: string;
  let plan: PlanStep[];
  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'runbook-incident-plan-'));
    const root = join(base, 'root');
    const info = createSimHost({
      root,
      accounts: [
        { user: 'aliceco', uid: 1101, domains: ['example.test'], mailboxes: [{ address: EXPECT.alice, password: 'Old-pass-123-xyz' }] },
        { user: 'bobco', uid: 1102, domains: ['other.test'], mailboxes: [{ address: EXPECT.bob, password: 'Old-pass-123-xyz' }] },
        { user: 'shopuser', uid: 1103, domains: ['shop.example.test'], mailboxes: [] },
      ],
    });
    const logs = writeRealisticIncident(base);
    copyFileSync(logs.mainlog, info.mainlog);
    const maillog = join(root, 'var/log/maillog');
    copyFileSync(logs.maillog, maillog);
    // The queue: the attackers' mail as alice (forged senders too) and as the account, next to
    // the newsletter and cron mail that must stay.
    let t = Date.UTC(2026, 11, 7, 6) / 1000;
    const queue = (m: Pick<SpoolMessageSpec, 'login' | 'sender' | 'protocol'> & Partial<SpoolMessageSpec>): void => {
      writeSpoolMessage(info.spoolDir, { id: messageId(t, 100 + (t % 1000)), time: t, uid: 1101, gid: 1101, recipients: ['v@victims.test'], headers: [['Subject', 'Invoice']], body: 'x\n', ...m });
      t++;
    };
    const smtp = { login: 'mailnull', protocol: 'esmtpa', authenticator: 'dovecot_login', hostPort: 4000, helo: 'User' };
    for (let i = 0; i < 6; i++) queue({ ...smtp, sender: `billing${i}@random.test`, authId: EXPECT.alice, hostAddress: EXPECT.aliceAttackers[0] });
    for (let i = 0; i < 4; i++) queue({ ...smtp, sender: EXPECT.alice, authId: EXPECT.alice, hostAddress: EXPECT.aliceNetwork[0] });
    for (let i = 0; i < 3; i++) queue({ ...smtp, sender: `x${i}@shop.example.test`, authId: EXPECT.account, hostAddress: EXPECT.accountAttacker });
    for (let i = 0; i < 3; i++) queue({ login: 'shopuser', sender: EXPECT.newsletter, protocol: 'local', authId: 'shopuser' });
    for (let i = 0; i < 2; i++) queue({ login: 'root', sender: EXPECT.cron, protocol: 'local', authId: 'root' });
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

  it('resets both compromised mailboxes and suspends the cPanel account, not its mailboxes', () => {
    expect(steps('reset_password').map((s) => s.params['email'])).toEqual([EXPECT.alice, EXPECT.bob]);
    expect(steps('suspend_account').map((s) => s.params['user'])).toEqual([EXPECT.account]);
    expect(steps('suspend_account')[0]!.commands[0]!.slice(1)).toEqual(['--output=json', 'suspend_outgoing_email', `user=${EXPECT.account}`]);
  });

  it("purges by the mailboxes' addresses and by every AUTH id, never the newsletter's or cron's mail", () => {
    expect(steps('purge').map((s) => s.params['sender'])).toEqual([EXPECT.alice, EXPECT.bob]);
    const byAuth = steps('purge_auth');
    expect(byAuth.map((s) => s.params['auth_id'])).toEqual([EXPECT.alice, EXPECT.bob, EXPECT.account]);
    // Forged envelope senders of alice's sessions are reached through her AUTH id.
    expect(byAuth[0]!.summary).toMatch(/remove 10 of 18 queued messages from auth id alice@example\.test/);
    // The account's SMTP logins only: its newsletter and cron's mail (local, Unix login as auth id) stay.
    expect(byAuth[2]!.summary).toMatch(/remove 3 of 18 queued messages from auth id shopuser/);
    const removed = plan.flatMap((s) => s.commands.filter((c) => c.includes('-Mrm')).flatMap((c) => c.slice(2)));
    expect(removed).toHaveLength(4 + 10 + 3);
  });

  it('blocks every attacker (prefixes where a network is all attackers) and no owner or server address', () => {
    const blocked = steps('block').map((s) => s.params['ip'] as string);
    expect(blocked).toHaveLength(EXPECT.aliceAttackers.length + 2 + EXPECT.bobAttackers.length + 1);
    expect(blocked).toContain(EXPECT.aliceV6Block);
    expect(blocked).toContain(EXPECT.aliceNetworkBlock);
    for (const ip of [EXPECT.aliceOffice, EXPECT.alicePhone, EXPECT.bobHome, SERVER_IP, '127.0.0.1']) expect(blocked).not.toContain(ip);
    expect(steps('block').find((s) => s.params['ip'] === EXPECT.aliceV6Block)!.commands[0]!.slice(1, 3)).toEqual(['-d', EXPECT.aliceV6Block]);
  });

  it("the gate names every source", () => {
    const gate = steps('gate')[0]!.params['message'] as string;
    for (const who of [EXPECT.alice, EXPECT.bob, `account ${EXPECT.account}`]) expect(gate).toContain(who);
  });
});
