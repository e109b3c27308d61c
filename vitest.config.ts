import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Real Exim, sshd and namespaces are shared machine resources; files run in parallel
    // but each test file isolates its own spool, ports and namespaces.
    pool: 'forks',
    reporters: ['default'],
  },
});
