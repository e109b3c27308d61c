import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/records.js';
import { verifyAuditLog } from '../../src/audit/verify.js';
import { createResponder } from '../../src/watch/respond.js';
import type { ResponseConfig, Trigger } from '../../src/watch/types.js';
import { runPasted, startHook } from '../support/operator.js';
import { requireExim, startEximHost, type EximTestHost } from '../support/exim.js';

function records(path: string): AuditRecord[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
}

function trigger(rule: string, kind: Trigger['key']['kind'], value: string, inputs: Record<string, string>): Trigger {
  return {
    id: `${rule}:${kind}:${value}:2026-12-07T15`,
    rule,
    key: { kind, value },
    observed: { metric: 'unique_recipients', value: 612, threshold: 500, windowSeconds: 3600 },
    firstSeen: '2026-12-07T15:02:11Z',
    trippedAt: '2026-12-07T15:40:03Z',
    evidence: ['2026-12-07 15:40:03 1abc-000001-AB <= spam <script> line'],
    inputs,
  };
}

/**
 * The watcher's responder against a simulated cPanel host whose queue is Debian's real Exim:
 * containment runs unattended (only reversible steps), a local webhook receives the report
 * and the approve command, and that command, pasted into a shell, finishes the incident.
 */
// Each test runs the built CLI two or three times against real Exim: minutes on a loaded machine.
describe.runIf(requireExim())('unattended response to a trigger', { timeout: 240_000 }, () => {
  let host: EximTestHost;
  let base: string;
  let inventory: string;
  let hook: Awaited<ReturnType<typeof startHook>>;
  let refusing: Awaited<ReturnType<typeof startHook>>;
  const env = () => ({ XDG_STATE_HOME: join(base, 'state') });
  const config = (extra: Partial<ResponseConfig> = {}): ResponseConfig => ({
    containPlaybook: 'playbooks/watch-contain.yml',
    finishPlaybook: 'playbooks/watch-finish.yml',
    holdFor: '4h',
    auditDir: join(base, 'audit'),
    notify: [`webhook:${hook.url}/incident`],
    host: 'mail1',
    inventory,
    ...extra,
  });
  const fastRetries = { attach: { env: { HOME: '/nonexistent' }, credentialsFile: '', attempts: 2, sleep: async () => {} } };
  const shadow = () => readFileSync(join(host.root, 'home', host.manifest!.cpanelUser, 'etc', host.manifest!.domain, 'shadow'), 'utf8');
  const suspensions = () => {
    const path = join(host.info.layout.emailSendLimitsDir!, 'users', host.manifest!.cpanelUser, 'suspensions.json');
    return existsSync(path) ? readFileSync(path, 'utf8') : '';
  };

  beforeAll(async () => {
    host = await startEximHost({ sizes: { spam: 24, script: 14, legit: 5, bounces: 3, frozen: 2 } });
    base = mkdtempSync(join(tmpdir(), 'runbook-respond-'));
    inventory = join(base, 'inventory.yml');
    writeFileSync(
      inventory,
      JSON.stringify({
        hosts: { mail1: { hostname: 'local', tools: host.info.tools, layout: { ...host.info.layout, lockDir: join(host.root, 'var/sim/runbook.lock') }, vars: { allow_documentation_ips: true } } },
      }),
    );
    const credentials = join(base, 'credentials.yml');
    writeFileSync(credentials, '', { mode: 0o600 });
    fastRetries.attach.credentialsFile = credentials;
    hook = await startHook(200);
    refusing = await startHook(500);
  });
  afterAll(async () => {
    await hook?.stop();
    await refusing?.stop();
    await host?.stop();
  });

  it('holds the mailbox unattended, does nothing irreversible, and the approve command it sends finishes the incident', async () => {
    const m = host.manifest!;
    const queuedBefore = (await host.queueIds()).sort();
    const shadowBefore = shadow();
    const t = trigger('compromised-mailbox', 'auth_id', m.mailbox, { sender: m.mailbox, auth_id: m.mailbox, ip: m.attackerIps[0]! });

    const slackPath = '/services/T0TEST/B0TEST/slackHookSecret4821';
    const outcome = await createResponder(config({ notify: [`webhook:${hook.url}/incident`, `slack:${hook.url}${slackPath}`] }), fastRetries).respond(t, new AbortController().signal);
    expect(outcome.errors).toEqual([]);
    expect(outcome).toMatchObject({ trigger: t.id, status: 'contained', notified: [`webhook ${hook.url}`, `Slack webhook at ${new URL(hook.url).host}`] });

    // The hold happened and the spam already queued is frozen; nothing irreversible did: same
    // password, every message still queued, no CSF entry.
    expect(suspensions()).toContain(m.mailbox.split('@')[0]!);
    expect(shadow()).toBe(shadowBefore);
    expect((await host.queueIds()).sort()).toEqual(queuedBefore);
    const listed = (await host.exim(['-bp'])).stdout;
    const frozen = new Set([...listed.matchAll(/^\s*\d+[mhd]\s+\S*\s+(\S+) <[^>]*> \*\*\* frozen \*\*\*/gm)].map((f) => f[1]));
    expect(m.messages.spammer.filter((id) => !frozen.has(id))).toEqual([]);
    expect(readFileSync(join(host.info.layout.csfDir, 'csf.deny'), 'utf8')).not.toContain(m.attackerIps[0]!);

    // The audit log says it ran unattended, what changed, and that nothing irreversible ran.
    const log = records(outcome.auditLog!);
    expect(log[0]).toMatchObject({ type: 'run.header', unattended: true });
    const finished = log.filter((r) => r.type === 'step.finish');
    expect(finished.map((r) => (r.type === 'step.finish' ? [r.step, r.status] : []))).toEqual([
      ['hold_mailbox', 'changed'],
      ['hold_account', 'skipped'],
      ['freeze_by_login', 'changed'],
      ['freeze_by_sender', 'skipped'],
    ]);
    expect(finished.some((r) => r.type === 'step.finish' && (r.irreversible ?? []).length > 0)).toBe(false);
    expect(log.some((r) => r.type === 'note' && r.message.startsWith('watch: rule compromised-mailbox tripped'))).toBe(true);
    expect((await verifyAuditLog(outcome.auditLog!)).ok).toBe(true);

    // The webhook got the report and the exact command, with the finishing plan's hash.
    expect(hook.received.map((r) => r.url)).toEqual(['/incident', slackPath]);
    const body = JSON.parse(hook.received[0]!.body) as { status: string; pending: { what: string; command: string }; log: { jsonl: string } };
    expect(body.status).toBe('ok');
    expect(body.pending.command).toBe(outcome.approveCommand);
    expect(outcome.approveCommand).toMatch(/^runbook apply \S+\/playbooks\/watch-finish\.yml -i \S+ --host mail1 -e sender=\S+ -e auth_id=\S+ -e ip=\S+ --audit-dir \S+ --approve [0-9a-f]{16,}$/);
    expect(body.pending.what).toContain('reset_password');
    expect(body.log.jsonl).toBe(readFileSync(outcome.auditLog!, 'utf8'));
    const slack = JSON.parse(hook.received[1]!.body) as { text: string; blocks: { text: { text: string } }[] };
    expect(slack.blocks.at(-1)?.text.text).toContain(`\`\`\`${outcome.approveCommand}\`\`\``);
    // The Slack hook URL is its credential: in no log, no outcome, no notification.
    const auditLogs = readdirSync(join(base, 'audit')).filter((f) => f.endsWith('.jsonl')).map((f) => readFileSync(join(base, 'audit', f), 'utf8'));
    for (const sink of [JSON.stringify(outcome), ...auditLogs, ...hook.received.map((r) => r.body)]) expect(sink).not.toContain('slackHookSecret4821');

    // A human pastes it: the password is reset, the spam purged, the attacker blocked.
    const finish = await runPasted(outcome.approveCommand!, env());
    expect(finish.code, finish.stdout + finish.stderr).toBe(0);
    expect(shadow()).not.toBe(shadowBefore);
    const spam = new Set(m.messages.spammer);
    const remaining = await host.queueIds();
    expect(remaining.filter((id) => spam.has(id))).toEqual([]);
    expect(remaining.length).toBeGreaterThan(0);
    expect(readFileSync(join(host.info.layout.csfDir, 'csf.deny'), 'utf8')).toContain(m.attackerIps[0]!);
  });

  it('a notification target that refuses is reported, and the containment stands', async () => {
    const m = host.manifest!;
    const t = trigger('spamming-script', 'directory', m.script.dir, { sender: m.script.sender, account: m.cpanelUser, directory: m.script.dir });
    hook.received.length = 0;
    const outcome = await createResponder(config({ notify: [`webhook:${refusing.url}/broken`, `webhook:${hook.url}/incident`] }), fastRetries).respond(t, new AbortController().signal);

    expect(outcome.status).toBe('contained');
    expect(outcome.notified).toEqual([`webhook ${hook.url}`]);
    expect(outcome.errors).toHaveLength(1);
    expect(outcome.errors[0]).toContain(`webhook ${refusing.url}`);
    expect(outcome.errors[0]).toContain('HTTP 500');
    expect(refusing.received).toHaveLength(2);
    expect(hook.received).toHaveLength(1);
    // The account's outgoing mail is held all the same.
    expect(readFileSync(join(host.root, 'etc/outgoing_mail_suspended_users'), 'utf8').split('\n')).toContain(m.cpanelUser);
    expect(outcome.approveCommand).toMatch(/-e account=\S+ .*--approve [0-9a-f]+$/);
    const frozenIds = async (): Promise<Set<string | undefined>> =>
      new Set([...(await host.exim(['-bp'])).stdout.matchAll(/^\s*\d+[mhd]\s+\S*\s+(\S+) <[^>]*> \*\*\* frozen \*\*\*/gm)].map((f) => f[1]));
    const scriptIds = m.messages.script;
    expect(scriptIds.length).toBeGreaterThan(0);
    const frozenBefore = await frozenIds();
    expect(scriptIds.filter((id) => !frozenBefore.has(id))).toEqual([]);

    // Nobody approves: five hours on (given as --now, not waited for) the expiry lifts the
    // account's hold in an audited run, and leaves the mailbox hold the approval confirmed.
    const later = new Date(Date.now() + 5 * 3_600_000).toISOString();
    const expired = await runPasted(`runbook expire --audit-dir ${join(base, 'audit')} -i ${inventory} --now ${later} --json`, env());
    expect(expired.code, expired.stdout + expired.stderr).toBe(0);
    expect(readFileSync(join(host.root, 'etc/outgoing_mail_suspended_users'), 'utf8').split('\n')).not.toContain(m.cpanelUser);
    expect(suspensions()).toContain(m.mailbox.split('@')[0]!);
    // The script's queued mail was frozen with the same deadline: thawed with the hold.
    const frozenAfter = await frozenIds();
    expect(scriptIds.filter((id) => frozenAfter.has(id))).toEqual([]);
    const expiryLog = (JSON.parse(expired.stdout) as { auditLog: string }).auditLog;
    expect((await verifyAuditLog(expiryLog)).ok).toBe(true);
  });

  it('run unattended, a playbook mixing a hold and a password reset holds and does not reset, and says why', async () => {
    const m = host.manifest!;
    const mixed = join(base, 'mixed.yml');
    writeFileSync(
      mixed,
      `name: mixed
inputs:
  sender: { type: string }
steps:
  - id: hold
    action: cpanel.email.suspend_outgoing
    with: { email: "\${{ inputs.sender }}" }
  - id: reset
    action: cpanel.email.reset_password
    with: { email: "\${{ inputs.sender }}" }
`,
    );
    const shadowBefore = shadow();
    const t = trigger('compromised-mailbox', 'sender', m.legitMailbox, { sender: m.legitMailbox });
    const outcome = await createResponder(config({ containPlaybook: mixed, notify: [] }), fastRetries).respond(t, new AbortController().signal);
    expect(outcome.status).toBe('contained');
    expect(suspensions()).toContain(m.legitMailbox.split('@')[0]!);
    expect(shadow()).toBe(shadowBefore);
    const log = records(outcome.auditLog!);
    const refusal = log.find((r) => r.type === 'note' && r.step === 'reset');
    expect(refusal?.type === 'note' && refusal.message).toMatch(/^refused: waiting for a human: \S+ cannot be undone, and an unattended run makes only reversible changes$/);
    expect(log.at(-1)).toMatchObject({ type: 'run.summary', status: 'ok', reason: '1 step not reversible, waiting for a human: reset' });
    expect(log.some((r) => r.type === 'command.intent' && r.step === 'reset')).toBe(false);
  });
});
