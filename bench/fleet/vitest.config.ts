import { defineConfig } from 'vitest/config';

// The fleet benchmark reuses the test harness (real sshd hosts) but is not part of `npm test`.
export default defineConfig({
  test: {
    include: ['bench/fleet/*.bench-run.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 600_000,
    pool: 'forks',
  },
});
