/** Worker thread body: scans one byte range of a main log and posts its tables back. */
import { openSync, closeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { MainlogScanner } from '../parsers/mainlog-scan.js';
import { scanRangeInto, type MainlogScanOptions } from './mainlog-file.js';

interface Job {
  path: string;
  start: number;
  end: number;
  options: MainlogScanOptions;
}

const job = workerData as Job;
const fd = openSync(job.path, 'r');
try {
  const scanner = new MainlogScanner(job.options);
  scanRangeInto(scanner, fd, job.start, job.end, job.options);
  const dump = scanner.dump();
  const { tables } = dump;
  // Transferred, not copied: the arrays can be tens of megabytes.
  const transfer = [
    tables.totals,
    tables.spills,
    ...tables.tables.flatMap((t) => [t.bytes, t.lens, t.counts]),
    ...tables.relations.map((r) => r.words),
  ].map((array) => array.buffer as ArrayBuffer);
  parentPort?.postMessage(dump, transfer);
} finally {
  closeSync(fd);
}
