#!/usr/bin/env node
// One command for the target benchmark (target.bench-run.ts, run by vitest because it reuses
// the TypeScript sshd harness of the tests): `node bench/target/run.mjs`. Build first
// (`npm run build`). Environment: BENCH_ROUNDS (3), BENCH_TARGET_MB (1024), BENCH_WARMUP (1).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const vitest = join(import.meta.dirname, '..', '..', 'node_modules', 'vitest', 'vitest.mjs');
const r = spawnSync(process.execPath, [vitest, 'run', '--config', 'bench/target/vitest.config.ts', ...process.argv.slice(2)], { stdio: 'inherit', cwd: join(import.meta.dirname, '..', '..') });
process.exit(r.status ?? 1);
