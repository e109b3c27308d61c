#!/usr/bin/env node
// Builds the main-log counter that runbook uploads to an SSH target for one run
// (src/remote/native/mainlog-count.c, see src/remote/native-count.ts): the scanner's
// WebAssembly kernel compiled without SIMD (wasm2c 1.0.32 has no SIMD), translated to C by
// wasm2c and linked statically with its runtime and zlib, so it runs on any Linux x86_64 host
// with nothing installed there. Output: dist/native/mainlog-count-linux-x86_64 and its
// sha256 beside it. The driver's tables, relations and totals come from the count registry
// (src/parsers/count-registry.ts) as a header generated here. Run by `npm run build` (after tsc); without wasm2c or a C compiler it says so in one
// line and exits 0, and the targets keep being counted by perl.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..');
const outDir = join(repo, 'dist', 'native');
const out = join(outDir, 'mainlog-count-linux-x86_64');
const RUNTIME = '/usr/share/wabt/wasm2c';

function found(program) {
  return spawnSync(program, ['--version'], { stdio: 'ignore' }).status === 0;
}

function run(argv, what) {
  const r = spawnSync(argv[0], argv.slice(1), { cwd: repo, encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    throw new Error(`${what} failed (${argv.join(' ')})`);
  }
}

const cc = process.env.CC ?? 'gcc';
const missing = [];
if (process.platform !== 'linux' || process.arch !== 'x64') missing.push('a Linux x86_64 build machine');
else {
  if (!found('wasm2c')) missing.push('wasm2c (Debian: apt-get install wabt)');
  if (!existsSync(join(RUNTIME, 'wasm-rt-impl.c'))) missing.push(`${RUNTIME}/wasm-rt-impl.c (wabt)`);
  if (!found(cc)) missing.push(`a C compiler (${cc})`);
}
if (missing.length > 0) {
  // Stale output would be uploaded with a checksum of another build: none at all is safer.
  rmSync(out, { force: true });
  rmSync(`${out}.sha256`, { force: true });
  console.log(`native main-log counter not built (needs ${missing.join(', ')}): SSH targets are counted with perl`);
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), 'runbook-native-'));
try {
  // The same kernel source as dist/wasm/mainlog-kernel.wasm, without --enable simd: bytes.ts
  // takes its scalar paths under ASC_FEATURE_SIMD = false.
  const asc = join(repo, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
  run([process.execPath, asc, 'src/parsers/wasm/mainlog-kernel.ts', '-O3', '--runtime', 'minimal', '--noAssert', '-o', join(work, 'kernel.wasm')], 'asc');
  run(['wasm2c', join(work, 'kernel.wasm'), '-n', 'kernel', '-o', join(work, 'mainlog-kernel.c')], 'wasm2c');
  // What the driver counts and sends, from the count registry as compiled by tsc (run before this).
  const { cHeader } = await import(join(repo, 'dist', 'parsers', 'count-codegen.js'));
  writeFileSync(join(work, 'counters.h'), cHeader());
  mkdirSync(outDir, { recursive: true });
  const tmp = `${out}.tmp`;
  // The build directory's random name must not reach the binary (assert messages): the same
  // sources give the same bytes, so the same sha256.
  run([cc, '-O2', '-static', '-s', `-ffile-prefix-map=${work}=build`, '-o', tmp, `-I${work}`, `-I${RUNTIME}`,
    'src/remote/native/mainlog-count.c', join(work, 'mainlog-kernel.c'), join(RUNTIME, 'wasm-rt-impl.c'), '-lz', '-lm'], 'C build');
  renameSync(tmp, out);
  const sha = createHash('sha256').update(readFileSync(out)).digest('hex');
  writeFileSync(`${out}.sha256`, `${sha}  mainlog-count-linux-x86_64\n`);
  console.log(`native main-log counter: dist/native/mainlog-count-linux-x86_64 (sha256 ${sha})`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
