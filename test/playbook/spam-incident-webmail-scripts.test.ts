import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimHost } from '../../fixtures/sim/host.mjs';
import { failingScriptLogs, failingScriptSpool, FORM_DIR, SCRIPT_BOT, SHOP_SENDER, SPAM_DIR, webmailFloodHour, webmailLogin } from '../investigate/incident-logs.js';
import { HOUR, SmallLogs, T0 } from '../investigate/small-logs.js';
import { runCli } from '../cli/run-cli.js';

/**
 * The shipped playbook's dry-run for what Exim's own view hides: a mailbox flooding 600
 * distinct recipients in one hour through webmail (127.0.0.1; the attacker is in cpsrvd's
 * session_log), next to a customer's newsletter sent the same way by its owner, and a script
 * whose mail mostly fails, 30 messages, sharing its sender with the site's contact form.
 */
interface PlanStep {
  step: string;
  params: Record<string, unknown>;
  summary: string;
  skipped?: string;
}

const FLOOD = 'info@victim.test';
const NEWS = 'news@bakery.test';
const OFFICE = '198.51.100.71';
const BAKERY = '198.51.100.73';
const ATTACKER = '45.33.120.9';

function incidentLogs(session: string[]): SmallLogs {
  const logs = new SmallLogs();
  for (const [mailbox, office] of [[FLOOD, OFFICE], [NEWS, BAKERY]] as const) {
    session.push(webmailLogin(T0 + 8 * HOUR + 600, office, mailbox));
    for (let h = 9; h < 17; h += 2) {
      const id = logs.smtp(T0 + h * HOUR, { sender: mailbox, ip: '127.0.0.1', authId: mailbox, subject: `Re: order ${h}`, rcpts: ['client@remote.test'], helo: 'localhost' });
      logs.outcome(T0 + h * HOUR + 1, id, '=>', 'client@remote.test');
    }
    logs.imap(T0 + 8 * HOUR, mailbox, office);
  }
  // The attacker logs in to info@'s webmail, the owner too; the bakery's owner sends its newsletter.
  session.push(webmailLogin(T0 + 19 * HOUR + 2400, ATTACKER, FLOOD));
  session.push(webmailLogin(T0 + 20 * HOUR + 600, OFFICE, FLOOD));
  webmailFloodHour(logs, FLOOD, T0 + 20 * HOUR, 'Your invoice is attached', 'p');
  session.push(webmailLogin(T0 + 17 * HOUR + 3000, BAKERY, NEWS));
  webmailFloodHour(logs, NEWS, T0 + 18 * HOUR, 'Bakery news: winter menu', 'b');
  failingScriptLogs(logs);
  return logs;
}

const bases: string[] = [];
afterAll(() => {
  for (const b of bases) rmSync(b, { recursive: true, force: true });
});

/** The plan on a simulated host staged with the incident; `webmailLog` false: its session_log is not there. */
async function planOf(webmailLog: boolean): Promise<{ root: string; plan: PlanStep[] }> {
  const base = mkdtempSync(join(tmpdir(), 'runbook-webmail-scripts-plan-'));
  bases.push(base);
  const root = join(base, 'root');
  const info = createSimHost({
    root,
    accounts: [
      { user: 'victimco', uid: 1301, domains: ['victim.test'], mailboxes: [{ address: FLOOD, password: 'Old-pass-123-xyz' }] },
      { user: 'bakeryco', uid: 1302, domains: ['bakery.test'], mailboxes: [{ address: NEWS, password: 'Old-pass-123-xyz' }] },
      { user: 'zzfailshop', uid: 1303, domains: ['zzfailshop.test'], mailboxes: [] },
    ],
  });
  const session: string[] = [];
  const files = incidentLogs(session).write(base);
  // The host's homes are under its root: the log names them there.
  writeFileSync(info.mainlog, readFileSync(files.mainlog, 'utf8').replaceAll('cwd=/home', `cwd=${root}/home`));
  const maillog = join(root, 'var/log/maillog');
  copyFileSync(files.maillog, maillog);
  const sessionLog = join(root, 'usr/local/cpanel/logs/session_log');
  mkdirSync(join(sessionLog, '..'), { recursive: true });
  if (webmailLog) writeFileSync(sessionLog, `${session.sort().join('\n')}\n`);
  failingScriptSpool(info.spoolDir);
  // The script and the contact form exist where the log says they ran.
  mkdirSync(join(root, SPAM_DIR), { recursive: true });
  writeFileSync(join(root, SPAM_DIR, 'x9.php'), '<?php // mailer\n');
  writeFileSync(join(root, FORM_DIR, 'contact.php'), '<?php // contact form\n');
  const inventory = join(base, 'inventory.json');
  writeFileSync(inventory, JSON.stringify({
    hosts: { mail1: { hostname: 'local', tools: info.tools, layout: { ...info.layout, homeRoots: [join(root, 'home')], lockDir: join(root, 'var/sim/runbook.lock'), maillog, webmailLogs: [sessionLog] }, vars: { allow_documentation_ips: true } } },
  }));
  const r = await runCli(['apply', 'playbooks/spam-incident.yml', '-i', inventory, '--dry-run', '--json', '--var', 'since=48h', '--audit-dir', join(base, 'audit')], { env: info.env, timeoutMs: 300_000 });
  expect(r.code, r.stderr).toBe(0);
  return { root, plan: (JSON.parse(r.stdout) as { plan: PlanStep[] }).plan };
}

