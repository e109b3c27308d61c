/**
 * Worker thread body of the history pass over a plain main log (activity-read.ts): reads the
 * file and runs the kernel's history filter, and posts each batch's records with their lines'
 * bytes, in file order, while the main thread turns the previous batches into facts. The two
 * halves cost about the same, so on two cores the pass takes about the time of one.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MainlogHistoryFilter } from '../parsers/mainlog-history.js';
import { readLines } from './mainlog-file.js';

/** What the main thread hands over (see historyInWorker in activity-read.ts). */
export interface HistoryJob {
  /** The main thread's descriptor of the log (threads share them); it stays open there. */
  fd: number;
  size: number;
  needles: string[];
  chunkBytes: number;
  /** [batches posted and not yet taken, most allowed]: the worker waits rather than run ahead. */
  inFlight: SharedArrayBuffer;
}

/** One message per batch: the first line when this batch holds it, then the records. */
export interface HistoryBatch {
  first?: string;
  words?: Uint32Array;
  bytes?: Uint8Array;
  done?: true;
}

const job = workerData as HistoryJob;
{
  const filter = new MainlogHistoryFilter(job.needles);
  const counter = new Int32Array(job.inFlight);
  let firstLine = true;
  const post = (batch: HistoryBatch, transfer: ArrayBuffer[]): void => {
    // Memory stays bounded: at most counter[1] batches wait for the main thread.
    while (true) {
      const waiting = Atomics.load(counter, 0);
      if (waiting < counter[1]!) break;
      Atomics.wait(counter, 0, waiting);
    }
    Atomics.add(counter, 0, 1);
    parentPort!.postMessage(batch, transfer);
  };
  readLines(filter, job.fd, 0, job.size, { chunkBytes: job.chunkBytes }, (end) => {
    const batch: HistoryBatch = {};
    if (firstLine) {
      const input = filter.input(end);
      const nl = input.subarray(0, end).indexOf(0x0a);
      if (nl >= 0) {
        batch.first = input.toString('utf8', 0, nl);
        firstLine = false;
      }
    }
    const records = filter.feed(0, end);
    if (records.count === 0 && batch.first === undefined) return false;
    const packed = records.pack();
    batch.words = packed.words;
    batch.bytes = packed.bytes;
    post(batch, [packed.words.buffer as ArrayBuffer, packed.bytes.buffer as ArrayBuffer]);
    return false;
  });
  parentPort!.postMessage({ done: true } satisfies HistoryBatch);
}
