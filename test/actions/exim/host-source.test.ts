/**
 * The flagged mailboxes' history read on a host (perl selects the lines there, see
 * src/remote/history-filter.pl.ts) gives the collector the same facts as the files read
 * offline, says what it could not read whole, and reads the webmail logs the host's layout
 * names.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimHost } from '../../../fixtures/sim/host.mjs';
import { eximDetectionActions } from '../../../src/actions/exim/detection.js';
import { hostSource } from '../../../src/actions/exim/host-source.js';
import type { ActionContext, ReadOnlyAction } from '../../../src/actions/types.js';
import { CPANEL_LAYOUT, CPANEL_TOOL_PATHS, type HostLayout } from '../../../src/hosts/types.js';
import type { ActivityFacts } from '../../../src/investigate/activity.js';
import { linesContaining, readActivity } from '../../../src/investigate/activity-read.js';
import type { Verdict } from '../../../src/investigate/verdict.js';
import { filterHistoryRemote, type HistoryKind } from '../../../src/remote/history-filter.js';
import { LocalTransport } from '../../../src/transport/local.js';
import type { Transport } from '../../../src/transport/types.js';
import { EXPECT, writeRealisticIncident } from '../../investigate/realistic-incident.js';
import { HOUR, SmallLogs, T0 } from '../../investigate/small-logs.js';
import { startSshHosts, sshAvailable, type SshTestFleet } from '../../support/ssh-hosts.js';
import { makeContext } from '../support/context.js';

const stamp = (epoch: number): string => new Date(epoch * 1000).toISOString().slice(0, 19).replace('T', ' ');

/** An ActionContext over any transport (the shared test context is local only). */
function contextOver(transport: Transport, layout: Partial<HostLayout>): ActionContext {
  return {
    host: { name: transport.host, transport, tools: { ...CPANEL_TOOL_PATHS }, layout: { ...CPANEL_LAYOUT, ...layout }, vars: {} },
    exec: (c) => transport.exec(c.argv, {
      ...(c.stdin !== undefined ? { stdin: c.stdin } : {}),
      ...(c.timeoutMs !== undefined ? { timeoutMs: c.timeoutMs } : {}),
      ...(c.maxOutputBytes !== undefined ? { maxOutputBytes: c.maxOutputBytes } : {}),
      ...(c.onStdout !== undefined ? { onStdout: c.onStdout } : {}),
    }),
    signal: new AbortController().signal,
    progress: () => {},
    note: async () => {},
    deliverSecret: async () => 'none',
    dryRun: false,
  };
}

const leads = {
  authIds: [EXPECT.alice, EXPECT.bob, EXPECT.account],
  senders: [EXPECT.newsletter],
  // Webmail and cPanel's notices both log in from here: the notices' id is found through it.
  sharedIps: ['127.0.0.1'],
};

/**
 * The facts the verdict can ask about: mailboxes read from an address only on the domains of
 * the ids the history is about (a colleague makes an office the customer's own), and webmail
 * logins of those ids. The host reads no further; offline files are read whole.
 */
function asked(facts: ActivityFacts): ActivityFacts {
  const ids = [...leads.authIds, ...leads.senders, ...facts.auth.keys()].map((i) => i.toLowerCase());
  const domains = ids.filter((i) => i.includes('@')).map((i) => i.slice(i.lastIndexOf('@')));
  const readFrom = new Map<string, Set<string>>();
  for (const [ip, boxes] of facts.mailboxesReadFrom ?? []) {
    const kept = new Set([...boxes].filter((b) => domains.some((d) => b.endsWith(d))));
    if (kept.size > 0) readFrom.set(ip, kept);
  }
  const webmail = new Map([...(facts.webmail ?? [])].filter(([box]) => ids.includes(box)));
  return { ...facts, mailboxesReadFrom: readFrom, webmail };
}

