/**
 * Loads the WebAssembly core of the main-log scanner (source: src/parsers/wasm/mainlog-kernel.ts,
 * built by `npm run build`). One compiled module per process; one instance per scanner, so
 * each scan's memory is released with it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The kernel's exports (see the AssemblyScript source for what each one means). */
export interface KernelExports {
  memory: WebAssembly.Memory;
  init(maxKeys: number, maxPairs: number): void;
  inputBuffer(size: number): number;
  feed(start: number, end: number): void;
  total(i: number): number;
  tableSize(i: number): number;
  tableKeys(i: number): number;
  tableArena(i: number): number;
  tableCounts(i: number): number;
  pairDropped(i: number): number;
  pairSize(i: number): number;
  spillList(): number;
  spillLength(): number;
  setPairCountLimit(limit: number): void;
  alloc(size: number): number;
  release(ptr: number): void;
  gatherPairs(relation: number, kept: number, out: number): number;
  findKeyOf(table: number, from: number, id: number): number;
  setWindow(at: number): void;
  countInWindow(start: number, end: number): number;
  historyNeedles(bytes: number, lens: number, n: number): void;
  historyFeed(start: number, end: number): number;
  historyRecords(): number;
  setJoinCap(cap: number): void;
}

/** Key tables and pair relations, in the kernel's numbering: declared in count-registry.ts. */
export { PAIRS, TABLE } from './count-registry.js';

// src/parsers/ and dist/parsers/ are both two levels below the package root, so this one path
// works for the compiled CLI and for tests running the TypeScript sources.
const WASM_URL = new URL('../../dist/wasm/mainlog-kernel.wasm', import.meta.url);

let compiled: WebAssembly.Module | null = null;

function kernelModule(): WebAssembly.Module {
  if (compiled === null) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(fileURLToPath(WASM_URL));
    } catch (err) {
      throw new Error(`main-log scanner core missing (${fileURLToPath(WASM_URL)}): run \`npm run build\` (${(err as Error).message})`);
    }
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

/** A fresh kernel instance with its tables set up. */
export function createKernel(maxKeys: number, maxPairs: number): KernelExports {
  const kernel = instantiate();
  kernel.init(maxKeys, maxPairs);
  return kernel;
}

/** A fresh instance for the history filter (src/parsers/mainlog-history.ts): it counts nothing, so no tables. */
export function createHistoryKernel(): KernelExports {
  return instantiate();
}

function instantiate(): KernelExports {
  const instance = new WebAssembly.Instance(kernelModule(), {
    env: {
      abort(): never {
        // Only reachable when the kernel's allocator cannot grow memory any further.
        throw new Error('main-log scanner ran out of memory');
      },
    },
  });
  return instance.exports as unknown as KernelExports;
}
