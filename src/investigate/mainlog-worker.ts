/** Worker thread body: scans one byte range of a main log and posts its tables back. */
import { parentPort, workerData } from 'node:worker_threads';
import { MainlogScanner } from '../parsers/mainlog-scan.js';
import { scanRangeInto, type MainlogScanOptions } from './mainlog-file.js';

interface Job {
  /** The main thread's descriptor of the log (threads share them); it stays open there. */
  fd: number;
  start: number;
  end: number;
  /** The window's first second: earlier lines are left out (see MainlogScanner.setWindow). */
  from: string | null;
  options: MainlogScanOptions;
}

const job = workerData as Job;
{
  // A later range: its deferrals are joined to their arrivals once the ranges before it are in.
  const scanner = new MainlogScanner(job.options, { laterRange: true });
  if (job.from !== null) scanner.setWindow(job.from);
  scanRangeInto(scanner, job.fd, job.start, job.end, job.options);
  const dump = scanner.dump();
  const { tables } = dump;
  // Transferred, not copied: the arrays can be tens of megabytes.
  const transfer = [
    tables.totals,
    tables.spills,
    tables.joins,
    ...tables.tables.flatMap((t) => [t.bytes, t.lens, t.counts]),
    ...tables.relations.map((r) => r.words),
  ].map((array) => array.buffer as ArrayBuffer);
  parentPort?.postMessage(dump, transfer);
}
