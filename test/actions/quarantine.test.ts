import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDf, parseDuTotal, parseManifest, parseSha256sum, quarantineReserve, queueRestore } from '../../src/actions/exim/quarantine.js';
import { queuePurge, queueQuarantine } from '../../src/actions/exim/purge.js';
import { builtinActions } from '../../src/actions/registry.js';
import { readAuditLog } from '../../src/audit/read.js';
import { AuditWriter } from '../../src/audit/writer.js';
import { runPlaybook, type TargetHandle } from '../../src/engine/run.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { LocalTransport } from '../../src/transport/local.js';
import { prepareUndo, runUndo } from '../../src/undo/index.js';
import { requireExim } from '../support/exim.js';
import { makeContext, mutating, planAndRun, type TestContext } from './support/context.js';
import { queueMessages } from './support/queue.js';
import { simHost, type SimHost } from './support/sim.js';

const SPAMMER = 'support@shop.example.test';
const registry = builtinActions();

/** Each message's `exim -bp` entry without its age column (which moves with the clock), by ID. */
function listing(exim: string): Map<string, string> {
  const out = spawnSync(exim, ['-bp'], { encoding: 'utf8' }).stdout;
  const byId = new Map<string, string>();
  for (const block of out.split(/\n\n+/)) {
    const m = /^\s*\d+[mhd]\s+(\S+\s+(\S+) <[\s\S]*)$/.exec(block);
    if (m !== null) byId.set(m[2] ?? '', (m[1] ?? '').trimEnd());
  }
  return byId;
}

describe('quarantine helpers', () => {
  it('reads sha256sum output and refuses a manifest that names other files', () => {
    expect([...parseSha256sum(`${'a'.repeat(64)}  /q/1xV5FE-0001it-00-H\n${'b'.repeat(64)} */q/x y-D\n`)]).toEqual([
      ['/q/1xV5FE-0001it-00-H', 'a'.repeat(64)],
      ['/q/x y-D', 'b'.repeat(64)],
    ]);
    const entry = { id: '1xV5FE-0001it-00', sender: SPAMMER, recipients: ['a@b.test'], files: [{ name: '1xV5FE-0001it-00-H', sha256: 'a'.repeat(64) }, { name: '1xV5FE-0001it-00-D', sha256: 'b'.repeat(64) }] };
    const manifest = { format: 'runbook-quarantine/1', created: '', host: 'h', spool: { input_dir: '/x/input', split: true }, messages: [entry] };
    expect(parseManifest(JSON.stringify(manifest), '/q').messages).toHaveLength(1);
    const evil = { ...manifest, messages: [{ ...entry, files: [{ name: '../../etc/passwd', sha256: 'a'.repeat(64) }, entry.files[1]] }] };
    expect(() => parseManifest(JSON.stringify(evil), '/q')).toThrow(/will not restore/);
    expect(() => parseManifest('{"format":"other"}', '/q')).toThrow(/not a runbook quarantine manifest/);
  });
});

describe('room for a quarantine', () => {
  it('reads df and du, and keeps 2% of the filesystem free, at least 100 MiB and at most 1 GiB', () => {
    expect(parseDf('   1B-blocks       Avail\n270553174016 79635521536\n')).toEqual({ size: 270553174016, avail: 79635521536 });
    expect(parseDf('')).toBeUndefined();
    expect(parseDuTotal('3\t/etc/hostname\n3\ttotal\n')).toBe(3);
    expect(quarantineReserve(1e9)).toBe(100 * 2 ** 20);
    expect(quarantineReserve(20e9)).toBe(400e6);
    expect(quarantineReserve(270e9)).toBe(2 ** 30);
  });
});

const isRoot = process.getuid?.() === 0;
describe.runIf(requireExim() && (isRoot || (process.env.CI ?? '') !== ''))('a quarantine on a nearly full filesystem (tmpfs)', () => {
  let sim: SimHost;
  let ctx: TestContext;
  let mount: string;
  beforeEach(() => {
    // Under CI a missing part fails the test; mounting needs root.
    expect(isRoot, 'mounting a tmpfs for the quarantine needs root').toBe(true);
    sim = simHost({ exim: 'real' });
    ctx = makeContext({ tools: sim.tools, layout: sim.layout, env: sim.env });
    queueMessages(sim.tools.exim, Array.from({ length: 3 }, (_, i) => ({ from: SPAMMER, subject: `prize ${i}` })));
    mount = join(sim.root, 'small');
    mkdirSync(mount);
    // 64 MiB: less than the 100 MiB a quarantine must leave free.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m,mode=0700', 'tmpfs', mount]);
  });
  afterEach(() => {
    execFileSync('umount', [mount]);
    sim.cleanup();
  });

  it('is refused before anything is removed, saying what to do', async () => {
    const before = [...listing(sim.tools.exim).keys()].sort();
    await expect(mutating(queueQuarantine).plan(ctx, { sender: SPAMMER, quarantine_dir: join(mount, 'q') } as never)).rejects.toThrow(
      /the quarantine needs [\d.]+ MiB under \S+\/small\/q, and \S+\/small's filesystem has 64\.0 MiB free: copying would leave less than 100\.0 MiB.*Nothing was removed\. Give quarantine_dir on a filesystem with room/,
    );
    expect([...listing(sim.tools.exim).keys()].sort()).toEqual(before);
    expect(ctx.calls.some((c) => c.argv.includes('-Mrm') || c.argv[0] === 'cp')).toBe(false);
  });

  it('goes ahead where there is room, and the plan says how much it copies', async () => {
    execFileSync('mount', ['-o', 'remount,size=256m', mount]);
    const { plan, result } = await planAndRun(queueQuarantine, ctx, { sender: SPAMMER, quarantine_dir: join(mount, 'q') });
    expect(plan.facts).toMatchObject({ quarantine_bytes: expect.any(Number), free_bytes: 256 * 2 ** 20 });
    expect((plan.facts as { quarantine_bytes: number }).quarantine_bytes).toBeGreaterThan(0);
    expect(result.outputs['removed']).toBe(3);
  });
});

