// The watcher on real files with real file-system events: rotation under a running watcher,
// restarts from the saved state, the shipped rules tripping (or not) once. Every wait is on an
// event the watcher emits (its progress or its triggers), never on a clock.
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAllowList } from '../../src/investigate/allow-list.js';
import { SHIPPED_RULES, type RuleSpec } from '../../src/watch/rules.js';
import { StateError } from '../../src/watch/state.js';
import type { Trigger } from '../../src/watch/types.js';
import { Watcher, type WatcherOptions } from '../../src/watch/watcher.js';
import { at, authArrival, delivery, dovecotFailure, dovecotLogin, eximAuthFailure, iso, nextTriggers, readUpTo, scriptRun, text } from './lines.js';

let dir: string;
let mainlog: string;
let maillog: string;
let statePath: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'runbook-watch-'));
  mainlog = join(dir, 'exim_mainlog');
  maillog = join(dir, 'maillog');
  statePath = join(dir, 'state', 'watch-state.json');
  writeFileSync(mainlog, '');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Trips exactly at the Nth message of one mailbox in a day: tells a lost line from a repeated one. */
const exactlyAt = (n: number): RuleSpec[] => [{ name: 'count', key: 'auth_id', limits: [{ metric: 'messages', threshold: n, window: '1d' }] }];

function options(rules: RuleSpec[], more: Partial<WatcherOptions> = {}): WatcherOptions {
  return {
    mainlog, statePath, rules, startAt: 'beginning', maxKeys: 1000, maxDistinct: 1000, joinSeconds: 7200, maxMessages: 10_000,
    saveEverySeconds: 0, rescanSeconds: 0, ...more,
  };
}

const burst = (from: number, to: number, mailbox = 'alice@example.test'): string[] => {
  const out: string[] = [];
  for (let i = from; i < to; i++) out.push(authArrival(i, mailbox), delivery(i, `victim${i}@remote.test`));
  return out;
};

describe('following the main log through rotation', () => {
  it('rename + create under a running watcher: the old file is read to its end, the new one from its start', async () => {
    const w = await Watcher.open(options(exactlyAt(20)));
    w.start();
    try {
      const first = readUpTo(w, mainlog, Buffer.byteLength(text(burst(0, 10))));
      appendFileSync(mainlog, text(burst(0, 10)));
      await first;
      const tripped = nextTriggers(w);
      // Three more lines land just before the rename: only the held-open descriptor still sees them.
      appendFileSync(mainlog, text(burst(10, 13)));
      renameSync(mainlog, `${mainlog}.1`);
      writeFileSync(mainlog, text(burst(13, 20)));
      const [t] = await tripped;
      expect(t).toMatchObject({ rule: 'count', key: { kind: 'auth_id', value: 'alice@example.test' }, trippedAt: iso(19), firstSeen: iso(0) });
      expect(t!.observed.value).toBe(20);
      const more = readUpTo(w, mainlog, Buffer.byteLength(text([...burst(13, 20), ...burst(20, 25)])));
      appendFileSync(mainlog, text(burst(20, 25)));
      await more;
      expect(w.pending.map((p) => p.id)).toEqual([t!.id]);
    } finally {
      await w.stop();
    }
  });

  it('rename under a running watcher: lines still written to the renamed file after the switch are counted, once', async () => {
    const w = await Watcher.open(options(exactlyAt(20)));
    w.start();
    try {
      const first = readUpTo(w, mainlog, Buffer.byteLength(text(burst(0, 10))));
      appendFileSync(mainlog, text(burst(0, 10)));
      await first;
      // Switched: the rotation noticed, then the new file read through.
      const switched = (async () => {
        await once(w, 'notice');
        await readUpTo(w, mainlog, Buffer.byteLength(text(burst(10, 15))));
      })();
      renameSync(mainlog, `${mainlog}.1`);
      writeFileSync(mainlog, text(burst(10, 15)));
      await switched;
      const tripped = nextTriggers(w);
      // An Exim process that opened the log before the rename writes on to it.
      appendFileSync(`${mainlog}.1`, text(burst(15, 20)));
      const [t] = await tripped;
      expect(t).toMatchObject({ trippedAt: iso(19), firstSeen: iso(0) });
      expect(t!.observed.value).toBe(20);
    } finally {
      await w.stop();
    }
  });

  it('copytruncate under a running watcher: what was written before the copy is read from the copy', async () => {
    const w = await Watcher.open(options(exactlyAt(20)));
    w.start();
    try {
      const first = readUpTo(w, mainlog, Buffer.byteLength(text(burst(0, 10))));
      appendFileSync(mainlog, text(burst(0, 10)));
      await first;
      const tripped = nextTriggers(w);
      appendFileSync(mainlog, text(burst(10, 13)));
      copyFileSync(mainlog, `${mainlog}.1`);
      truncateSync(mainlog, 0);
      appendFileSync(mainlog, text(burst(13, 20)));
      const [t] = await tripped;
      expect(t).toMatchObject({ trippedAt: iso(19), firstSeen: iso(0) });
      expect(t!.observed.value).toBe(20);
    } finally {
      await w.stop();
    }
  });

  it('a restart after a rename while stopped reads the rest of the old file from its sibling first', async () => {
    appendFileSync(mainlog, text(burst(0, 10)));
    const a = await Watcher.open(options(exactlyAt(20)));
    expect(await a.readAppended()).toEqual([]);
    await a.stop();
    appendFileSync(mainlog, text(burst(10, 13)));
    renameSync(mainlog, `${mainlog}-20261207`);
    writeFileSync(mainlog, text(burst(13, 20)));
    const b = await Watcher.open(options(exactlyAt(20)));
    const fired = await b.readAppended();
    await b.stop();
    expect(fired.map((t) => [t.trippedAt, t.observed.value])).toEqual([[iso(19), 20]]);
  });
});

