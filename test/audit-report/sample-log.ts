import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_FORMAT, type NewRecord, type AuditRecord } from '../../src/audit/records.js';
import { AuditWriter } from '../../src/audit/writer.js';
import { Secret } from '../../src/core/secret.js';

/** Hostile values a spammer controls, reused by assertions. */
export const HOSTILE_SUBJECT = '<script>alert(1)</script> Win | a `prize` **now** \u001b[31mRED\u001b[0m';
export const HOSTILE_PATH = '/home/bob/public_html/wp-content/uploads/<img src=x onerror=alert(2)>.php';
export const SENDER = 'info@bob-shop.example';
export const SCRIPT = '/home/bob/public_html/wp-content/uploads/mailer.php';
export const ATTACKER_IPS = ['203.0.113.7', '198.51.100.23'];
export const GENERATED_PASSWORD = 'S3cret-Generated-Passw0rd!';

function digest(excerpt: string) {
  return { bytes: Buffer.byteLength(excerpt), sha256: 'a'.repeat(64), excerpt, truncated: false };
}

export interface SampleOptions {
  /** Signs the summary record as written. */
  sign?: (summary: AuditRecord) => { alg: 'ed25519'; publicKey: string; value: string; covers?: string };
  dir?: string;
}

/**
 * Writes a realistic spam-incident run through AuditWriter: web1 is contained fully, web2
 * fails at the first mutation. Returns the log path.
 */
