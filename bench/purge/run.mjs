#!/usr/bin/env node
// Queue purge benchmark: runbook's exim.queue.purge (plan + run through the engine's action
// context, header evidence and a real fsynced audit log included) against the classic
// `exiqgrep -i -f SENDER | xargs exim -Mrm`, each on an identical copy of one generated spool.
//
//   npx tsc -p tsconfig.build.json && node bench/purge/run.mjs [--total 40000] [--spam 20000] [--rounds 3]
//
// Needs root and Debian's exim4-daemon-light. Writes JSON to bench/out/purge.json and prints a
// Markdown table for the "Queue purge" section of bench/RESULTS.md.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSimHost } from '../../fixtures/sim/host.mjs';
import { queuePurge } from '../../dist/actions/exim/purge.js';
import { AuditWriter } from '../../dist/audit/writer.js';
import { createActionContext } from '../../dist/engine/context.js';
import { Recorder } from '../../dist/engine/recorder.js';
import { LocalTransport } from '../../dist/transport/local.js';

const { values } = parseArgs({
  options: { total: { type: 'string', default: '40000' }, spam: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '3' } },
});
const TOTAL = Number(values.total);
const SPAM = Number(values.spam);
const ROUNDS = Number(values.rounds);
const SPAMMER = 'support@shop.example.test';

const root = mkdtempSync(join(tmpdir(), 'runbook-bench-purge-'));
chmodSync(root, 0o755);
const sim = createSimHost({ root, exim: 'real' });
const conf = join(root, 'etc/exim.conf');
const spool = join(root, 'var/spool/exim');
const master = join(root, 'spool-master');
// A shell-free wrapper would cost a node start per call; both contenders use this same one.
const exim = join(root, 'exim');
writeFileSync(exim, `#!/bin/sh\nexec /usr/sbin/exim -C ${conf} "$@"\n`, { mode: 0o755 });

function chunkInput(offset, end) {
  let input = '';
  for (let i = offset; i < end; i += 1) {
    // Spread the SPAM spammer messages evenly through the queue.
    const spam = Math.floor(((i + 1) * SPAM) / TOTAL) > Math.floor((i * SPAM) / TOTAL);
    const from = spam ? SPAMMER : `user${i % 500}@other${i % 37}.example.test`;
    const subject = spam ? `You won a prize ${i % 7}` : `Order ${i}`;
    const php = spam ? 'X-PHP-Script: shop.example.test/wp-content/N138UVkOgLJ.php for 45.33.12.7\n' : '';
    input += `MAIL FROM:<${from}>\nRCPT TO:<victim${i}@remote.test>\nDATA\nSubject: ${subject}\n${php}\nbody ${i}\n.\n`;
  }
  return input + 'QUIT\n';
}

function feed(input, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(exim, ['-bS'], { env, stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(undefined) : reject(new Error(`exim -bS: ${err}`))));
    child.stdin.end(input);
  });
}

async function generate() {
  const started = performance.now();
  // Generation is not measured: skip Exim's per-message fsync when libeatmydata is there.
  const eatmydata = '/usr/lib/x86_64-linux-gnu/libeatmydata.so';
  const env = existsSync(eatmydata) ? { ...process.env, LD_PRELOAD: eatmydata } : process.env;
  const CHUNK = 2500;
  const chunks = [];
  for (let offset = 0; offset < TOTAL; offset += CHUNK) chunks.push([offset, Math.min(TOTAL, offset + CHUNK)]);
  const workers = Array.from({ length: 4 }, async () => {
    for (let next = chunks.shift(); next !== undefined; next = chunks.shift()) await feed(chunkInput(next[0], next[1]), env);
  });
  await Promise.all(workers);
  copyTree(spool, master);
  return performance.now() - started;
}

/** cp -a keeps the Debian-exim ownership Exim needs to read its own spool. */
function copyTree(from, to) {
  const r = spawnSync('cp', ['-a', '--', from, to]);
  if (r.status !== 0) throw new Error(`cp -a ${from} ${to}: ${r.stderr}`);
}

function restoreSpool() {
  rmSync(spool, { recursive: true, force: true });
  copyTree(master, spool);
  spawnSync('sync', []);
}