describe.runIf(requireExim())('queue quarantine on a real Exim queue', () => {
  let sim: SimHost;
  let ctx: TestContext;
  beforeEach(() => {
    sim = simHost({ exim: 'real' });
    ctx = makeContext({ tools: sim.tools, layout: sim.layout, env: sim.env });
    queueMessages(sim.tools.exim, [
      ...Array.from({ length: 5 }, (_, i) => ({ from: SPAMMER, to: `victim${i}@remote.test`, subject: `prize ${i}` })),
      { from: 'sales@shop.example.test', subject: 'real mail' },
    ]);
  });
  afterEach(() => sim.cleanup());

  it('without quarantine, the plan says nothing can restore the messages and the purge records no undo', async () => {
    const plan = await mutating(queuePurge).plan(ctx, { sender: SPAMMER } as never);
    expect(plan.summary).toMatch(/NOTHING CAN RESTORE the messages: add quarantine: true/);
    expect(plan.facts).toMatchObject({ restorable: false });
    expect(queuePurge.mutates && queuePurge.reversible).toBe(false);
    expect(queueQuarantine.mutates && queueQuarantine.reversible).toBe(true);
  });

  it('keeps the spool files and a manifest before exim -Mrm, and the restore puts the messages back exactly', async () => {
    const before = listing(sim.tools.exim);
    const spam = [...before].filter(([, text]) => text.includes(`<${SPAMMER}>`)).map(([id]) => id);
    expect(spam).toHaveLength(5);
    const { plan, result } = await planAndRun(queuePurge, ctx, { sender: SPAMMER, quarantine: true });
    expect(plan.summary).toMatch(/kept in quarantine first; runbook undo can put them back/);
    const dir = result.outputs['quarantine'] as string;
    expect(dir.startsWith(join(sim.spoolDir, 'runbook-quarantine/'))).toBe(true);
    expect(result.irreversible).toEqual([]);
    expect(result.changes).toEqual([{ kind: 'messages-removed', count: 5, ids: expect.any(Array), sender: SPAMMER, quarantine: dir }]);
    // Every message was copied (both files) before the exim -Mrm that removed it.
    const firstRm = ctx.calls.findIndex((c) => c.argv.includes('-Mrm'));
    const copies = ctx.calls.slice(0, firstRm).filter((c) => c.argv[0] === 'cp').flatMap((c) => c.argv);
    for (const id of spam) for (const s of ['-H', '-D']) expect(copies.some((a) => a.endsWith(`${id}${s}`))).toBe(true);
    expect([...listing(sim.tools.exim).keys()]).toHaveLength(1);

    const manifest = parseManifest(readFileSync(join(dir, 'manifest.json'), 'utf8'), dir);
    expect(manifest.messages.map((m) => m.id).sort()).toEqual([...spam].sort());
    expect(manifest.messages.every((m) => m.sender === SPAMMER && m.recipients.length === 1 && m.files.length === 2)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['manifest.json', ...spam.flatMap((id) => [`${id}-D`, `${id}-H`])].sort());

    // Split-spool directories left empty may be gone by the time of the restore: it makes them, as Exim's.
    const input = join(sim.spoolDir, 'input');
    for (const sub of readdirSync(input)) if (readdirSync(join(input, sub)).length === 0) rmdirSync(join(input, sub));
    const undo = result.undo![0]!;
    expect(undo.action).toBe(queueRestore.name);
    const restored = await planAndRun(queueRestore, ctx, undo.params);
    expect(restored.result.changes).toEqual([{ kind: 'messages-restored', count: 5, ids: expect.any(Array), quarantine: dir }]);
    const after = listing(sim.tools.exim);
    for (const id of spam) expect(after.get(id)).toBe(before.get(id));
    for (const id of spam) expect(statSync(join(input, id.charAt(5))).uid).toBe(statSync(input).uid);
    // Restoring twice changes nothing.
    expect((await mutating(queueRestore).plan(ctx, undo.params as never)).noop).toBe(true);

    // And a restored message can be delivered (the test config's router blackholes it).
    const delivered = spawnSync(sim.tools.exim, ['-M', spam[0]!], { encoding: 'utf8' });
    expect(delivered.status).toBe(0);
    expect(listing(sim.tools.exim).has(spam[0]!)).toBe(false);
    expect(readFileSync(join(sim.root, 'var/log/exim_mainlog'), 'utf8')).toMatch(new RegExp(`${spam[0]} Completed`));
  });

  it("works the same on a spool that is not split (Debian's layout)", async () => {
    sim.cleanup();
    sim = simHost({ exim: 'real' });
    const conf = join(sim.root, 'etc/exim.conf');
    writeFileSync(conf, readFileSync(conf, 'utf8').replace('split_spool_directory = yes', 'split_spool_directory = no'));
    ctx = makeContext({ tools: sim.tools, layout: sim.layout, env: sim.env });
    queueMessages(sim.tools.exim, [{ from: SPAMMER, subject: 'one' }, { from: SPAMMER, subject: 'two' }]);
    const before = listing(sim.tools.exim);
    const { result } = await planAndRun(queuePurge, ctx, { sender: SPAMMER, quarantine: true });
    expect(result.outputs['removed']).toBe(2);
    expect(readdirSync(join(sim.spoolDir, 'input')).filter((n) => /-[HD]$/.test(n))).toEqual([]);
    await planAndRun(queueRestore, ctx, result.undo![0]!.params);
    expect(readdirSync(join(sim.spoolDir, 'input')).filter((n) => /-[HD]$/.test(n))).toHaveLength(4);
    expect(listing(sim.tools.exim)).toEqual(before);
  });

  it('refuses a quarantine whose files changed since the purge', async () => {
    const { result } = await planAndRun(queuePurge, ctx, { sender: SPAMMER, quarantine: true });
    const dir = result.outputs['quarantine'] as string;
    const id = (result.outputs['removed_ids'] as string[])[0]!;
    spawnSync('sh', ['-c', `echo tampered >> '${join(dir, `${id}-D`)}'`]);
    await expect(mutating(queueRestore).plan(ctx, result.undo![0]!.params as never)).rejects.toThrow(/does not match its sha256/);
    expect(listing(sim.tools.exim).size).toBe(1);
  });

  it('runbook undo on the audit log of a quarantining purge puts the messages back in the queue', async () => {
    const before = listing(sim.tools.exim);
    const target: TargetHandle = {
      name: 'sim1',
      connect: async () => ({ name: 'sim1', transport: new LocalTransport({ host: 'sim1', env: sim.env }), tools: sim.tools, layout: sim.layout, vars: {} }),
    };
    const common = (auditPath: string) => ({
      targets: [target],
      registry,
      dryRun: false,
      gatekeeper: { ask: async () => ({ answer: 'accepted' as const, by: 'test' }) },
      audit: AuditWriter.create(auditPath),
      argv: ['runbook', 'test'],
      toolVersion: 'test',
      observer: () => {},
      signal: new AbortController().signal,
      deliverSecret: async () => 'nowhere',
    });
    const playbook = parsePlaybook(join(sim.root, 'q.yml'), `name: quarantine-test\nsteps:\n  - id: purge\n    action: ${queueQuarantine.name}\n    with: { sender: "${SPAMMER}" }\n`, registry);
    const applyLog = join(sim.root, 'audit/apply.jsonl');
    const apply = common(applyLog);
    const report = await runPlaybook({ ...apply, playbook, inputs: {} });
    apply.audit.close();
    expect(report.status).toBe('ok');
    expect(listing(sim.tools.exim).size).toBe(1);
    const finish = readAuditLog(applyLog).records.find((r) => r.type === 'step.finish' && r.step === 'purge');
    expect(finish?.type === 'step.finish' && finish.changes?.[0]).toMatchObject({ kind: 'messages-removed', count: 5 });

    const prepared = prepareUndo(applyLog, registry);
    expect(prepared.plan.irreversible).toEqual([]);
    expect(prepared.plan.entries.map((e) => e.action)).toEqual([queueRestore.name]);
    const undo = common(join(sim.root, 'audit/undo.jsonl'));
    const undone = await runUndo(prepared, undo);
    undo.audit.close();
    expect(undone.status).toBe('ok');
    const after = listing(sim.tools.exim);
    expect(after.size).toBe(6);
    for (const [id, text] of before) expect(after.get(id)).toBe(text);
    expect(existsSync(join(sim.spoolDir, 'runbook-quarantine'))).toBe(true);
  });
});
