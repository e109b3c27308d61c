import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resetDemoHost } from '../../src/hosts/demo.js';
import { runCommand } from '../support/exim.js';
import { runCli } from './run-cli.js';

const KEYS = [
  'maxemailsperhour',
  'email_send_limits_max_defer_fail_percentage',
  'email_outbound_spam_detect_enable',
  'email_outbound_spam_detect_action',
  'nobodyspam',
  'smtpmailgidonly',
  'eximmailtrap',
];

const bases: string[] = [];
afterAll(() => {
  for (const base of bases) rmSync(base, { recursive: true, force: true });
});

async function freshDemo() {
  const base = mkdtempSync(join(tmpdir(), 'runbook-harden-'));
  bases.push(base);
  const root = join(base, 'state', 'runbook', 'demo');
  await resetDemoHost(root);
  return { root, env: { XDG_STATE_HOME: join(base, 'state') }, auditDir: join(base, 'audit') };
}

/** Every tweak setting as whmapi1 reports it (undefined = unset), and csf.conf's bytes. */
async function settings(root: string): Promise<{ tweaks: Record<string, string | undefined>; csf: string }> {
  const tweaks: Record<string, string | undefined> = {};
  for (const key of KEYS) {
    const r = await runCommand([join(root, 'usr/local/cpanel/bin/whmapi1'), '--output=json', 'get_tweaksetting', `key=${key}`]);
    tweaks[key] = (JSON.parse(r.stdout) as { data: { tweaksetting: { value?: string } } }).data.tweaksetting.value;
  }
  return { tweaks, csf: readFileSync(join(root, 'etc/csf/csf.conf'), 'utf8') };
}

// Each test starts the CLI several times on a busy machine.
describe('runbook harden on the demo host', { timeout: 180_000 }, () => {
  it('--check lists the unsafe defaults with the exact change and changes nothing', async () => {
    const demo = await freshDemo();
    const before = await settings(demo.root);
    const r = await runCli(['harden', '--check', '--host', 'demo', '--audit-dir', demo.auditDir], { env: demo.env });
    expect(r.code, r.stderr).toBe(0);
    const text = r.stdout.replace(/\s+/g, ' ');
    expect(text).toContain('4 setting(s) to tighten');
    expect(text).toContain('maxemailsperhour unset → "500"');
    expect(text).toContain('Change: whmapi1 set_tweaksetting key=maxemailsperhour value=500');
    expect(text).toContain('email_send_limits_max_defer_fail_percentage unset → "25"');
    expect(text).toContain('email_outbound_spam_detect_action "noaction" → "hold"');
    expect(text).toContain('LF_SCRIPT_ALERT "0" → "1"');
    expect(await settings(demo.root)).toEqual(before);

    const json = await runCli(['harden', '--check', '--host', 'demo', '--json', '--audit-dir', demo.auditDir], { env: demo.env });
    expect(json.code, json.stderr).toBe(0);
    const plan = (JSON.parse(json.stdout) as { plan: Array<{ action: string; summary: string }> }).plan;
    expect(plan).toHaveLength(1);
    expect(plan[0]).toMatchObject({ action: 'harden.check', summary: expect.stringContaining('maxemailsperhour unset → "500"') });

    const usage = await runCli(['harden', '--host', 'demo'], { env: demo.env });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/add --check.*runbook apply playbooks\/harden\.yml/s);
  });

  it('applying playbooks/harden.yml sets every value, and runbook undo restores every one', async () => {
    const demo = await freshDemo();
    const before = await settings(demo.root);
    const applied = await runCli(['apply', 'playbooks/harden.yml', '--host', 'demo', '--yes', '--audit-dir', demo.auditDir], { env: demo.env });
    expect(applied.code, applied.stderr + applied.stdout).toBe(0);
    const after = await settings(demo.root);
    expect(after.tweaks).toEqual({ ...before.tweaks, maxemailsperhour: '500', email_send_limits_max_defer_fail_percentage: '25', email_outbound_spam_detect_action: 'hold' });
    expect(after.csf).toBe(before.csf.replace('LF_SCRIPT_ALERT = "0"', 'LF_SCRIPT_ALERT = "1"'));

    const again = await runCli(['harden', '--check', '--host', 'demo', '--audit-dir', demo.auditDir], { env: demo.env });
    expect(again.stdout).toContain('nothing to tighten');


    const log = readdirSync(demo.auditDir).find((f) => /Z-harden-\d+\.jsonl$/.test(f))!;
    const undone = await runCli(['undo', join(demo.auditDir, log), '--yes', '--audit-dir', demo.auditDir], { env: demo.env });
    expect(undone.code, undone.stderr + undone.stdout).toBe(0);
    expect(await settings(demo.root)).toEqual(before);
  });

  it('names the spam sources earlier runs in the same audit directory found', async () => {
    const demo = await freshDemo();
    const incident = await runCli(['apply', 'playbooks/spam-incident.yml', '--host', 'demo', '--dry-run', '--audit-dir', demo.auditDir], { env: demo.env });
    expect(incident.code, incident.stderr).toBe(0);
    const withPast = await runCli(['harden', '--check', '--host', 'demo', '--audit-dir', demo.auditDir], { env: demo.env });
    expect(withPast.code, withPast.stderr).toBe(0);
    expect(withPast.stdout).toContain('Spam sources found by earlier runs');
    expect(withPast.stdout).toMatch(/demo: mailbox info@shop\.example\.test \(1 run\(s\)/);
    expect(withPast.stdout).toMatch(/demo: script \S+\/home\/shopuser\/public_html\/\S+\.php \(account shopuser, 1 run\(s\)/);
  }, 180_000);

  it('--var skip leaves the named settings alone', async () => {
    const demo = await freshDemo();
    const before = await settings(demo.root);
    const applied = await runCli(['apply', 'playbooks/harden.yml', '--host', 'demo', '--yes', '--var', 'skip=maxemailsperhour,LF_SCRIPT_ALERT', '--audit-dir', demo.auditDir], { env: demo.env });
    expect(applied.code, applied.stderr + applied.stdout).toBe(0);
    const after = await settings(demo.root);
    expect(after.tweaks['maxemailsperhour']).toBeUndefined();
    expect(after.tweaks['email_outbound_spam_detect_action']).toBe('hold');
    expect(after.csf).toBe(before.csf);
  });
});