function count() {
  return Number(spawnSync(exim, ['-bpc'], { encoding: 'utf8' }).stdout.trim());
}

async function baseline() {
  const started = performance.now();
  await new Promise((resolve, reject) => {
    const grep = spawn('/usr/sbin/exiqgrep', ['-C', conf, '-i', '-f', `^<${SPAMMER.replaceAll('.', '\\.')}>$`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const xargs = spawn('xargs', ['-r', exim, '-Mrm'], { stdio: [grep.stdout, 'ignore', 'inherit'] });
    xargs.on('error', reject);
    xargs.on('close', () => resolve(undefined));
  });
  return performance.now() - started;
}

async function runbook(round) {
  const auditPath = join(root, `audit-${round}-${performance.now()}.jsonl`);
  const started = performance.now();
  const writer = AuditWriter.create(auditPath);
  const recorder = new Recorder(writer);
  const target = { name: 'bench', transport: new LocalTransport({ host: 'bench' }), tools: { ...sim.tools, exim }, layout: sim.layout, vars: {} };
  const base = { target, step: 'purge', recorder, observer: () => {}, signal: new AbortController().signal, dryRun: false, deliverSecret: async () => 'none' };
  const params = { sender: SPAMMER, max: 50000 };
  const plan = await queuePurge.plan(createActionContext({ ...base, mutating: false }), params);
  recorder.record({ type: 'plan', planHash: 'bench', steps: [{ host: 'bench', step: 'purge', action: queuePurge.name, mutates: true, params, summary: plan.summary, commands: plan.commands.map((c) => c.argv), facts: plan.facts }] });
  recorder.durable({ type: 'step.start', host: 'bench', step: 'purge', action: queuePurge.name, mutates: true, params });
  const result = await queuePurge.run(createActionContext({ ...base, mutating: true }), params, plan);
  recorder.durable({ type: 'step.finish', host: 'bench', step: 'purge', action: queuePurge.name, status: 'changed', summary: result.summary, outputs: result.outputs, irreversible: result.irreversible, durationMs: Math.round(performance.now() - started) });
  writer.close();
  return { ms: performance.now() - started, removed: result.outputs.removed, evidence: result.outputs.evidence.headers_read };
}

const genMs = await generate();
console.error(`generated ${count()} messages in ${(genMs / 1000).toFixed(1)}s`);
const rows = [];
for (let round = 0; round < ROUNDS; round += 1) {
  // Alternate the order so page-cache warmth favours neither contender.
  const order = process.env.BENCH_ORDER ? process.env.BENCH_ORDER.split(',') : round % 2 === 0 ? ['baseline', 'runbook'] : ['runbook', 'baseline'];
  const row = { round };
  for (const who of order) {
    restoreSpool();
    const before = count();
    if (who === 'baseline') row.baselineMs = await baseline();
    else Object.assign(row, { runbookMs: undefined }, await runbook(round).then((r) => ({ runbookMs: r.ms, removed: r.removed, evidence: r.evidence })));
    const after = count();
    row[`${who}Left`] = after;
    if (before - after !== SPAM) throw new Error(`${who} removed ${before - after}, expected ${SPAM}`);
  }
  rows.push(row);
  console.error(JSON.stringify(row));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = {
  total: TOTAL,
  spam: SPAM,
  rounds: ROUNDS,
  baselineMedianMs: Math.round(median(rows.map((r) => r.baselineMs))),
  runbookMedianMs: Math.round(median(rows.map((r) => r.runbookMs))),
  rows,
};
summary.ratio = Number((summary.runbookMedianMs / summary.baselineMedianMs).toFixed(3));
mkdirSync(new URL('../out/', import.meta.url), { recursive: true });
writeFileSync(new URL('../out/purge.json', import.meta.url), JSON.stringify(summary, null, 2) + '\n');
console.log(`| contender | median of ${ROUNDS} (s) |\n|---|---|\n| \`exiqgrep -i -f SENDER \\| xargs exim -Mrm\` | ${(summary.baselineMedianMs / 1000).toFixed(2)} |\n| runbook \`exim.queue.purge\` (plan + evidence + run + fsynced audit) | ${(summary.runbookMedianMs / 1000).toFixed(2)} |\n\nratio ${summary.ratio}`);
rmSync(root, { recursive: true, force: true });
