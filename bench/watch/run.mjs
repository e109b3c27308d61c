#!/usr/bin/env node
// Benchmarks `runbook watch` as it runs on a server: the built CLI following a main log that
// grows. Two parts, one run:
//  1. cost: the generated main log (bench/mainlog/generate.mjs) is appended to a live file in
//     64 KiB line-aligned writes while `runbook watch` (long-running, shipped rules) and the
//     floor, `tail -F | grep -c ' <= '`, follow it side by side; each runs under GNU time
//     (user+sys CPU, peak RSS). The watcher's state file is saved as it would be (every 10 s,
//     and before every trigger).
//  2. detection: a burst of 500 and of 50 messages an hour from one mailbox (synthetic log
//     times, one message every 7.2 s / 72 s, with other mailboxes' traffic in between) appended
//     a message at a time; reported: log time from the first spam line to the line that tripped
//     compromised-mailbox, and wall time from appending that line to the trigger on stdout.
// Usage: npx tsc -p tsconfig.build.json && node bench/watch/run.mjs [SIZE_MB]   (default 1024)
// Writes bench/out/watch.json; prints the table for bench/RESULTS.md.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const REPO = new URL('../../', import.meta.url).pathname;
const CLI = join(REPO, 'dist/cli/main.js');
const sizeMb = Number(process.argv[2] ?? 1024);
const source = join(REPO, `bench/out/exim_mainlog_${sizeMb}`);
if (!existsSync(source)) {
  const g = spawnSync(process.execPath, [join(REPO, 'bench/mainlog/generate.mjs'), source, String(sizeMb)], { stdio: 'inherit' });
  if (g.status !== 0) throw new Error('generate.mjs failed');
}

function config(dir, rules = '') {
  const file = join(dir, 'watch.yml');
  writeFileSync(file, [
    'logs: { mainlog: exim_mainlog }',
    'state: state/watch.json',
    'start_at: beginning',
    'save_every: 10s',
    'rescan_every: 0',
    rules,
    'response: { contain_playbook: contain.yml, finish_playbook: finish.yml, hold_for: 4h, audit_dir: audit }',
    '',
  ].join('\n'));
  // The watcher checks its playbooks at start: these stop at a gate no one answers, so a
  // trigger's response costs what a refused run costs and changes nothing on this machine.
  const placeholder = 'name: bench-placeholder\ndescription: Stops at its confirmation gate, which no one answers unattended\nsteps:\n  - id: ask\n    action: confirm\n    with:\n      message: bench\n';
  for (const name of ['contain.yml', 'finish.yml']) writeFileSync(join(dir, name), placeholder);
  return file;
}

/** `runbook watch --json -v` under GNU time; `next(test)` resolves with the first later stdout line passing it. */
function startWatcher(dir, timeFile) {
  const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, process.execPath, CLI, 'watch', '--config', join(dir, 'watch.yml'), '--json', '-v'], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  const waiters = [];
  const state = { offset: 0, triggers: [], child };
  createInterface({ input: child.stdout }).on('line', (line) => {
    const at = performance.now();
    const o = JSON.parse(line);
    if (o.type === 'progress') state.offset = Math.max(...o.files.map((f) => f.offset));
    if (o.type === 'trigger') state.triggers.push({ ...o.trigger, wallAt: at });
    for (const w of [...waiters]) if (w.test(o)) { waiters.splice(waiters.indexOf(w), 1); w.resolve({ o, at }); }
  });
  state.next = (test) => new Promise((resolve) => waiters.push({ test, resolve }));
  // SIGTERM to the watcher itself (GNU time would die of it and leave the watcher running).
  state.stop = () => {
    const pid = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]);
    process.kill(pid, 'SIGTERM');
  };
  state.exited = new Promise((resolve) => child.on('exit', resolve));
  return state;
}

