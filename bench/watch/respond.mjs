#!/usr/bin/env node
// Time from a trip to the hold: the responder's part of "first spam message to hold".
//
// A simulated cPanel host whose queue is Debian's real Exim gets a compromised mailbox's burst
// (SMTP AUTH sessions through `exim -bs`, written by Exim to its own main log). The real CLI,
// `runbook watch --config … --once --json`, reads it, trips compromised-mailbox and runs the
// shipped playbooks/watch-contain.yml unattended (hold + freeze), then dry-runs
// playbooks/watch-finish.yml for the approve command. Measured per round, in wall time:
//   trip → hold done:   the trigger line on stdout → the hold step's finish record (audit `ts`)
//   trip → frozen:      → the freeze step's finish record
//   trip → outcome:     → the outcome line on stdout (containment, the finish plan, notifying)
// The detection half (log time from the first spam line to the trip) is bench/watch/run.mjs's.
//
// Usage: npx tsc -p tsconfig.build.json && node bench/watch/respond.mjs [rounds]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateIncident } from '../../fixtures/generator/incident.mjs';
import { simHostInfo } from '../../fixtures/sim/host.mjs';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(REPO, 'dist/cli/main.js');
const rounds = Number(process.argv[2] ?? 5);

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Runs the CLI, stamping each stdout line with the wall time it arrived. */
function watchOnce(config, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'watch', '--config', config, '--once', '--json'], { cwd: REPO, env: { ...process.env, NO_COLOR: '1', ...env } });
    const lines = [];
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    createInterface({ input: child.stdout }).on('line', (l) => lines.push({ at: Date.now(), value: JSON.parse(l) }));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, lines, stderr }));
  });
}

async function round(seed) {
  const root = mkdtempSync(join(tmpdir(), 'runbook-bench-respond-'));
  try {
    const manifest = await generateIncident({ root, mode: 'real', sizes: { spam: 24, script: 0, legit: 5, bounces: 0, frozen: 0 }, seed });
    const info = simHostInfo(root);
    const inventory = join(root, 'inventory.json');
    writeFileSync(inventory, JSON.stringify({ hosts: { mail1: { hostname: 'local', tools: info.tools, layout: { ...info.layout, lockDir: join(root, 'var/sim/runbook.lock') }, vars: { allow_documentation_ips: true } } } }));
    const config = join(root, 'watch.yml');
    writeFileSync(config, [
      `logs: { mainlog: ${JSON.stringify(info.mainlog)} }`,
      'state: state/watch.json',
      'start_at: beginning',
      'response:',
      `  contain_playbook: ${join(REPO, 'playbooks/watch-contain.yml')}`,
      `  finish_playbook: ${join(REPO, 'playbooks/watch-finish.yml')}`,
      '  hold_for: 4h',
      '  audit_dir: audit',
      '  host: mail1',
      `  inventory: ${inventory}`,
      '',
    ].join('\n'));
    mkdirSync(join(root, 'xdg'), { recursive: true });
    const run = await watchOnce(config, { XDG_STATE_HOME: join(root, 'xdg') });
    const trigger = run.lines.find((l) => l.value.type === 'trigger');
    const outcome = run.lines.find((l) => l.value.type === 'outcome');
    if (run.code !== 0 || !trigger || outcome?.value.outcome.status !== 'contained') throw new Error(`round failed (exit ${run.code}): ${run.stderr}`);
    const records = readFileSync(outcome.value.outcome.auditLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const finished = (step) => Date.parse(records.find((r) => r.type === 'step.finish' && r.step === step && r.status === 'changed')?.ts ?? 'x');
    const hold = finished('hold_mailbox');
    const freeze = finished('freeze_by_login');
    if (Number.isNaN(hold) || Number.isNaN(freeze)) throw new Error('the hold or the freeze did not change anything');
    return { mailbox: manifest.mailbox, hold: hold - trigger.at, freeze: freeze - trigger.at, outcome: outcome.at - trigger.at };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const results = [];
for (let i = 0; i < rounds; i++) results.push(await round(100 + i));
const summary = {
  rounds,
  holdMs: median(results.map((r) => r.hold)),
  freezeMs: median(results.map((r) => r.freeze)),
  outcomeMs: median(results.map((r) => r.outcome)),
  all: results,
};
mkdirSync(join(REPO, 'bench/out'), { recursive: true });
writeFileSync(join(REPO, 'bench/out/watch-respond.json'), `${JSON.stringify(summary, null, 2)}\n`);
console.log(`trip → hold done: ${summary.holdMs} ms · → frozen: ${summary.freezeMs} ms · → outcome (finish plan, notified): ${summary.outcomeMs} ms (median of ${rounds})`);
