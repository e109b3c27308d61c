import { defineConfig } from 'vitest/config';

// The fleet benchmark reuses the test harness (real sshd hosts) but is not part of `npm test`.
export default defineConfig({
  test: {
    include: ['bench/fleet/*.bench-run.ts'],
    // 10 and 20 hosts with 100 MiB main logs, three rounds, took 36 minutes on a busy machine.
    testTimeout: 10_800_000,
    hookTimeout: 600_000,
    pool: 'forks',
  },
});
