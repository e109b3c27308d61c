import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIncident, type IncidentManifest } from '../../fixtures/generator/incident.mjs';
import type { AuditRecord, HostFinishRecord, NoteRecord, StepFinishRecord } from '../../src/audit/records.js';
import { CLI, REPO, runCli } from '../cli/run-cli.js';
import { startSshHosts, sshAvailable, type SshTestFleet, type SshTestHost } from '../support/ssh-hosts.js';
import { hashHostState } from '../support/state-hash.js';

/**
 * The shipped spam-incident playbook, through the built CLI, over SSH to four real sshd hosts
 * on loopback. Each host has its own mount namespace (/run, /home, /etc/csf, spool) and its own
 * simulated cPanel server with a staged incident under its root.
 */

// Small incidents: the thresholds below are lowered to match.
const SIZES = { spam: 16, script: 12, legit: 4, bounces: 2, frozen: 1 };
const FAST = ['--var', 'min_messages=8', '--var', 'watch_for=1s'];

function records(path: string): AuditRecord[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
}

function finishes(path: string): Map<string, HostFinishRecord> {
  const out = new Map<string, HostFinishRecord>();
  for (const r of records(path)) if (r.type === 'host.finish') out.set(r.host, r);
  return out;
}

/** Message IDs in a spool (split or flat), from the -H file names. */
function queuedIds(spoolDir: string): string[] {
  const input = join(spoolDir, 'input');
  const ids: string[] = [];
  for (const e of readdirSync(input, { withFileTypes: true })) {
    if (e.isDirectory()) {
      for (const f of readdirSync(join(input, e.name))) if (f.endsWith('-H')) ids.push(f.slice(0, -2));
    } else if (e.name.endsWith('-H')) ids.push(e.name.slice(0, -2));
  }
  return ids.sort();
}

function shadowLine(m: IncidentManifest): string | undefined {
  const local = m.mailbox.split('@')[0]!;
  const text = readFileSync(join(m.root, 'home', m.cpanelUser, 'etc', m.domain, 'shadow'), 'utf8');
  return text.split('\n').find((l) => l.startsWith(`${local}:`));
}

function passwords(secretsFile: string): string[] {
  if (!existsSync(secretsFile)) return [];
  return readFileSync(secretsFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split('\t').at(-1)!);
}

interface ApplyResult {
  /** The exit code, or when the process had to be stopped, the one its audit log records. */
  code: number | null;
  stdout: string;
  stderr: string;
  auditLog: string | undefined;
  /** Still running LINGER_MS after it printed its result (connections left open). */
  lingered: boolean;
}

const LINGER_MS = 5_000;

/**
 * Runs `runbook apply` like run-cli.ts does, but does not wait forever for a process that has
 * finished its work and printed its result yet does not exit: it is stopped after LINGER_MS
 * and reported as `lingered`, so the rest of the run can still be checked.
 */
function runApply(args: string[], env: Record<string, string>): Promise<ApplyResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let lingered = false;
    let linger: NodeJS.Timeout | undefined;
    const done = (): boolean => {
      if (/^Audit log: /m.test(stderr)) return true;
      try {
        return typeof (JSON.parse(stdout) as { exitCode?: unknown }).exitCode === 'number';
      } catch {
        return false;
      }
    };
    const check = () => {
      if (linger === undefined && done()) {
        linger = setTimeout(() => {
          lingered = true;
          child.kill('SIGKILL');
        }, LINGER_MS);
      }
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      check();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      check();
    });
    const hard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (exit) => {
      clearTimeout(hard);
      if (linger) clearTimeout(linger);
      let auditLog = /^Audit log: (.+)$/m.exec(stderr)?.[1];
      try {
        auditLog ??= (JSON.parse(stdout) as { auditLog?: string }).auditLog;
      } catch {
        // not JSON output
      }
      let code = exit;
      if (lingered && auditLog !== undefined) {
        const summary = records(auditLog).find((r) => r.type === 'run.summary');
        code = summary?.type === 'run.summary' ? summary.exitCode : null;
      }
      resolve({ code, stdout, stderr, auditLog, lingered });
    });
    child.stdin.end('');
  });
}

