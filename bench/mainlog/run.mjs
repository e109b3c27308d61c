#!/usr/bin/env node
// The command operators run, `runbook investigate --mainlog LOG --json`, side by side with the
// seed articles' one-liners on the same main log, in one run. Usage:
//   node bench/mainlog/run.mjs [LOG] [--runs N] [--cli-runs N] [--size-mb M] [--exigrep-runs N] [--library] [--json OUT]
// LOG defaults to /tmp/runbook-bench/exim_mainlog-1g, generated with generate.mjs when missing
// (deterministic, so a cached copy is the same file). The one-liners are shell pipelines by
// nature: they run through `sh -c` with the log path as "$1", as the articles write them (French
// and Portuguese words translated back to the commands). Runs are interleaved (round 1 of every
// command, then round 2 ...) so a change in machine load hits every command alike; medians.
// --library also times the scanner alone (bench/mainlog/scan.mjs) as earlier versions did.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, openSync, readSync, closeSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, d) => {
  const i = args.indexOf(name);
  return i < 0 ? d : args[i + 1];
};
const log = args[0] && !args[0].startsWith('--') ? args[0] : '/tmp/runbook-bench/exim_mainlog-1g';
const runs = Number(opt('--runs', 5));
// The CLI's runs can be fewer than the one-liners' while one of its runs costs a minute.
const cliRuns = Number(opt('--cli-runs', runs));
const exigrepRuns = Number(opt('--exigrep-runs', 1));
const jsonOut = opt('--json', 'bench/out/investigate-mainlog.json');
if (!existsSync(log)) {
  const r = spawnSync(process.execPath, ['bench/mainlog/generate.mjs', log, String(opt('--size-mb', 1024))], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}
if (!existsSync('dist/cli/main.js') || !existsSync('dist/wasm/mainlog-kernel.wasm')) {
  console.error('build first: npm run build');
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

// The sender and subject some one-liners need come from the first ones, as an operator would do.
const SENDER = 'sales@site42.example';
const SUBJECT = 'Urgent: verify your account';
const sh = (script) => ['sh', '-c', script, 'sh', log];
const cli = (...a) => [process.execPath, 'dist/cli/main.js', 'investigate', '--mainlog', log, ...a, '--json'];
const cases = [
  { name: 'seed: cwd= directories', seed: true, argv: sh('grep cwd=/ "$1" | cut -d = -f 2 | cut -d " " -f 1 | sort | uniq -c | sort -n') },
  { name: 'seed: repeated subjects', seed: true, argv: sh(`awk -F"T=\\"" '/<=/ {print $2}' "$1" | cut -d\\" -f1 | sort | uniq -c | sort -n`) },
  { name: 'seed: IPs of one sender+subject', seed: true, argv: sh(`grep "<= ${SENDER}" "$1" | grep "${SUBJECT}" | grep -o "\\[[0-9.]*\\]" | sort -n | uniq -c | sort -n`) },
  { name: 'seed: senders of one subject', seed: true, argv: sh(`grep "${SUBJECT}" "$1" | awk '{print $5}' | sort | uniq -c | sort -n`) },
  { name: "seed: senders of every arrival (grep '<= ' | awk | sort | uniq -c)", seed: true, argv: sh(`grep '<= ' "$1" | awk '{print $5}' | sort | uniq -c | sort -n`) },
  { name: 'seed: lines of one sender (grep SENDER)', seed: true, argv: sh(`grep "${SENDER}" "$1" | wc -l`) },
  { name: 'seed: exigrep SENDER (whole messages)', seed: true, runs: exigrepRuns, argv: sh(`exigrep "${SENDER}" "$1" | wc -l`) },
  { name: 'runbook investigate --since 30d (whole file)', cli: true, argv: cli('--since', '30d') },
  { name: 'runbook investigate (default --since 24h)', cli: true, argv: cli() },
  { name: 'runbook --help (start-up alone)', argv: [process.execPath, 'dist/cli/main.js', '--help'] },
  { name: 'node -e 0 (floor of any Node command)', argv: [process.execPath, '-e', '0'] },
];
if (args.includes('--library')) {
  cases.push(
    { name: 'library scan, whole file', argv: [process.execPath, 'bench/mainlog/scan.mjs', log] },
  );
}

function measure(argv) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', ...argv], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const lines = r.stderr.trim().split('\n');
  const [wall, user, sys, rss] = lines[lines.length - 1].split(' ').map(Number);
  return { wall, cpu: user + sys, rssMb: rss / 1024, stdout: r.stdout, status: r.status };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Warm the page cache so every command reads from memory.
spawnSync('cat', [log], { stdio: ['ignore', 'ignore', 'inherit'] });
const loadStart = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const samples = cases.map(() => []);
for (let round = 0; round < Math.max(runs, cliRuns); round++) {
  cases.forEach((c, k) => {
    if (round < (c.runs ?? (c.cli ? cliRuns : runs))) samples[k].push(measure(c.argv));
  });
}
const loadEnd = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const results = cases.map((c, k) => {
  const s = samples[k];
  const failed = s.filter((x) => x.status !== 0).length;
  const last = s[s.length - 1];
  // What the command found, to see that every variant gives the same answer.
  let found;
  if (c.cli) {
    try {
      const doc = JSON.parse(last.stdout);
      found = (doc.verdict?.sources ?? []).map((x) => `${x.id} (${x.counts?.sent ?? '?'} sent)`).join(', ') || 'no sources';
    } catch {
      found = 'unreadable JSON';
    }
  }
  return { ...c, runs: s.length, failed, wall: median(s.map((x) => x.wall)), best: Math.min(...s.map((x) => x.wall)), cpu: median(s.map((x) => x.cpu)), rssMb: Math.max(...s.map((x) => x.rssMb)), found, tail: last.stdout.trim().split('\n').slice(-3).join(' / ').slice(0, 300) };
});
const fastest = results.filter((r) => r.seed).reduce((a, b) => (b.wall < a.wall ? b : a));
console.log(`log: ${log}, ${(size / 1048576).toFixed(0)} MiB, ${first} .. ${last}; ${runs} interleaved runs each (runbook investigate ${cliRuns}, exigrep ${exigrepRuns}), median wall; ${availableParallelism()} cores; load average ${loadStart} at the start, ${loadEnd} at the end`);
console.log('');
console.log('| command | wall s (median) | best s | CPU s | peak RSS MiB | wall / fastest one-liner |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of results) {
  const mark = r.failed ? ` (${r.failed} of ${r.runs} runs failed)` : '';
  console.log(`| ${r.name}${mark} | ${r.wall.toFixed(2)} | ${r.best.toFixed(2)} | ${r.cpu.toFixed(2)} | ${r.rssMb.toFixed(0)} | ${(r.wall / fastest.wall).toFixed(2)}x |`);
}
console.log('');
console.log(`fastest one-liner: ${fastest.name}, ${fastest.wall.toFixed(2)} s`);
for (const r of results.filter((x) => x.cli)) console.log(`${r.name}: ${r.found}`);
mkdirSync(dirname(jsonOut), { recursive: true });
writeFileSync(jsonOut, `${JSON.stringify({ log, size, first, last, runs, loadStart, loadEnd, results: results.map(({ argv, ...r }) => ({ ...r, argv })) }, null, 2)}\n`);
console.log(`raw: ${jsonOut}`);
