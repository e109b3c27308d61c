// runbook's side of the fleet benchmark: the fleet layer (inventory, scheduler, one SSH
// connection per host) running the five read-only detection commands on every host.
// Usage: node bench/fleet/control.mjs INVENTORY KNOWN_HOSTS FORKS
import { readFileSync } from 'node:fs';
import { scheduleHosts } from '../../dist/fleet/scheduler.js';
import { connectTarget, resolveTargets } from '../../dist/fleet/targets.js';

const [inventory, knownHostsFile, forks] = process.argv.slice(2);
const commands = JSON.parse(readFileSync(new URL('./commands.json', import.meta.url), 'utf8'));
const specs = await resolveTargets({ inventory, knownHostsFile, sshConfigFile: false });
const results = await scheduleHosts(
  specs,
  { forks: Number(forks) },
  async (spec) => {
    const target = await connectTarget(spec);
    const failed = [];
    for (const argv of commands) {
      const r = await target.transport.exec(argv, { timeoutMs: 60_000 });
      if (r.exitCode !== 0) failed.push(`${argv.join(' ')}: exit ${r.exitCode} signal ${r.signal} after ${r.durationMs} ms ${r.stderr.slice(0, 200)}`);
    }
    const stats = target.transport.stats();
    await target.transport.close();
    return {
      host: spec.name,
      status: failed.length === 0 ? 'ok' : 'failed',
      ...(failed.length > 0 ? { failed } : {}),
      bytesIn: stats.bytesIn,
      bytesOut: stats.bytesOut,
    };
  },
  (spec, reason) => ({ host: spec.name, status: 'skipped', reason }),
);
process.stdout.write(`${JSON.stringify({ results, maxRssKb: process.resourceUsage().maxRSS })}\n`);