describe("the flagged mailboxes' history on a host", () => {
  let base: string;
  let logs: string;
  let files: { mainlog: string; rotated: string; maillog: string; session: string; login: string };
  let fleet: SshTestFleet | undefined;
  const alicesWebmail = '203.0.113.50';

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'runbook-host-history-'));
    logs = join(base, 'logs');
    await mkdir(logs);
    const incident = writeRealisticIncident(logs);
    // Rotated at midnight: the first day (alice's office hours) is in the gzip file.
    const cut = Date.UTC(2026, 11, 7) / 1000;
    const text = (keep: (t: number) => boolean): string => incident.lines.filter((l) => keep(l.time)).map((l) => `${l.text}\n`).join('');
    const rotated = join(logs, 'exim_mainlog-20261207.gz');
    await writeFile(rotated, gzipSync(text((t) => t < cut)));
    await writeFile(incident.mainlog, text((t) => t >= cut));
    // A colleague of alice reads her mail from alice's office; a customer elsewhere logs in on
    // another of this server's addresses (lip=), which is still this server's.
    await writeFile(incident.maillog, `${await readFile(incident.maillog, 'utf8')}${[
      'Dec  7 09:00:00 host dovecot[2211]: imap-login: Login: user=<carol@example.test>, method=PLAIN, rip=198.51.100.10, lip=192.0.2.10, mpid=9001, TLS, session=<a>',
      'Dec  7 09:05:00 host dovecot[2211]: imap-login: Login: user=<dave@unrelated.test>, method=PLAIN, rip=198.51.100.99, lip=192.0.2.11, mpid=9002, TLS, session=<b>',
      'Dec  7 09:06:00 host dovecot[2211]: imap-login: Login: user=<erin@unrelated.test>, method=PLAIN, rip=198.51.100.98, lip=192.0.2.11, mpid=9003, TLS, session=<c>',
    ].join('\n')}\n`);
    const session = join(logs, 'session_log');
    const login = join(logs, 'login_log');
    await writeFile(session, [
      `[2026-12-06 11:20:00 +0000] info [cpsrvd] ${alicesWebmail} NEW ${EXPECT.alice}:Zq81xPw0 address=${alicesWebmail},app=webmaild,creator=${EXPECT.alice},method=handle_form_login,path=form,possessed=0`,
      '[2026-12-06 12:00:00 +0000] info [cpsrvd] 198.51.100.77 NEW dave@unrelated.test:Aa11 address=198.51.100.77,app=webmaild,creator=dave@unrelated.test,method=handle_form_login,path=form,possessed=0',
    ].join('\n') + '\n');
    await writeFile(login, `[2026-12-06 11:20:00 +0000] info [webmaild] ${alicesWebmail} - Alice@Example.test (possessor: exampleuser) - SUCCESS LOGIN webmaild\n`);
    files = { mainlog: incident.mainlog, rotated, maillog: incident.maillog, session, login };
    if (sshAvailable || process.env.CI) {
      fleet = await startSshHosts(1, {
        namePrefix: 'history',
        prepare: async ({ root }) => {
          await cp(logs, join(root, 'var/log/exim4'), { recursive: true });
        },
      });
    }
  }, 120_000);
  afterAll(async () => {
    await fleet?.stop();
    await rm(base, { recursive: true, force: true });
  });

  const onHost = async (ctx: ActionContext, dir: string) => {
    const at = (f: string): string => join(dir, f.slice(logs.length + 1));
    const source = hostSource({ ...ctx, host: { ...ctx.host, layout: { ...ctx.host.layout, maillog: at(files.maillog), webmailLogs: [at(files.session), at(files.login)] } } }, { mainlog: at(files.mainlog), spool_dir: join(dir, 'spool') });
    return source.history(leads, new Set());
  };

  it('a local host, and an SSH host, give the collector the facts the files give it offline', async () => {
    const offline = await readActivity(leads, { mainlogs: [files.rotated, files.mainlog], maillogs: [files.maillog], webmailLogs: [files.session, files.login] });
    expect(offline.problems).toEqual([]);
    const local = await onHost(makeContext(), logs);
    expect(local.problems).toEqual([]);
    expect(local.facts).not.toBeNull();
    expect(asked(local.facts!)).toEqual(asked(offline.facts));
    // What the verdict asks is there: the rotated day, the colleague, the other interface, the
    // notices' id found through the shared address, alice's webmail address.
    expect(local.facts!.firstTime).toMatch(/^2026-12-06 /);
    expect(local.facts!.auth.get(EXPECT.alice)?.ips.get(EXPECT.aliceOffice)?.first).toMatch(/^2026-12-06 /);
    expect(local.facts!.mailboxesReadFrom?.get(EXPECT.aliceOffice)).toContain('carol@example.test');
    expect(local.facts!.interfaces).toContain('192.0.2.11');
    expect(local.facts!.auth.has(EXPECT.serviceId)).toBe(true);
    expect([...(local.facts!.webmail?.get(EXPECT.alice)?.keys() ?? [])]).toEqual([alicesWebmail]);
    // Mailboxes of unrelated domains are not sent from the host.
    expect(offline.facts.webmail?.has('dave@unrelated.test')).toBe(true);
    expect(local.facts!.webmail?.has('dave@unrelated.test')).toBe(false);

    expect(fleet !== undefined || !sshAvailable).toBe(true);
    if (fleet === undefined) return;
    const ssh = fleet.transport(fleet.hosts[0]!);
    try {
      const overSsh = await onHost(contextOver(ssh, {}), '/var/log/exim4');
      expect(overSsh.problems).toEqual([]);
      expect(overSsh.facts).toEqual(local.facts);
    } finally {
      await ssh.close();
    }
  }, 120_000);

  it('a rotated log that breaks part-way, and a chosen maillog that is not there, are named as not read whole', async () => {
    const dir = join(base, 'broken');
    await cp(logs, dir, { recursive: true });
    const whole = await readFile(files.rotated);
    await writeFile(join(dir, 'exim_mainlog-20261207.gz'), whole.subarray(0, Math.floor(whole.length / 2)));
    await rm(join(dir, 'maillog'));
    const r = await onHost(makeContext(), dir);
    expect(r.facts).not.toBeNull();
    expect(r.problems).toHaveLength(2);
    expect(r.problems[0]).toMatch(new RegExp(`^the main log ${join(dir, 'exim_mainlog-20261207.gz')} on test-host was read only in part, to byte \\d+ \\(.+\\): the flagged mailboxes' use of it is not known`));
    expect(r.problems[1]).toBe(`the maillog ${join(dir, 'maillog')} on test-host does not exist: owners who read their mail there are not recognised`);
    // The current log was still read.
    expect(r.facts!.auth.get(EXPECT.alice)?.total).toBeGreaterThan(1000);
  });

  it('output past the limit, and a filter cut off, leave every file after the cut named as not read', async () => {
    const here = new LocalTransport();
    const kept: string[] = [];
    const sink = { firstLine: () => {}, line: (_k: HistoryKind, l: string) => kept.push(l) };
    const groups = [
      { kind: 'mainlog' as const, needles: [EXPECT.alice], files: [files.rotated, files.mainlog] },
      { kind: 'webmail' as const, needles: [EXPECT.alice], files: [files.session] },
    ];
    const limited = await filterHistoryRemote(here, groups, sink, { limitBytes: 10_000 });
    expect(limited.files.map((f) => f.state)).toEqual(['partial', 'unread', 'unread']);
    expect(limited.files[0]!.detail).toBe('the history output reached its limit of 0 MiB of lines');
    expect(limited.files[2]!.detail).toBe(limited.files[0]!.detail);
    expect(kept.join('\n').length).toBeGreaterThan(10_000);
    // The same in a plain log (grep finds the needles there): cut at the line that passed it.
    kept.length = 0;
    const plain = await filterHistoryRemote(here, [{ kind: 'mainlog', needles: [EXPECT.alice], files: [files.mainlog, files.mainlog] }], sink, { limitBytes: 10_000 });
    expect(plain.files.map((f) => f.state)).toEqual(['partial', 'unread']);
    const text = await readFile(files.mainlog, 'utf8');
    expect(plain.files[0]!.bytes).toBe(text.indexOf(kept.at(-1)!) + Buffer.byteLength(kept.at(-1)!) + 1);

    // A connection that drops mid-output: the real filter's output, cut, and the command killed.
    const dropped: Transport = {
      kind: 'ssh',
      host: 'cut-host',
      exec: async (argv, options = {}) => {
        const chunks: Buffer[] = [];
        const r = await here.exec(argv, { ...options, onStdout: (c) => chunks.push(c) });
        const all = Buffer.concat(chunks);
        options.onStdout?.(all.subarray(0, Math.floor(all.length / 2)));
        return { ...r, exitCode: null, signal: 'SIGKILL' };
      },
      close: async () => {},
    };
    const cut = await filterHistoryRemote(dropped, [{ kind: 'mainlog', needles: [EXPECT.alice, EXPECT.bob], files: [files.mainlog, files.mainlog] }], sink);
    expect(cut.files.map((f) => f.state)).toEqual(['partial', 'unread']);
    expect(cut.files[0]!.detail).toBe('the history filter failed (signal SIGKILL)');
  });
});

