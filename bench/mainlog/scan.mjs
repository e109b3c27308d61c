#!/usr/bin/env node
// runbook's one-pass main-log scan from the built package, for the benchmark.
// Usage: node bench/mainlog/scan.mjs LOG [--since S]
import { scanMainlogFile } from '../../dist/investigate/mainlog-file.js';

const args = process.argv.slice(2);
const log = args[0];
const opt = (name) => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const since = opt('--since');
const r = await scanMainlogFile(log, since !== undefined ? { since } : {});
const cpu = process.cpuUsage();
process.stdout.write(`${JSON.stringify({
  bytes_scanned: r.window.bytes_scanned,
  start_offset: r.window.start_offset,
  from: r.window.from,
  totals: r.totals,
  top_cwd: r.cwd.slice(0, 3).map((c) => [c.path, c.count]),
  top_auth: r.auth_senders.slice(0, 3).map((a) => [a.id, a.count, a.ips.slice(0, 3).map((i) => i.key)]),
  top_subjects: r.subjects.slice(0, 3).map((s) => [s.subject, s.count]),
  cpu_s: (cpu.user + cpu.system) / 1e6,
})}\n`);