describe('spam-incident dry-run: a flood through webmail and a script whose mail mostly fails', () => {
  let root: string;
  let plan: PlanStep[];
  beforeAll(async () => {
    ({ root, plan } = await planOf(true));
  }, 320_000);

  const steps = (id: string): PlanStep[] => plan.filter((s) => s.step === id && s.skipped === undefined);

  it('resets the mailbox flooded through webmail, never the newsletter\'s', () => {
    expect(steps('reset_password').map((s) => s.params['email'])).toEqual([FLOOD]);
    expect(steps('purge_auth').map((s) => s.params['auth_id'])).toEqual([FLOOD]);
  });

  it('blocks the address that logged in to its webmail and the script\'s client, no office', () => {
    expect(steps('block').map((s) => s.params['ip'] as string).sort()).toEqual([ATTACKER, SCRIPT_BOT].sort());
  });

  it('disables the failing script, not the contact form sharing its sender', () => {
    expect(steps('disable_scripts').map((s) => s.params['path'])).toEqual([join(root, SPAM_DIR, 'x9.php')]);
  });

  it('purges the script\'s sender and the flooded mailbox, never the newsletter', () => {
    const purged = steps('purge').map((s) => s.params['sender']);
    expect(purged).toContain(SHOP_SENDER);
    expect(purged).toContain(FLOOD);
    expect(purged).not.toContain(NEWS);
  });

  it('the gate names both sources, never the newsletter', () => {
    const gate = steps('gate')[0]!.params['message'] as string;
    expect(gate).toContain(FLOOD);
    expect(gate).toContain('x9.php');
    expect(gate).not.toContain(NEWS);
  });
});

describe('spam-incident dry-run: the same without the host\'s webmail log', () => {
  let root: string;
  let plan: PlanStep[];
  beforeAll(async () => {
    ({ root, plan } = await planOf(false));
  }, 320_000);
  const steps = (id: string): PlanStep[] => plan.filter((s) => s.step === id && s.skipped === undefined);

  // With a day of history, the attack and the newsletter look alike without the logins: both
  // are named for a look, neither is acted on.
  it('resets, purges and blocks nothing for the floods it cannot tell apart, names both for a look and still contains the script', () => {
    expect(steps('reset_password')).toEqual([]);
    expect(steps('purge_auth')).toEqual([]);
    expect(steps('purge').map((s) => s.params['sender'])).toEqual([SHOP_SENDER]);
    expect(steps('block').map((s) => s.params['ip'])).toEqual([SCRIPT_BOT]);
    expect(steps('disable_scripts').map((s) => s.params['path'])).toEqual([join(root, SPAM_DIR, 'x9.php')]);
    const gate = steps('gate')[0]!.params['message'] as string;
    expect(gate).toContain(`needs a look: ${FLOOD}, ${NEWS} (not flagged, see review)`);
    expect(gate).toContain('INCOMPLETE');
  });
});