const readTime = (file) => {
  const [elapsed, user, sys, rssKb] = readFileSync(file, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
  return { elapsed, cpu: user + sys, rssMb: rssKb / 1024 };
};

async function costPart() {
  const dir = mkdtempSync(join(tmpdir(), 'runbook-watch-bench-'));
  const log = join(dir, 'exim_mainlog');
  writeFileSync(log, '');
  config(dir);
  const w = startWatcher(dir, join(dir, 'time.watch'));
  await w.next((o) => o.type === 'progress');
  // The floor follows the same file and stops when the watcher's process does.
  const floor = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', join(dir, 'time.floor'), 'sh', '-c', `tail -n +1 -F --pid=${w.child.pid} exim_mainlog 2>/dev/null | grep -c ' <= '`], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  let floorOut = '';
  floor.stdout.on('data', (d) => (floorOut += d));
  const floorExit = new Promise((resolve) => floor.on('exit', resolve));

  const total = statSync(source).size;
  const inFd = openSync(source, 'r');
  const outFd = openSync(log, 'a');
  const buf = Buffer.alloc(64 * 1024 + 65536);
  let carry = 0;
  let pos = 0;
  let arrivals = 0;
  const needle = Buffer.from(' <= ');
  const t0 = performance.now();
  for (;;) {
    const n = readSync(inFd, buf, carry, 64 * 1024, pos);
    pos += n;
    const filled = carry + n;
    if (filled === 0) break;
    const cut = n === 0 ? filled : buf.lastIndexOf(0x0a, filled - 1) + 1;
    const chunk = buf.subarray(0, cut);
    // Lines holding ' <= ' (what grep -c counts).
    let from = 0;
    for (let at = chunk.indexOf(needle); at >= 0; at = chunk.indexOf(needle, from)) {
      arrivals++;
      const nl = chunk.indexOf(0x0a, at);
      from = nl < 0 ? chunk.length : nl + 1;
    }
    writeSync(outFd, chunk);
    buf.copy(buf, 0, cut, filled);
    carry = filled - cut;
    if (n === 0) break;
  }
  closeSync(inFd);
  closeSync(outFd);
  const appendSeconds = (performance.now() - t0) / 1000;
  if (w.offset < total) await w.next((o) => o.type === 'progress' && o.files.some((f) => f.offset >= total));
  const caughtUp = (performance.now() - t0) / 1000;
  w.stop();
  await w.exited;
  await floorExit;
  const stateBytes = statSync(join(dir, 'state/watch.json')).size;
  const watcher = readTime(join(dir, 'time.watch'));
  const tailGrep = readTime(join(dir, 'time.floor'));
  const counted = Number(floorOut.trim());
  if (counted !== arrivals) throw new Error(`the floor counted ${counted} arrivals, the file has ${arrivals}: it did not read everything`);
  const head = Buffer.alloc(19);
  const headFd = openSync(source, 'r');
  readSync(headFd, head, 0, 19, 0);
  closeSync(headFd);
  const first = head.toString('latin1');
  const tail = spawnSync('tail', ['-c', '300', source]).stdout.toString().trim().split('\n').at(-1).slice(0, 19);
  const gib = total / 2 ** 30;
  rmSync(dir, { recursive: true, force: true });
  return {
    bytes: total, arrivals, log_span: `${first} .. ${tail}`, append_seconds: appendSeconds, watcher_caught_up_seconds: caughtUp,
    triggers: w.triggers.length, state_bytes: stateBytes,
    watcher: { cpu_s: watcher.cpu, cpu_s_per_gib: watcher.cpu / gib, peak_rss_mb: watcher.rssMb },
    floor: { cpu_s: tailGrep.cpu, cpu_s_per_gib: tailGrep.cpu / gib, peak_rss_mb: tailGrep.rssMb },
  };
}

const BASE = Date.UTC(2026, 11, 7, 6, 0, 0) / 1000;
const stamp = (s) => new Date(Math.round(s) * 1000).toISOString().slice(0, 19).replace('T', ' ');
let serial = 0;
const id = () => `1xaS8D-${String(serial++).padStart(6, '0')}-0e`;
const arrival = (s, box, ip) => `${stamp(s)} ${id()} <= ${box} H=(laptop) [${ip}]:53033 I=[192.0.2.10]:587 P=esmtpsa A=dovecot_login:${box} S=2760 T="Invoice overdue" for r${serial}@remote.test`;

async function latencyPart(perHour) {
  const dir = mkdtempSync(join(tmpdir(), 'runbook-watch-latency-'));
  const log = join(dir, 'exim_mainlog');
  writeFileSync(log, '');
  config(dir);
  const w = startWatcher(dir, join(dir, 'time.watch'));
  await w.next((o) => o.type === 'progress');
  const gap = 3600 / perHour;
  const firstSpam = BASE + 600;
  const fd = openSync(log, 'a');
  let size = 0;
  let other = 0;
  let result = null;
  // Ten minutes of other mailboxes first, then the burst; each append is one spam message and the others' mail since the last one.
  let now = BASE;
  for (let k = 0; k < Math.ceil(perHour * 1.2) && result === null; k++) {
    const spamAt = firstSpam + k * gap;
    const lines = [];
    for (; now < spamAt; now += 30) lines.push(arrival(now, `user${other++ % 400}@site${other % 300}.example`, `198.51.100.${1 + (other % 200)}`));
    lines.push(arrival(spamAt, 'sales@site42.example', `203.0.113.${1 + (k % 5)}`));
    const text = `${lines.join('\n')}\n`;
    size += Buffer.byteLength(text);
    const seen = w.next((o) => o.type === 'trigger' || (o.type === 'progress' && o.files.some((f) => f.offset >= size)));
    const appendedAt = performance.now();
    writeSync(fd, text);
    const { o, at } = await seen;
    if (o.type === 'trigger') {
      result = {
        per_hour: perHour,
        spam_messages_until_trip: k + 1,
        log_seconds: Date.parse(`${o.trigger.trippedAt}Z`) / 1000 - firstSpam,
        wall_ms_from_tripping_line: at - appendedAt,
        observed: o.trigger.observed,
      };
    }
  }
  closeSync(fd);
  w.stop();
  await w.exited;
  rmSync(dir, { recursive: true, force: true });
  return result ?? { per_hour: perHour, tripped: false };
}

const cost = await costPart();
const bursts = [await latencyPart(500), await latencyPart(50)];
const out = { date: new Date().toISOString(), node: process.version, size_mb: sizeMb, cost, bursts };
mkdirSync(join(REPO, 'bench/out'), { recursive: true });
writeFileSync(join(REPO, 'bench/out/watch.json'), `${JSON.stringify(out, null, 2)}\n`);
const f = (n, d = 2) => n.toFixed(d);
console.log(`| | runbook watch | tail -F \\| grep -c | ratio |`);
console.log(`|---|---|---|---|`);
console.log(`| CPU (user+sys) for ${f(cost.bytes / 2 ** 30, 2)} GiB | ${f(cost.watcher.cpu_s)} s | ${f(cost.floor.cpu_s)} s | ${f(cost.watcher.cpu_s / cost.floor.cpu_s, 1)}x |`);
console.log(`| CPU per GiB appended | ${f(cost.watcher.cpu_s_per_gib)} s | ${f(cost.floor.cpu_s_per_gib)} s | ${f(cost.watcher.cpu_s_per_gib / cost.floor.cpu_s_per_gib, 1)}x |`);
console.log(`| peak RSS | ${f(cost.watcher.peak_rss_mb, 0)} MB | ${f(cost.floor.peak_rss_mb, 0)} MB | ${f(cost.watcher.peak_rss_mb / cost.floor.peak_rss_mb, 0)}x |`);
console.log(JSON.stringify(out, null, 2));
