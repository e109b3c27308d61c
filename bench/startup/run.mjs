#!/usr/bin/env node
// Start-up cost of the CLI: each command runs N times, alternating between the CLIs given, and
// the median wall and CPU (user+sys, GNU time) are printed side by side. Usage:
//   node bench/startup/run.mjs [--runs N] [--cli DIST_MAIN]... [--mainlog SMALL_LOG]
// --cli defaults to dist/cli/main.js; give a second one (a build of another commit) to compare.
// The small log defaults to a 5 MiB one generated into /tmp with bench/mainlog/generate.mjs.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const many = (name) => args.flatMap((a, i) => (a === name ? [args[i + 1]] : []));
const one = (name, d) => many(name)[0] ?? d;
const runs = Number(one('--runs', 15));
const clis = many('--cli');
if (clis.length === 0) clis.push('dist/cli/main.js');
const small = one('--mainlog', '/tmp/runbook-bench/mainlog-5m');
if (!existsSync(small)) {
  const r = spawnSync(process.execPath, ['bench/mainlog/generate.mjs', small, '5'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) process.exit(1);
}

const commands = [
  ['--help', ['--help']],
  ['--version', ['--version']],
  ['investigate --help', ['investigate', '--help']],
  ['investigate --mainlog (5 MiB) --json', ['investigate', '--mainlog', small, '--since', '30d', '--json']],
  ['actions --json', ['actions', '--json']],
  ['validate playbooks/spam-incident.yml', ['validate', 'playbooks/spam-incident.yml']],
];

function once(argv) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', ...argv], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const [wall, user, sys, rss] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr.slice(0, 400)}`);
  return { wall, cpu: user + sys, rss: rss / 1024 };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const rows = [];
const floor = { wall: [], cpu: [], rss: [] };
for (let i = 0; i < runs; i++) {
  const s = once([process.execPath, '-e', '0']);
  floor.wall.push(s.wall); floor.cpu.push(s.cpu); floor.rss.push(s.rss);
}
for (const [name, argv] of commands) {
  const per = clis.map(() => ({ wall: [], cpu: [], rss: [] }));
  // Alternate the CLIs run by run so a change in machine load hits both alike.
  for (let i = 0; i < runs; i++) {
    clis.forEach((cli, k) => {
      const s = once([process.execPath, cli, ...argv]);
      per[k].wall.push(s.wall); per[k].cpu.push(s.cpu); per[k].rss.push(s.rss);
    });
  }
  rows.push([name, per]);
}
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`${runs} runs each, median; load average at the end ${load}; node ${process.version}`);
console.log(`floor \`node -e 0\`: ${median(floor.wall).toFixed(2)} s wall, ${median(floor.cpu).toFixed(2)} s CPU, ${median(floor.rss).toFixed(0)} MiB`);
console.log('');
const head = clis.map((c) => `${c}: wall s / CPU s / MiB`).join(' | ');
console.log(`| command | ${head} |${clis.length === 2 ? ' wall ratio (2nd / 1st) |' : ''}`);
console.log(`|---|${clis.map(() => '---|').join('')}${clis.length === 2 ? '---|' : ''}`);
for (const [name, per] of rows) {
  const cells = per.map((p) => `${median(p.wall).toFixed(2)} / ${median(p.cpu).toFixed(2)} / ${median(p.rss).toFixed(0)}`);
  const ratio = per.length === 2 ? ` ${(median(per[1].wall) / median(per[0].wall)).toFixed(2)} |` : '';
  console.log(`| ${name} | ${cells.join(' | ')} |${ratio}`);
}
