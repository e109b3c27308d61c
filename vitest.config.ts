import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * Two sets, both run by `npm test`:
 *  - unit: in-process tests (parsers, engine, actions on the simulator, renderers); under a minute.
 *  - system: the real parts — Exim's queue, sshd on loopback and namespaces, headless Chromium,
 *    the built CLI spawned as an operator runs it, npm installs — and the simulated cPanel host
 *    driven through its tools as processes (a Node start per uapi/csf/exim call).
 *    `npm run test:system`.
 * A test file belongs to the system set when it is listed here or when it uses one of the
 * helpers that start a real part (SYSTEM_HELPERS), so a new CLI or sshd test cannot slow the
 * unit set by being forgotten here; every other file is a unit test.
 */
const SYSTEM = [
  // The built CLI (dist/), spawned.
  'test/audit-report/reused-reads-rendered.test.ts',
  'test/audit-report/sign-encrypted.test.ts',
  'test/audit/list.test.ts',
  'test/cli-audit-dir/**/*.test.ts',
  'test/cli-investigate-json/**/*.test.ts',
  'test/cli/actions.test.ts',
  'test/cli/apply.test.ts',
  'test/cli/demo-reset.test.ts',
  'test/cli/exit-codes.test.ts',
  'test/cli/hostile-data.test.ts',
  'test/cli/installed-bin.test.ts',
  'test/cli/interrupt.test.ts',
  'test/cli/investigate.test.ts',
  'test/cli/real-exim-apply.test.ts',
  'test/cli/secrets-dir-writable.test.ts',
  'test/cli/startup.test.ts',
  'test/cli/tty-gate.test.ts',
  'test/cli/undo-after-apply.test.ts',
  'test/cli/undo-flags.test.ts',
  'test/investigate-rotated/cli.test.ts',
  'test/transport/native-addons-install.test.ts',
  // Real Exim.
  'test/actions/purge.test.ts',
  'test/detection/real-exim.test.ts',
  'test/fixtures/exim-sim.test.ts',
  'test/fixtures/generator.test.ts',
  'test/fixtures/state-hash.test.ts',
  // sshd on loopback, namespaces.
  'test/fleet/fleet-apply.test.ts',
  'test/fleet/lock-targets.test.ts',
  'test/investigate-rotated/remote.test.ts',
  'test/remote/**/*.test.ts',
  'test/ssh/become.test.ts',
  'test/ssh/concurrency.test.ts',
  'test/ssh/transport.test.ts',
  // Headless Chromium.
  'test/audit-report/html-browser.test.ts',
  // The simulated cPanel host's tools run as processes.
  'test/actions/cpanel.test.ts',
  'test/actions/csf-deny.test.ts',
  'test/actions/service-restart.test.ts',
  'test/detection-rotated/unreadable-rotated.test.ts',
  'test/detection/detect.test.ts',
  'test/fixtures/csf.test.ts',
  'test/fixtures/demo.test.ts',
  'test/fixtures/uapi.test.ts',
  'test/fixtures/whm-services.test.ts',
  'test/investigate-rotated/sources.test.ts',
  'test/undo/undo.test.ts',
  // Added with their features: each starts a real part or spawns the CLI.
  'test/audit/writer-full-disk.test.ts', // tmpfs mounts, a full playbook run per disk size
  'test/watch/follow-faults.test.ts', // tmpfs mounts filled while the log is written
  'test/bench/detection/run.test.ts',
  'test/cli/ansible-style.test.ts',
  'test/cli/interrupt-tty.test.ts', // a real pseudo-terminal
  'test/cli/progress-tty.test.ts',
  'test/cli/secrets.test.ts',
  'test/cli/terminal-safe-output.test.ts',
  'test/engine/execute-counts.test.ts', // kills a real sshd mid-run
  'test/fixtures/scenarios.test.ts', // generates the detection corpus (several MB per scenario)
  'test/fixtures/scenarios-blind.test.ts', // generates the blind corpus (4-16 MB per scenario)
  'test/fleet/ansible-inventory-ssh-config.test.ts',
  'test/fleet/inventory-ini.test.ts', // runs ansible-inventory
  'test/parsers/exim-real-arrivals.test.ts',
  'test/ssh/slow-session.test.ts',
  // A real DNS server, the real clamscan, the simulated host's tools as processes.
  'test/actions/rbl/check.test.ts',
  'test/actions/rbl/rbl-check.test.ts',
  'test/actions/malware-scan.test.ts',
  'test/actions/harden.test.ts',
  'test/fixtures/whm-tweaksettings.test.ts',
  'test/cli/investigate-host-flags.test.ts',
  'test/investigate/verdict-owners.test.ts',
  'test/investigate/verdict-scripts.test.ts',
  // Reversible containment: the simulated host's csf, uapi and whmapi1 as processes.
  'test/actions/csf-temp-deny.test.ts',
  'test/actions/hold-deadline.test.ts',
  'test/undo/expire.test.ts',
  'test/cli/expire.test.ts',
];

/** Test helpers that spawn the built CLI, start Exim or sshd, or drive a pseudo-terminal. */
const SYSTEM_HELPERS = /from '[./]*(?:cli\/)?(?:run-cli|support\/(?:exim|ssh-hosts|screen))\.js'/;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath, e.name));
}

const SYSTEM_BY_HELPER = testFiles('test').filter((f) => SYSTEM_HELPERS.test(readFileSync(f, 'utf8')));
const SYSTEM_ALL = [...SYSTEM, ...SYSTEM_BY_HELPER];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Real Exim, sshd and namespaces are shared machine resources; files run in parallel
    // but each test file isolates its own spool, ports and namespaces.
    pool: 'forks',
    reporters: ['default'],
    projects: [
      // In-process tests share nothing, so the unit set uses both cores (vitest's default leaves one
      // free); the system set keeps the default, its real parts being the shared resource.
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: SYSTEM_ALL, maxWorkers: 2 } },
      { extends: true, test: { name: 'system', include: SYSTEM_ALL } },
    ],
  },
});
