import { defineConfig } from 'vitest/config';

// The target benchmark reuses the test harness (a real sshd host) but is not part of `npm test`.
export default defineConfig({
  test: {
    include: ['bench/target/*.bench-run.ts'],
    testTimeout: 3_600_000,
    hookTimeout: 600_000,
    pool: 'forks',
  },
});