/**
 * The lines themselves, for logs with what a small incident lacks: lines across the filter's
 * 4 MiB blocks, a needle in another case (the collector matches byte for byte), deliveries
 * naming a needle, CR line ends, bytes that are not UTF-8, no newline at the end.
 */
describe('the history filter hands over the lines the offline reader does', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'runbook-history-lines-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('for a plain and a gzip main log of 9 MiB, and a gzip of two members with trailing garbage', async () => {
    const needles = ['alice@example.test', 'Bob@Other.test', '[45.33.10.7]'];
    const rows: string[] = [];
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 16) % n;
    };
    const whoms = ['alice@example.test', 'ALICE@example.test', 'bob@other.test', 'Bob@Other.test', 'carol@example.test', 'h [45.33.10.7]:1'];
    for (let i = 0; i < 90_000; i++) {
      const who = whoms[rnd(whoms.length)]!;
      const pad = 'x'.repeat(rnd(120));
      const kind = rnd(4);
      rows.push(kind === 0 ? `2026-12-06 10:00:${String(i % 60).padStart(2, '0')} 1a-${i} => ${who} R=remote ${pad}`
        : kind === 1 ? `2026-12-06 10:00:00 1a-${i} <= ${who} H=(x) [198.51.100.${i % 250}]:1 I=[192.0.2.${i % 3}]:587 A=dovecot_login:${who} T="caf\u00e9 ${pad}" for z@y\r`
          : `2026-12-06 10:00:00 1a-${i} <= ${who} I=[192.0.2.9]:25 ${pad}`);
    }
    // The line across the filter's first block boundary is one to keep (same start, no shorter).
    let offset = 0;
    const k = rows.findIndex((r) => (offset += r.length + 1) > 4 * 1024 * 1024);
    const kept = '2026-12-06 10:00:00 1a-B <= alice@example.test I=[192.0.2.9]:25 ';
    rows[k] = kept + 'x'.repeat(Math.max(0, rows[k]!.length - kept.length));
    // latin1: the é is one byte that is not UTF-8.
    const text = Buffer.from(rows.join('\n'), 'latin1');
    expect(text.length).toBeGreaterThan(9 * 1024 * 1024);
    const across = text.toString('latin1', text.lastIndexOf(0x0a, 4 * 1024 * 1024) + 1, text.indexOf(0x0a, 4 * 1024 * 1024));
    expect(across.includes(' <= ') && needles.some((n) => across.includes(n))).toBe(true);
    const plain = join(dir, 'mainlog');
    const gz = join(dir, 'mainlog-1.gz');
    // Two gzip members, then bytes that are no gzip data (a copy appended to by hand): the
    // counters read past them and say so; the history takes the lines of the gzip data.
    const members = join(dir, 'mainlog-2.gz');
    const mid = text.indexOf(0x0a, 3 * 1024 * 1024) + 1;
    await writeFile(plain, text);
    await writeFile(gz, gzipSync(text));
    await writeFile(members, Buffer.concat([gzipSync(text.subarray(0, mid)), gzipSync(text.subarray(mid)), Buffer.from('\nappended by hand: not gzip\n')]));
    for (const file of [plain, gz, members]) {
      const offline: string[] = [];
      for await (const l of linesContaining(file, needles, undefined, (f) => offline.push(`first ${f}`), ' <= ')) offline.push(l);
      const host: string[] = [];
      const r = await filterHistoryRemote(new LocalTransport(), [{ kind: 'mainlog', needles, files: [file] }], { firstLine: (f) => host.push(`first ${f}`), line: (_k, l) => host.push(l) });
      expect(r.files.map((f) => f.state)).toEqual(['read']);
      expect(r.files[0]!.bytes).toBe(text.length);
      expect(host.length).toBeGreaterThan(10_000);
      expect(host).toEqual(offline);
    }
  }, 120_000);
});