describe('restarts', () => {
  it('a watcher that dies after saving resumes exactly: no line counted twice, none skipped, the trigger once', async () => {
    appendFileSync(mainlog, text(burst(0, 12)));
    const a = await Watcher.open(options(exactlyAt(20)));
    expect(await a.readAppended()).toEqual([]);
    // Killed: never stopped, nothing saved beyond what the read saved.
    const saved = readFileSync(statePath, 'utf8');
    appendFileSync(mainlog, text(burst(12, 20)));
    const b = await Watcher.open(options(exactlyAt(20)));
    const fired = await b.readAppended();
    expect(fired.map((t) => [t.trippedAt, t.observed.value])).toEqual([[iso(19), 20]]);
    // Killed again before the trigger was answered: the next run hands the same trigger over, and trips nothing new.
    const c = await Watcher.open(options(exactlyAt(20)));
    expect(c.pending.map((t) => t.id)).toEqual([fired[0]!.id]);
    expect(await c.readAppended()).toEqual([]);
    await c.settle(fired[0]!.id);
    const d = await Watcher.open(options(exactlyAt(20)));
    expect(d.pending).toEqual([]);
    // The same lines read from the older state trip the same trigger (same id): it is one trip.
    writeFileSync(statePath, saved);
    const e = await Watcher.open(options(exactlyAt(20)));
    expect((await e.readAppended()).map((t) => t.id)).toEqual([fired[0]!.id]);
    for (const w of [a, b, c, d, e]) await w.stop();
  });

  it('a line still being written is read when its newline arrives, not before', async () => {
    const w = await Watcher.open(options(exactlyAt(2)));
    const line = authArrival(1, 'alice@example.test');
    appendFileSync(mainlog, `${authArrival(0, 'alice@example.test')}\n${line.slice(0, 30)}`);
    expect(await w.readAppended()).toEqual([]);
    appendFileSync(mainlog, `${line.slice(30)}\n`);
    expect((await w.readAppended()).map((t) => t.trippedAt)).toEqual([iso(1)]);
    await w.stop();
  });

  it('a corrupt state file is an error that says what to do, not a silent fresh start', async () => {
    appendFileSync(mainlog, text(burst(0, 3)));
    const a = await Watcher.open(options(exactlyAt(20)));
    await a.readAppended();
    await a.stop();
    const good = readFileSync(statePath, 'utf8');
    writeFileSync(statePath, good.slice(0, good.length / 2));
    await expect(Watcher.open(options(exactlyAt(20)))).rejects.toThrow(StateError);
    await expect(Watcher.open(options(exactlyAt(20)))).rejects.toThrow(/is not valid JSON.*move it aside/);
    writeFileSync(statePath, JSON.stringify({ ...JSON.parse(good), files: { [mainlog]: { ino: 'x' } } }));
    await expect(Watcher.open(options(exactlyAt(20)))).rejects.toThrow(/malformed log positions/);
    // Nothing was overwritten by the refusals.
    expect(statSync(statePath).size).toBeGreaterThan(0);
  });
});

