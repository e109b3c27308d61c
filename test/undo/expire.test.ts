import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { builtinActions } from '../../src/actions/registry.js';
import { readAuditLog } from '../../src/audit/read.js';
import { verifyAuditLog } from '../../src/audit/verify.js';
import { AuditWriter } from '../../src/audit/writer.js';
import { runPlaybook, type TargetHandle } from '../../src/engine/run.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { LocalTransport } from '../../src/transport/local.js';
import { expireHolds, findDueHolds, scanAuditDir } from '../../src/undo/index.js';
import { simHost, type SimHost } from '../actions/support/sim.js';

const registry = builtinActions();
const BOX = 'info@shop.example.test';
const HOUR = 3_600_000;

const HOLD = `
name: hold-test
steps:
  - id: hold_mailbox
    action: cpanel.email.suspend_outgoing
    with: { email: "${BOX}", hold_for: 1h }
  - id: hold_account
    action: cpanel.account.suspend_outgoing
    with: { user: shopuser, hold_for: 8h }
  - id: block
    action: csf.temp_deny
    with: { ip: 45.33.12.7, ttl: 1h, comment: spam }
`;

const CONFIRM = `
name: confirm-test
steps:
  - id: keep_holding
    action: cpanel.email.suspend_outgoing
    with: { email: "${BOX}" }
`;

describe('expiry on a simulated cPanel host', () => {
  let sim: SimHost;
  let auditDir: string;
  let runs = 0;
  beforeEach(() => {
    sim = simHost();
    auditDir = join(sim.root, 'audit');
  });
  afterEach(() => sim.cleanup());

  const target = (): TargetHandle => ({
    name: 'sim1',
    connect: async () => ({ name: 'sim1', transport: new LocalTransport({ host: 'sim1', env: sim.env }), tools: sim.tools, layout: sim.layout, vars: {} }),
  });
  const common = () => {
    runs += 1;
    return {
      targets: [target()],
      registry,
      dryRun: false,
      audit: AuditWriter.create(join(auditDir, `run-${String(runs).padStart(3, '0')}.jsonl`)),
      argv: ['runbook', 'test'],
      toolVersion: 'test',
      observer: () => {},
      signal: new AbortController().signal,
      deliverSecret: async () => 'nowhere',
    };
  };
  async function apply(text: string, inputs: Record<string, unknown> = {}): Promise<void> {
    const opts = common();
    const report = await runPlaybook({ ...opts, gatekeeper: { ask: async () => ({ answer: 'accepted', by: 'test' }) }, playbook: parsePlaybook(join(sim.root, 'p.yml'), text, registry), inputs });
    opts.audit.close();
    expect(report.status).toBe('ok');
  }
  async function expire(now: Date) {
    const opts = common();
    const result = await expireHolds({ ...opts, auditDir, now });
    opts.audit.close();
    return result;
  }
  const mailboxHeld = () => readFileSync(join(sim.root, 'var/cpanel/email_send_limits/users/shopuser/suspensions.json'), 'utf8').includes('"info"');
  const accountHeld = () => readFileSync(join(sim.root, 'etc/outgoing_mail_suspended_users'), 'utf8').includes('shopuser');
  const tempBanned = () => readFileSync(join(sim.root, 'var/lib/csf/csf.tempban'), 'utf8').includes('45.33.12.7');

  it('lifts what is past its deadline as an audited run, leaves what is not due, and never lifts twice', async () => {
    const start = Date.now();
    await apply(HOLD);
    expect([mailboxHeld(), accountHeld(), tempBanned()]).toEqual([true, true, true]);

    // Nothing is due yet.
    const early = await expire(new Date(start));
    expect(early.report).toBeUndefined();
    expect(early.scan.pending.map((p) => p.target).sort()).toEqual(['account-outgoing:shopuser', 'ip:45.33.12.7', `mailbox-outgoing:${BOX}`]);

    // Two hours on: the mailbox hold and the temporary deny are due, the account hold (8h) is not.
    const later = new Date(start + 2 * HOUR);
    const first = await expire(later);
    expect(first.scan.due.map((d) => d.target).sort()).toEqual(['ip:45.33.12.7', `mailbox-outgoing:${BOX}`]);
    expect(first.scan.pending.map((p) => p.target)).toEqual(['account-outgoing:shopuser']);
    expect(first.report?.status).toBe('ok');
    expect([mailboxHeld(), accountHeld(), tempBanned()]).toEqual([false, true, false]);

    // The expiry is a run of its own, with a verified audit log saying what it lifted and why.
    const verified = await verifyAuditLog(first.report!.auditPath!);
    expect(verified.ok).toBe(true);
    const records = verified.records;
    const header = records[0];
    expect(header?.type === 'run.header' && [header.mode, header.playbook.name]).toEqual(['undo', 'expire']);
    const changes = records.flatMap((r) => (r.type === 'step.finish' && r.status === 'changed' ? (r.changes ?? []) : []));
    expect(changes).toEqual(expect.arrayContaining([{ kind: 'mailbox-suspension', mailbox: BOX, scope: 'outgoing', suspended: false }, { kind: 'ip-temp-deny-removed', ip: '45.33.12.7' }]));
    expect(records.some((r) => r.type === 'gate' && r.by.startsWith('expiry:'))).toBe(true);

    // Running it again changes nothing: the releases it recorded are the newest word on those holds.
    const second = await expire(later);
    expect(second.scan.due).toEqual([]);
    expect(second.report).toBeUndefined();

    // Ten hours on, the account hold is due too, and only it.
    const third = await expire(new Date(start + 10 * HOUR));
    expect(third.scan.due.map((d) => d.target)).toEqual(['account-outgoing:shopuser']);
    expect(accountHeld()).toBe(false);
  });

  it('a later hold without deadline confirms it: the held mailbox stays held', async () => {
    const start = Date.now();
    await apply(HOLD);
    await apply(CONFIRM);
    const result = await expire(new Date(start + 2 * HOUR));
    expect(result.scan.due.map((d) => d.target)).toEqual(['ip:45.33.12.7']);
    expect(mailboxHeld()).toBe(true);
  });

  it('a later hold with a deadline that finds the mailbox already held leaves the first deadline standing', async () => {
    const start = Date.now();
    await apply(HOLD);
    await apply(CONFIRM.replace('email: "', 'hold_for: 6h, email: "'));
    // Already held: that step set no new deadline, so the first one (1h) stands.
    expect((await expire(new Date(start + 2 * HOUR))).scan.due.map((d) => d.target)).toContain(`mailbox-outgoing:${BOX}`);
  });

  it('skips a log whose chain is broken', async () => {
    await apply(HOLD);
    const [name] = readdirSync(auditDir);
    const path = join(auditDir, name!);
    const text = readFileSync(path, 'utf8');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, text.replace('"shopuser"', '"otheruser"'));
    const scan = scanAuditDir(auditDir, registry, new Date(Date.now() + 24 * HOUR));
    expect(scan.due).toEqual([]);
    expect(scan.skipped[0]?.reason).toMatch(/does not verify/);
    expect(findDueHolds([{ log: path, records: readAuditLog(path).records }], registry, new Date(Date.now() + 24 * HOUR)).due.length).toBeGreaterThan(0);
  });
});