/**
 * A mailbox taken over through webmail, on a host: Exim saw 127.0.0.1, the addresses are in the
 * webmail logs the host's layout names.
 */
describe('exim.detect on a host reads the webmail logs of its layout', () => {
  let base: string;
  let info: ReturnType<typeof createSimHost>;
  let sessionLog: string;
  const box = 'info@victim.test';
  const office = '198.51.100.71';
  const attackers = ['45.33.100.5', '2a0b:4c1:9e2:7::a1'];
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'runbook-host-webmail-'));
    info = createSimHost({ root: join(base, 'root') });
    const logs = new SmallLogs();
    const session: string[] = [];
    const webLogin = (t: number, ip: string): void => {
      session.push(`[${stamp(t)} +0000] info [cpsrvd] ${ip} NEW ${box}:q8Vn2mL0xT${t} address=${ip},app=webmaild,creator=${box},method=handle_form_login,path=form,possessed=0`);
    };
    for (let h = 8; h < 18; h++) {
      if (h % 3 === 2) webLogin(T0 + h * HOUR, office);
      logs.imap(T0 + h * HOUR + 60, 'office@victim.test', office);
      logs.smtp(T0 + h * HOUR + 300, { sender: box, ip: '127.0.0.1', authId: box, subject: `Quote ${h}`, rcpts: ['client@remote.test'], helo: 'localhost' });
    }
    for (const [i, ip] of attackers.entries()) webLogin(T0 + 19 * HOUR + 1200 + i * 300, ip);
    for (let i = 0; i < 300; i++) logs.smtp(T0 + 20 * HOUR + i * 20, { sender: box, ip: '127.0.0.1', authId: box, subject: 'Verify your mailbox now', rcpts: [`v${i}@victims.test`, `w${i}@victims.test`], helo: 'localhost' });
    const written = logs.write(join(base));
    await writeFile(info.mainlog, await readFile(written.mainlog));
    sessionLog = join(base, 'root', 'usr/local/cpanel/logs/session_log');
    await mkdir(dirname(sessionLog), { recursive: true });
    await writeFile(sessionLog, `${session.sort().join('\n')}\n`);
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  const detect = async (webmailLogs: string[]): Promise<Verdict & { problems: string[] }> => {
    const ctx = makeContext({ tools: info.tools, layout: { ...info.layout, maillog: join(base, 'maillog'), webmailLogs }, env: info.env });
    const action = eximDetectionActions.find((a) => a.name === 'exim.detect') as ReadOnlyAction;
    return (await action.run(ctx, { since: stamp(T0) } as never)).outputs as unknown as Verdict & { problems: string[] };
  };

  it('blocks the addresses that logged in to webmail before the run, not 127.0.0.1 nor the owner', async () => {
    const v = await detect([sessionLog, join(dirname(sessionLog), 'login_log')]);
    expect(v.sources.map((s) => s.id)).toEqual([box]);
    expect([...v.ips].sort()).toEqual([...attackers].sort());
    expect(v.ips).not.toContain('127.0.0.1');
    expect(v.not_blocked.find((n) => n.ip === office)?.class).toBe('owner');
    expect(v.problems).toEqual([]);
  });

  it('without the webmail logs, names the ones it looked for on the host and blocks nothing it cannot see', async () => {
    const elsewhere = [join(base, 'nowhere/session_log'), join(base, 'nowhere/login_log')];
    const v = await detect(elsewhere);
    expect(v.sources.map((s) => s.id)).toEqual([box]);
    expect(v.ips).toEqual([]);
    expect(v.problems).toEqual([
      `${box} sent 310 through webmail (127.0.0.1): who logged in is in ${elsewhere.join(' and ')} on test-host, not read (absent or unreadable; set layout.webmailLogs in the inventory if they are elsewhere); the attacker's addresses there are not blocked`,
    ]);
  });
});