describe('the shipped rules', () => {
  const ruleNamed = (name: string): RuleSpec[] => SHIPPED_RULES.filter((r) => r.name === name);

  it('a burst from one mailbox trips compromised-mailbox once, on its 8th message within 2 minutes', async () => {
    // One message every 7 s: 500 an hour, cPanel's threshold.
    const lines: string[] = [];
    for (let k = 0; k < 30; k++) lines.push(authArrival(k * 7, 'alice@example.test', k % 2 === 0 ? '203.0.113.7' : '198.51.100.23'));
    appendFileSync(mainlog, text(lines));
    const w = await Watcher.open(options(ruleNamed('compromised-mailbox')));
    const fired = await w.readAppended();
    await w.stop();
    expect(fired).toHaveLength(1);
    const t = fired[0] as Trigger;
    expect(t).toMatchObject({
      rule: 'compromised-mailbox',
      key: { kind: 'auth_id', value: 'alice@example.test' },
      observed: { metric: 'messages', value: 8, threshold: 8, windowSeconds: 120 },
      firstSeen: iso(0),
      trippedAt: iso(49),
    });
    // Both addresses that sent as it in the window, not just the tripping line's.
    expect(t.inputs).toMatchObject({ auth_id: 'alice@example.test', sender: 'alice@example.test', ips: '198.51.100.23,203.0.113.7' });
    expect(t.evidence.at(-1)).toBe(lines[7]);
  });

  it('an allow-listed mailbox sending the same burst does not trip; per-mailbox overrides raise its thresholds', async () => {
    const lines: string[] = [];
    for (let k = 0; k < 30; k++) {
      lines.push(authArrival(k * 7, 'news@example.test'));
      lines.push(authArrival(k * 7, 'support@example.test', '198.51.100.23'));
      lines.push(authArrival(k * 7, 'bob@example.test', '198.51.100.24'));
    }
    appendFileSync(mainlog, text(lines));
    const [rule] = ruleNamed('compromised-mailbox');
    const rules: RuleSpec[] = [{ ...rule!, overrides: { 'Support@Example.test': { messages: 100 } } }];
    const w = await Watcher.open(options(rules, { allow: parseAllowList(['news@example.test']) }));
    const fired = await w.readAppended();
    await w.stop();
    expect(fired.map((t) => t.key.value)).toEqual(['bob@example.test']);
    expect(w.stats().allowedEvents).toBeGreaterThan(0);
  });

  it('credential stuffing: one address refused as many mailboxes (Exim AUTH and Dovecot) trips once', async () => {
    const main: string[] = [];
    const mail: string[] = [];
    for (let k = 0; k < 3; k++) main.push(eximAuthFailure(k * 10, '198.51.100.66', `user${k}@example.test`));
    for (let k = 3; k < 8; k++) mail.push(dovecotFailure(k * 10, '198.51.100.66', `user${k}@example.test`));
    // The same mailbox over and over from another address is one mailbox, not many.
    for (let k = 0; k < 20; k++) main.push(eximAuthFailure(k, '203.0.113.99', 'alice@example.test'));
    appendFileSync(mainlog, text(main));
    writeFileSync(maillog, text(mail));
    const w = await Watcher.open(options(ruleNamed('credential-stuffing'), { maillog }));
    const fired = await w.readAppended();
    await w.stop();
    expect(fired.map((t) => [t.key.kind, t.key.value, t.observed.metric, t.observed.value])).toEqual([['client_ip', '198.51.100.66', 'failed_login_mailboxes', 5]]);
    expect(fired[0]!.inputs.ip).toBe('198.51.100.66');
  });

  it('credential stuffing: one address getting into ten mailboxes (IMAP and SMTP AUTH) trips; webmail on loopback never does', async () => {
    const mail: string[] = [];
    const main: string[] = [];
    for (let k = 0; k < 6; k++) mail.push(dovecotLogin(k * 30, '198.51.100.77', `box${k}@example.test`));
    for (let k = 6; k < 10; k++) main.push(authArrival(k * 30, `box${k}@example.test`, '198.51.100.77'));
    for (let k = 0; k < 30; k++) mail.push(dovecotLogin(k, '::1', `user${k}@example.test`));
    appendFileSync(mainlog, text(main));
    writeFileSync(maillog, text(mail));
    const w = await Watcher.open(options(ruleNamed('credential-stuffing'), { maillog }));
    const fired = await w.readAppended();
    await w.stop();
    expect(fired.map((t) => [t.key.value, t.observed.metric, t.observed.value])).toEqual([['198.51.100.77', 'login_mailboxes', 10]]);
  });

  it('a script under a home trips spamming-script with its directory and account as inputs', async () => {
    const dir = '/home/cpuser1/public_html/wp-content/uploads';
    const lines: string[] = [];
    for (let k = 0; k < 10; k++) lines.push(...scriptRun(k * 5, dir, 'cpuser1'));
    appendFileSync(mainlog, text(lines));
    const w = await Watcher.open(options(ruleNamed('spamming-script')));
    const fired = await w.readAppended();
    await w.stop();
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ key: { kind: 'directory', value: dir }, inputs: { directory: dir, account: 'cpuser1' }, trippedAt: iso(35) });
  });

  it('failures are joined to the sender by message id', async () => {
    const lines: string[] = [];
    for (let k = 0; k < 30; k++) {
      lines.push(authArrival(k * 100, 'carol@example.test', '203.0.113.8', [`a${k}@remote.test`]));
      lines.push(`${at(k * 100 + 1)} 1xaS8D-${String(k * 100).padStart(6, '0')}-0e ** a${k}@remote.test R=dkim_lookuphost T=dkim_remote_smtp: SMTP error from remote mail server after RCPT TO:<a${k}@remote.test>: 550 5.1.1 User unknown`);
    }
    appendFileSync(mainlog, text(lines));
    const w = await Watcher.open(options(ruleNamed('compromised-mailbox')));
    const fired = await w.readAppended();
    await w.stop();
    expect(fired.map((t) => [t.key.value, t.observed.metric, t.observed.value])).toEqual([['carol@example.test', 'failures', 25]]);
  });

  it('memory stays bounded: past max_keys new keys are not counted, and the summary says how many events were left out', async () => {
    const lines: string[] = [];
    for (let k = 0; k < 50; k++) lines.push(authArrival(k, `m${k}@example.test`));
    appendFileSync(mainlog, text(lines));
    const w = await Watcher.open(options(ruleNamed('compromised-mailbox'), { maxKeys: 10 }));
    await w.readAppended();
    await w.stop();
    // Two counted metrics per message (messages, unique_recipients) for each of the 40 left out.
    expect(w.stats()).toMatchObject({ keys: 10, droppedEvents: 80 });
  });
});
