#!/usr/bin/env node
// Times the seed articles' one-liners and runbook's one-pass scan side by side on the same
// main log, in one run. Usage:
//   node bench/mainlog/run.mjs [LOG] [--runs N] [--size-mb M]
// LOG defaults to bench/out/exim_mainlog (generated with generate.mjs when missing).
// The one-liners are shell pipelines by nature: they run through `sh -c` with the log path as
// "$1", exactly as the articles write them (French words translated back to the commands).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, openSync, readSync, closeSync } from 'node:fs';

const args = process.argv.slice(2);
const opt = (name, d) => {
  const i = args.indexOf(name);
  return i < 0 ? d : args[i + 1];
};
const log = args[0] && !args[0].startsWith('--') ? args[0] : 'bench/out/exim_mainlog';
const runs = Number(opt('--runs', 3));
if (!existsSync(log)) {
  const r = spawnSync(process.execPath, ['bench/mainlog/generate.mjs', log, String(opt('--size-mb', 1024))], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}
if (!existsSync('dist/investigate/mainlog-file.js')) {
  console.error('build first: npx tsc -p tsconfig.build.json');
  process.exit(1);
}
const size = statSync(log).size;

function edgeTimestamps() {
  const fd = openSync(log, 'r');
  const head = Buffer.alloc(64);
  readSync(fd, head, 0, 64, 0);
  const tail = Buffer.alloc(65536);
  const n = readSync(fd, tail, 0, 65536, Math.max(0, size - 65536));
  closeSync(fd);
  const lines = tail.toString('latin1', 0, n).trimEnd().split('\n');
  return [head.toString('latin1', 0, 19), lines[lines.length - 1].slice(0, 19)];
}
const [first, last] = edgeTimestamps();
const t0 = Date.parse(`${first.replace(' ', 'T')}Z`);
const t1 = Date.parse(`${last.replace(' ', 'T')}Z`);
const since10 = new Date(t0 + (t1 - t0) * 0.9).toISOString().slice(0, 19).replace('T', ' ');

// The sender and subject the third one-liner needs come from the first two, as an operator would do.
const SENDER = 'sales@site42.example';
const SUBJECT = 'Urgent: verify your account';
const cases = [
  ['seed: cwd= directories', ['sh', '-c', 'grep cwd=/ "$1" | cut -d = -f 2 | cut -d " " -f 1 | sort | uniq -c | sort -n', 'sh', log]],
  ['seed: repeated subjects', ['sh', '-c', `awk -F"T=\\"" '/<=/ {print $2}' "$1" | cut -d\\" -f1 | sort | uniq -c | sort -n`, 'sh', log]],
  ['seed: IPs of one sender+subject', ['sh', '-c', `grep "<= ${SENDER}" "$1" | grep "${SUBJECT}" | grep -o "\\[[0-9.]*\\]" | sort -n | uniq -c | sort -n`, 'sh', log]],
  ['seed: senders of one subject', ['sh', '-c', `grep "${SUBJECT}" "$1" | awk '{print $5}' | sort | uniq -c | sort -n`, 'sh', log]],
  ['runbook: one pass, all findings (default: 2 threads on 2 cores)', [process.execPath, 'bench/mainlog/scan.mjs', log]],
  ['runbook: one pass, all findings, 1 thread', [process.execPath, 'bench/mainlog/scan.mjs', log, '--workers', '1']],
  [`runbook: since ${since10} (last 10%)`, [process.execPath, 'bench/mainlog/scan.mjs', log, '--since', since10]],
  // The command operators run: process start, module loading, scan, verdict and JSON included.
  ['runbook CLI: investigate --mainlog --since 30d --json (2 threads)', [process.execPath, 'dist/cli/main.js', 'investigate', '--mainlog', log, '--since', '30d', '--json', '--threads', '2']],
  ['runbook CLI: investigate --mainlog --since 30d --json (1 thread)', [process.execPath, 'dist/cli/main.js', 'investigate', '--mainlog', log, '--since', '30d', '--json', '--threads', '1']],
  ['runbook CLI: investigate --mainlog --json (default 24h, 2 threads)', [process.execPath, 'dist/cli/main.js', 'investigate', '--mainlog', log, '--json']],
  ['node: start and exit (floor of any Node CLI)', [process.execPath, '-e', '0']],
];

function measure(argv) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', ...argv], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const lines = r.stderr.trim().split('\n');
  const [wall, user, sys, rss] = lines[lines.length - 1].split(' ').map(Number);
  return { wall, cpu: user + sys, rssMb: rss / 1024, stdout: r.stdout, status: r.status };
}

// Warm the page cache so every case reads from memory.
spawnSync('cat', [log], { stdio: ['ignore', 'ignore', 'inherit'] });
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const results = [];
for (const [name, argv] of cases) {
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(measure(argv));
  samples.sort((a, b) => a.wall - b.wall);
  const med = samples[Math.floor(samples.length / 2)];
  results.push({ name, wall: med.wall, best: samples[0].wall, cpu: med.cpu, rssMb: Math.max(...samples.map((s) => s.rssMb)), out: med.stdout });
}
const base = results[0].wall;
console.log(`log: ${log}, ${(size / 1048576).toFixed(0)} MiB, ${first} .. ${last}; ${runs} runs each (median wall); load average at start ${load}; ${(await import('node:os')).availableParallelism()} cores`);
console.log('');
console.log('| command | wall s (median) | best s | CPU s | peak RSS MiB | wall vs seed cwd one-liner |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of results) console.log(`| ${r.name} | ${r.wall.toFixed(2)} | ${r.best.toFixed(2)} | ${r.cpu.toFixed(2)} | ${r.rssMb.toFixed(0)} | ${(r.wall / base).toFixed(2)}x |`);
console.log('');
const seedsTotal = results.slice(0, 4).reduce((n, r) => n + r.wall, 0);
const seedsCpu = results.slice(0, 4).reduce((n, r) => n + r.cpu, 0);
const fastest = results.slice(0, 4).reduce((a, b) => (b.wall < a.wall ? b : a));
console.log(`four seed one-liners together: ${seedsTotal.toFixed(2)} s wall, ${seedsCpu.toFixed(2)} s CPU; runbook one pass (default): ${results[4].wall.toFixed(2)} s wall, ${results[4].cpu.toFixed(2)} s CPU`);
console.log(`fastest seed one-liner: ${fastest.name} ${fastest.wall.toFixed(2)} s; runbook one pass (default) / fastest seed = ${(results[4].wall / fastest.wall).toFixed(2)}x wall, 1 thread = ${(results[5].wall / fastest.wall).toFixed(2)}x`);
console.log(`CLI investigate 30d / fastest seed: 2 threads ${(results[7].wall / fastest.wall).toFixed(2)}x, 1 thread ${(results[8].wall / fastest.wall).toFixed(2)}x wall`);
console.log('');
console.log('--- outputs (tails) ---');
for (const r of results) console.log(`# ${r.name}\n${r.out.trim().split('\n').slice(-4).join('\n')}\n`);
