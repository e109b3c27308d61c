/** Worker thread body: scans one byte range of a main log and posts the partial back. */
import { open } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { scanRange, type MainlogScanOptions } from './mainlog-file.js';

interface Job {
  path: string;
  start: number;
  end: number;
  options: MainlogScanOptions;
}

const job = workerData as Job;
const fh = await open(job.path, 'r');
try {
  const partial = await scanRange(fh, job.start, job.end, job.options);
  parentPort?.postMessage(partial);
} finally {
  await fh.close();
}
