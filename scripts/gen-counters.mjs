#!/usr/bin/env node
// Writes src/parsers/wasm/counters.ts, the WebAssembly kernel's numbering of its tables,
// relations and totals, from the count registry (src/parsers/count-registry.ts) as compiled
// into dist/ (AssemblyScript cannot import the registry itself). Run by `npm run build` after
// tsc and before the kernel is compiled; test/parsers/count-registry.test.ts checks that the
// file in the tree is current.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..');
const codegen = join(repo, 'dist', 'parsers', 'count-codegen.js');
if (!existsSync(codegen)) {
  // `npm run build:wasm` alone on a fresh checkout: the file in the tree is used as it is.
  console.log('count registry not compiled yet (run tsc first): src/parsers/wasm/counters.ts left as it is');
  process.exit(0);
}
const { assemblyScriptConstants } = await import(codegen);
const out = join(repo, 'src', 'parsers', 'wasm', 'counters.ts');
const text = assemblyScriptConstants();
let old = '';
try {
  old = readFileSync(out, 'utf8');
} catch {}
if (old !== text) writeFileSync(out, text);