export function writeSpamIncidentLog(options: SampleOptions = {}): string {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'runbook-report-'));
  const path = join(dir, 'run.jsonl');
  const w = AuditWriter.create(path);
  const add = (r: NewRecord) => w.append(r);
  const hosts = ['web1', 'web2'];

  add({
    type: 'run.header', format: AUDIT_FORMAT, runId: 'run-2025-03-01T10-00-00Z-ab12', mode: 'apply',
    operator: 'alice', uid: 1000, controlHost: 'ops-bastion', toolVersion: '0.1.0',
    argv: ['runbook', 'apply', 'playbooks/spam-incident.yml', '--host', 'web1,web2', '--incident', 'pagerduty:PABC123'],
    playbook: { path: 'playbooks/spam-incident.yml', sha256: 'b'.repeat(64), name: 'spam-incident' },
    inputs: { since: '24h', min_messages: 100 }, hosts, incident: 'pagerduty:PABC123',
  });
  add({
    type: 'plan', planHash: 'c'.repeat(64),
    steps: [
      { host: 'web1', step: 'detect', action: 'exim.detect', mutates: false, params: { since: '24h' }, summary: 'scan queue and logs', commands: [] },
      { host: 'web1', step: 'reset', action: 'cpanel.email.reset_password', mutates: true, params: { email: SENDER }, summary: `reset password of ${SENDER}`, commands: [['/usr/local/cpanel/bin/whmapi1', '--input=json', '--output=json', 'uapi_cpanel']] },
      { host: 'web1', step: 'disable', action: 'file.disable', item: { index: 0, value: SCRIPT }, mutates: true, params: { path: SCRIPT }, summary: `chmod 000 ${SCRIPT} (now 0644)`, commands: [['chmod', '000', SCRIPT]] },
      { host: 'web1', step: 'purge', action: 'exim.queue.purge', mutates: true, params: { sender: SENDER }, summary: 'remove 2 messages', commands: [['/usr/sbin/exim', '-Mrm', '1tA1bC-000AbC-1x', '1tA1bD-000AbC-2y']] },
      { host: 'web1', step: 'block', action: 'csf.deny', item: { index: 0, value: ATTACKER_IPS[0] }, mutates: true, params: { ip: ATTACKER_IPS[0] }, summary: `csf -d ${ATTACKER_IPS[0]}`, commands: [['/usr/sbin/csf', '-d', ATTACKER_IPS[0]!, 'spam']] },
    ],
  });
  add({ type: 'gate', gate: 'gate', message: `Contain ${SENDER}: 1204 messages, 1 script`, hosts, answer: 'accepted', by: 'tty:alice' });

  // web1: full containment.
  const step = (host: string, id: string, action: string, mutates: boolean, params: Record<string, unknown>, item?: { index: number; value: unknown }) =>
    add({ type: 'step.start', host, step: id, action, mutates, params, ...(item ? { item } : {}) });
  const cmd = (host: string, id: string, argv: string[], mutates: boolean, stdout = '', exitCode = 0, stdin = 'none') => {
    add({ type: 'command.intent', host, step: id, argv, stdin, mutates });
    add({ type: 'command.result', host, step: id, argv, exitCode, signal: null, durationMs: 12, timedOut: false, stdout: digest(stdout), stderr: digest('') });
  };

  step('web1', 'detect', 'exim.detect', false, { since: '24h', min_messages: 100 });
  cmd('web1', 'detect', ['/usr/sbin/exim', '-bpc'], false, '1206\n');
  cmd('web1', 'detect', ['/usr/sbin/exim', '-bp'], false, '...');
  add({ type: 'note', host: 'web1', step: 'detect', message: `subject seen 1180 times: ${HOSTILE_SUBJECT}` });
  add({
    type: 'step.finish', host: 'web1', step: 'detect', action: 'exim.detect', status: 'ok', durationMs: 900,
    summary: `${SENDER} sent 1204 messages via ${SCRIPT}`,
    outputs: {
      kind: 'script', sender: SENDER,
      scripts: [{ path: SCRIPT, count: 1180, ips: ATTACKER_IPS }, { path: HOSTILE_PATH, count: 3, ips: [] }],
      ips: ATTACKER_IPS,
      counts: { queue: 1206, fromSender: 1204, frozen: 12 },
      senders: [{ sender: SENDER, count: 1204 }, { sender: 'wordpress@bob-shop.example', count: 2 }],
      subjects: [{ subject: HOSTILE_SUBJECT, count: 1180 }],
      evidence: [
        `2025-03-01 09:58:01 1tA1bC-000AbC-1x <= ${SENDER} U=bob P=local S=2113 T="${HOSTILE_SUBJECT}"`,
        `cwd=${SCRIPT.replace(/\/mailer\.php$/, '')} 4 args: /usr/sbin/sendmail -t -i`,
      ],
      summary: `${SENDER} sent 1204 messages via ${SCRIPT}`,
    },
  });
  step('web1', 'reset', 'cpanel.email.reset_password', true, { email: SENDER });
  cmd('web1', 'reset', ['/usr/local/cpanel/bin/whmapi1', '--input=json', '--output=json', 'uapi_cpanel'], true, '{"metadata":{"result":1}}', 0, '[redacted]');
  add({
    type: 'step.finish', host: 'web1', step: 'reset', action: 'cpanel.email.reset_password', status: 'changed', durationMs: 300,
    summary: `password of ${SENDER} reset`, outputs: { email: SENDER, password: new Secret(GENERATED_PASSWORD) } as unknown as Record<string, unknown>,
    irreversible: [`the old password of ${SENDER} cannot be restored (new one delivered to the operator)`],
  });
  step('web1', 'restart', 'service.restart', true, { services: ['exim', 'imap'] });
  cmd('web1', 'restart', ['/scripts/restartsrv_exim'], true);
  cmd('web1', 'restart', ['/scripts/restartsrv_imap'], true);
  add({ type: 'step.finish', host: 'web1', step: 'restart', action: 'service.restart', status: 'changed', durationMs: 4000, summary: 'restarted exim, imap' });
  step('web1', 'disable', 'file.disable', true, { path: SCRIPT }, { index: 0, value: SCRIPT });
  cmd('web1', 'disable', ['chmod', '000', SCRIPT], true);
  add({
    type: 'step.finish', host: 'web1', step: 'disable', action: 'file.disable', item: { index: 0, value: SCRIPT }, status: 'changed', durationMs: 15,
    summary: `chmod 000 ${SCRIPT} (was 0644)`, outputs: { path: SCRIPT, previousMode: '0644' },
    undo: [{ action: 'file.restore_mode', params: { path: SCRIPT, mode: '0644' }, description: `chmod 0644 ${SCRIPT}` }],
  });
  step('web1', 'disable', 'file.disable', true, { path: HOSTILE_PATH }, { index: 1, value: HOSTILE_PATH });
  add({ type: 'step.finish', host: 'web1', step: 'disable', action: 'file.disable', item: { index: 1, value: HOSTILE_PATH }, status: 'ok', durationMs: 5, summary: 'already mode 000' });
  step('web1', 'purge', 'exim.queue.purge', true, { sender: SENDER, max: 50000 });
  cmd('web1', 'purge', ['/usr/sbin/exim', '-Mrm', '1tA1bC-000AbC-1x', '1tA1bD-000AbC-2y'], true, 'Message 1tA1bC-000AbC-1x has been removed\nMessage 1tA1bD-000AbC-2y has been removed\n');
  add({
    type: 'step.finish', host: 'web1', step: 'purge', action: 'exim.queue.purge', status: 'changed', durationMs: 40,
    summary: 'removed 2 messages', outputs: { removed: 2, ids: ['1tA1bC-000AbC-1x', '1tA1bD-000AbC-2y'] },
    irreversible: ['2 messages purged from the queue cannot be restored'],
  });
  ATTACKER_IPS.forEach((ip, index) => {
    step('web1', 'block', 'csf.deny', true, { ip, comment: `spam via ${SENDER}` }, { index, value: ip });
    cmd('web1', 'block', ['/usr/sbin/csf', '-d', ip, `spam via ${SENDER}`], true, `Adding ${ip} to csf.deny and iptables DROP...\n`);
    add({
      type: 'step.finish', host: 'web1', step: 'block', action: 'csf.deny', item: { index, value: ip }, status: 'changed', durationMs: 800,
      summary: `denied ${ip}`, outputs: { ip },
      undo: [{ action: 'csf.remove_deny', params: { ip }, description: `csf -dr ${ip}` }],
    });
  });
  step('web1', 'verify', 'exim.queue.watch', false, { sender: SENDER, for: '5m' });
  cmd('web1', 'verify', ['/usr/sbin/exim', '-bpc'], false, '2\n');
  add({ type: 'step.finish', host: 'web1', step: 'verify', action: 'exim.queue.watch', status: 'ok', durationMs: 300000, summary: 'no new messages from the sender in 5m', outputs: { newMessages: 0 } });
  add({ type: 'host.finish', host: 'web1', status: 'changed', counts: { ok: 3, changed: 6, failed: 0 } });

  // web2: the password reset fails (mailbox does not exist there).
  step('web2', 'detect', 'exim.detect', false, { since: '24h' });
  cmd('web2', 'detect', ['/usr/sbin/exim', '-bpc'], false, '30\n');
  add({ type: 'step.finish', host: 'web2', step: 'detect', action: 'exim.detect', status: 'ok', durationMs: 700, summary: 'mailbox sending', outputs: { kind: 'mailbox', sender: SENDER, scripts: [], ips: [], counts: { queue: 30 }, evidence: [], summary: `${SENDER} sent 30 messages` } });
  step('web2', 'reset', 'cpanel.email.reset_password', true, { email: SENDER });
  cmd('web2', 'reset', ['/usr/local/cpanel/bin/whmapi1', '--input=json', '--output=json', 'uapi_cpanel'], true, '{"metadata":{"result":0}}', 0, '[redacted]');
  add({ type: 'step.finish', host: 'web2', step: 'reset', action: 'cpanel.email.reset_password', status: 'failed', durationMs: 200, error: `You do not have an email account named “${SENDER}”.` });
  add({ type: 'host.finish', host: 'web2', status: 'failed', error: 'step reset failed', counts: { ok: 1, changed: 0, failed: 1 } });

  const head = w.head;
  w.append({
    type: 'run.summary', status: 'failed', exitCode: 1, reason: '1 of 2 hosts failed', dryRun: false, planHash: 'c'.repeat(64),
    hosts: { web1: 'changed', web2: 'failed' }, counts: { ok: 4, changed: 6, failed: 1 }, head,
  }, options.sign);
  w.close();
  return path;
}