/** Outcome table row for a host: `HOST  STATUS ...`. */
function row(stdout: string, host: string): string | undefined {
  return stdout.split('\n').find((l) => l.startsWith(`${host} `));
}

describe.runIf(sshAvailable || process.env.CI)('spam-incident across a fleet over SSH, through the CLI', () => {
  let fleet: SshTestFleet;
  let base: string;
  let inventory: string;
  const manifests = new Map<string, IncidentManifest>();
  const shadowsBefore = new Map<string, string | undefined>();
  const queuedBefore = new Map<string, string[]>();
  const outputs: ApplyResult[] = [];
  const secretsFiles: string[] = [];
  const host = (i: number): SshTestHost => fleet.hosts[i]!;
  const m = (h: SshTestHost): IncidentManifest => manifests.get(h.name)!;
  // No ~/.ssh/config, agent or known_hosts of this machine leaks into the runs.
  const env = (): Record<string, string> => ({ HOME: join(base, 'home'), SSH_AUTH_SOCK: '' });
  const audit = () => join(base, 'audit');

  beforeAll(async () => {
    expect(existsSync(join(process.cwd(), 'dist/cli/main.js')), 'run `npm run build` first (npm test does)').toBe(true);
    base = mkdtempSync(join(tmpdir(), 'runbook-fleet-apply-'));
    mkdirSync(join(base, 'home'));
    fleet = await startSshHosts(4, {
      namePrefix: 'mx',
      prepare: async ({ name, root, index }) => {
        const manifest = await generateIncident({ root, mode: 'synthetic', sizes: SIZES, seed: 900 + index });
        manifests.set(name, manifest);
      },
    });
    for (const h of fleet.hosts) {
      shadowsBefore.set(h.name, shadowLine(m(h)));
      queuedBefore.set(h.name, queuedIds(m(h).spoolDir));
    }
    inventory = join(base, 'inventory.yml');
    // Per host: where its simulated cPanel tools and files live (all under its own root).
    writeFileSync(
      inventory,
      JSON.stringify({
        hosts: Object.fromEntries(
          fleet.hosts.map((h) => [
            h.name,
            {
              ssh_host: '127.0.0.1',
              port: h.port,
              user: 'root',
              identity_file: fleet.clientKey,
              tools: m(h).tools,
              layout: m(h).layout,
              vars: { allow_documentation_ips: true },
            },
          ]),
        ),
      }),
    );
  });

  afterAll(async () => {
    await fleet?.stop();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  const apply = (extra: string[]) =>
    runApply(['apply', 'playbooks/spam-incident.yml', '-i', inventory, '--known-hosts', fleet.knownHostsFile, '--audit-dir', audit(), ...FAST, ...extra], env());

  /** Checked last in each test, so a process that does not exit fails the test without hiding the rest. */
  function expectExited(results: ApplyResult[]): void {
    expect(results.filter((r) => r.lingered).map((r) => r.auditLog), 'runbook apply over SSH exits by itself once the run is over').toEqual([]);
  }

  function expectContained(h: SshTestHost): void {
    const manifest = m(h);
    // Both flagged sources are purged: the mailbox's mail and the script's.
    const spam = new Set([...manifest.messages.spammer, ...manifest.messages.script]);
    expect(queuedIds(manifest.spoolDir), `${h.name}: queue`).toEqual(queuedBefore.get(h.name)!.filter((id) => !spam.has(id)));
    expect(statSync(manifest.script.path).mode & 0o777, `${h.name}: script mode`).toBe(0);
    const deny = readFileSync(join(manifest.layout.csfDir, 'csf.deny'), 'utf8');
    for (const ip of [...manifest.attackerIps, manifest.scriptIp]) expect(deny, `${h.name}: csf.deny`).toContain(ip);
    const after = shadowLine(manifest);
    expect(after).toMatch(/^[^:]+:\$6\$/);
    expect(after, `${h.name}: shadow`).not.toBe(shadowsBefore.get(h.name));
  }

  it('an unknown host key is refused; --accept-new-host-keys trusts it and the audit log says so', async () => {
    const h = host(0);
    const known = join(base, 'empty_known_hosts');
    writeFileSync(known, '');
    const before = hashHostState(h.root);
    const base_ = ['apply', 'playbooks/spam-incident.yml', '-i', inventory, '-l', h.name, '--known-hosts', known, '--audit-dir', join(base, 'keys'), '--dry-run', ...FAST];

    const refused = await runApply(base_, env());
    expect(refused.code).toBe(1);
    expect(refused.stdout + refused.stderr).toMatch(/unknown host key for \[127\.0\.0\.1\]:\d+/);
    expect(finishes(refused.auditLog!).get(h.name)).toMatchObject({ status: 'unreachable', error: expect.stringMatching(/unknown host key .*--accept-new-host-keys/) });
    expect(readFileSync(known, 'utf8')).toBe('');

    const accepted = await runApply([...base_, '--accept-new-host-keys', '--json'], env());
    expect(accepted.code, accepted.stderr).toBe(0);
    const log = accepted.auditLog!;
    // The detection that ran on the host with perl is in the log like every other command.
    const perl = records(log).filter((r) => r.type === 'command.result' && r.argv[0] === 'perl');
    expect(perl.length).toBeGreaterThanOrEqual(2);
    expect(perl.every((r) => r.type === 'command.result' && r.exitCode === 0)).toBe(true);
    const note = records(log).find((r): r is NoteRecord => r.type === 'note' && /host key accepted on first use/.test(r.message));
    expect(note).toMatchObject({ host: `[127.0.0.1]:${h.port}`, data: { fingerprint: expect.stringMatching(/^SHA256:/) } });
    expect(readFileSync(known, 'utf8')).toContain(h.hostKeyPub);
    // A dry-run changes nothing on the host.
    expect(hashHostState(h.root)).toBe(before);
    expectExited([refused, accepted]);
  });

  it('a host down, one whose sshd dies mid-run, one whose step fails: the others finish and the log says which', async () => {
    const [ok, down, dies, fails] = [host(0), host(1), host(2), host(3)];
    await down.stop();
    writeFileSync(join(fails.root, 'var/sim/fail-restart-exim'), '');
    const secrets = join(base, 'secrets-1.tsv');
    secretsFiles.push(secrets);

    // Kill the dying host's sshd as soon as containment starts there (its first cPanel call).
    const calls = join(dies.root, 'var/log/sim-calls.log');
    let killed = false;
    const watcher = setInterval(() => {
      if (killed || !existsSync(calls)) return;
      if (/"tool":"(uapi|whmapi1)"/.test(readFileSync(calls, 'utf8'))) {
        killed = true;
        dies.kill();
      }
    }, 10);
    let r: ApplyResult;
    try {
      r = await apply(['--yes', '--secrets-file', secrets]);
    } finally {
      clearInterval(watcher);
    }
    outputs.push(r);
    expect(killed, 'the run reached containment on the host that dies').toBe(true);
    expect(r.code, r.stdout + r.stderr).toBe(1);

    // The healthy host is fully contained.
    expectContained(ok);

    // The outcome table and the audit log agree on what happened to each host.
    // Every counter an action declares that is non-zero gets a column.
    expect(r.stdout).toMatch(/^HOST\s+STATUS\s+PASSWORDS RESET\s+SERVICES RESTARTED\s+SCRIPTS DISABLED\s+MESSAGES PURGED\s+IPS BLOCKED\s+DETAIL$/m);
    expect(row(r.stdout, ok.name)).toMatch(/^mx-0\s+changed\s+1\s+2\s+1\s+28\s+3\s*/);
    expect(row(r.stdout, down.name)).toMatch(/^mx-1\s+unreachable\s/);
    expect(row(r.stdout, dies.name)).toMatch(/^mx-2\s+unreachable\s.*connection to .* lost/);
    expect(row(r.stdout, fails.name)).toMatch(/^mx-3\s+failed\s.*restart/i);
    const log = r.auditLog!;
    const fin = finishes(log);
    expect(fin.get(ok.name)).toMatchObject({ status: 'changed', counts: { messages_purged: 28, ips_blocked: 3 } });
    expect(fin.get(down.name)).toMatchObject({ status: 'unreachable', error: expect.stringMatching(/ECONNREFUSED|refused|connect/i) });
    expect(fin.get(dies.name)).toMatchObject({ status: 'unreachable', error: expect.stringMatching(/connection to 127\.0\.0\.1:\d+ lost/) });
    // On the host that died: the step that was running when the connection went is failed (its
    // intent is on record, so "may have happened" is visible), and nothing after it ran.
    const diesSteps = records(log).filter((x): x is StepFinishRecord => x.type === 'step.finish' && x.host === dies.name);
    const broken = diesSteps.findIndex((x) => x.status === 'failed');
    expect(broken).toBeGreaterThan(0);
    expect(diesSteps[broken]!.error).toMatch(/connection to .* lost/);
    expect(records(log).some((x) => x.type === 'command.intent' && x.host === dies.name && x.step === diesSteps[broken]!.step)).toBe(true);
    for (const later of diesSteps.slice(broken + 1)) expect(later).toMatchObject({ status: 'skipped', summary: expect.stringMatching(/not run: host unreachable/) });
    expect(fin.get(fails.name)).toMatchObject({ status: 'failed', error: expect.stringMatching(/restart/i) });
    expect(records(log).at(-1)).toMatchObject({ type: 'run.summary', status: 'failed', exitCode: 1 });
    // The host whose restart failed was not purged or blocked: the run stopped there.
    expect(queuedIds(m(fails).spoolDir)).toEqual(queuedBefore.get(fails.name));
    const verify = await runCli(['audit', 'verify', log]);
    expect(verify.code, verify.stderr).toBe(0);

    // Then: bring the hosts back, clear the fault, and finish the job on the failed ones only.
    rmSync(join(fails.root, 'var/sim/fail-restart-exim'));
    await down.restart();
    await dies.restart();
    const okCallsBefore = readFileSync(join(ok.root, 'var/log/sim-calls.log'), 'utf8');
    const secrets2 = join(base, 'secrets-2.tsv');
    secretsFiles.push(secrets2);
    // The run on the dead host could not release its lock: --break-stale-lock takes it over (its owner is gone).
    const again = await apply(['--yes', '--rerun-failed', log, '--break-stale-lock', '--secrets-file', secrets2]);
    outputs.push(again);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(row(again.stdout, ok.name)).toBeUndefined();
    for (const h of [down, dies, fails]) {
      expect(row(again.stdout, h.name)).toMatch(/\s(changed|ok)\s/);
      expectContained(h);
    }
    // The host that was already done was not touched again.
    expect(readFileSync(join(ok.root, 'var/log/sim-calls.log'), 'utf8')).toBe(okCallsBefore);
    const log2 = again.auditLog!;
    expect(log2).not.toBe(log);
    const fin2 = finishes(log2);
    expect([...fin2.keys()].sort()).toEqual([down.name, dies.name, fails.name]);
    for (const f of fin2.values()) expect(f.status).toBe('changed');
    // Taking over the dead run's lock is on record.
    expect(records(log2).find((x): x is NoteRecord => x.type === 'note' && x.host === dies.name && /broke a stale run lock/.test(x.message))).toBeDefined();
    expectExited([r, again]);
  });

  it('no new password appears in any output, audit log, host log or command line', () => {
    const secrets = secretsFiles.flatMap(passwords);
    // One per mailbox reset: four hosts, some reset twice.
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    for (const s of secrets) expect(s).toMatch(/^[A-Za-z0-9]{16,}$/);
    const sinks = [
      ...outputs.flatMap((o) => [o.stdout, o.stderr]),
      ...readdirSync(audit()).map((f) => readFileSync(join(audit(), f), 'utf8')),
      // The simulator logs every argv it is called with.
      ...fleet.hosts.map((h) => readFileSync(join(h.root, 'var/log/sim-calls.log'), 'utf8')),
    ];
    for (const s of secrets) for (const sink of sinks) expect(sink.includes(s)).toBe(false);
  });
});

