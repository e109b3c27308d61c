/**
 * Reads what the spool filter (spool-filter.pl.ts) sends back and summarises it with the same
 * code as a local scan (`spoolMessageInfo`, `SpoolSummary`), so a remote result cannot drift
 * from a local one. Pure: bytes in, result out.
 */
import { gunzipSync } from 'node:zlib';
import { SpoolSummary, spoolMessageInfo, type SpoolScanResult } from '../investigate/spool.js';

export interface SpoolFilterStats {
  /** -H files the host listed under input/ (before the max_messages cut). */
  total: number;
  /** Records received (files read). */
  files: number;
  /** Bytes of -H files read on the host. */
  bytesRead: number;
  /** Uncompressed bytes of the compact copies. */
  bytesSelected: number;
  /** Files sent whole because a line could not be classified for certain. */
  verbatim: number;
}

export class SpoolFilterOutputError extends Error {
  constructor(message: string) {
    super(`malformed spool filter output: ${message}`);
    this.name = 'SpoolFilterOutputError';
  }
}

export interface SpoolFilterOutput {
  split: boolean;
  /** -H files listed under input/ (before the max_messages cut). */
  total: number;
  /** One compact -H copy per file read, in the local scan's order. */
  records: Buffer[];
  bytesRead: number;
  bytesSelected: number;
  verbatim: number;
}

/** `SPLIT TOTAL\n` then gzip(`H<len>\n<bytes>`... `T<read> <sent> <verbatim>\n`). */
export function parseSpoolFilterOutput(output: Buffer): SpoolFilterOutput {
  const nl = output.indexOf(0x0a);
  if (nl < 0) throw new SpoolFilterOutputError('no first line');
  const head = /^([01]) (\d+)$/.exec(output.subarray(0, nl).toString('latin1'));
  if (head === null) throw new SpoolFilterOutputError('bad first line');
  let body: Buffer;
  try {
    body = gunzipSync(output.subarray(nl + 1));
  } catch (err) {
    // A cut stream (the host stopped early) must not pass for a whole queue.
    throw new SpoolFilterOutputError((err as Error).message);
  }
  const records: Buffer[] = [];
  let trailer: RegExpExecArray | null = null;
  let pos = 0;
  while (pos < body.length) {
    const eol = body.indexOf(0x0a, pos);
    if (eol < 0) throw new SpoolFilterOutputError('record without a length line');
    const line = body.subarray(pos, eol).toString('latin1');
    pos = eol + 1;
    if (line.startsWith('T')) {
      trailer = /^T(\d+) (\d+) (\d+)$/.exec(line);
      if (trailer === null || pos !== body.length) throw new SpoolFilterOutputError('bad trailer');
      break;
    }
    const m = /^H(\d+)$/.exec(line);
    if (m === null) throw new SpoolFilterOutputError(`unexpected record ${JSON.stringify(line.slice(0, 40))}`);
    const end = pos + Number(m[1]);
    if (end > body.length) throw new SpoolFilterOutputError('record past the end');
    records.push(body.subarray(pos, end));
    pos = end;
  }
  if (trailer === null) throw new SpoolFilterOutputError('output ended before the trailer');
  return {
    split: head[1] === '1',
    total: Number(head[2]),
    records,
    bytesRead: Number(trailer[1]),
    bytesSelected: Number(trailer[2]),
    verbatim: Number(trailer[3]),
  };
}

/** The scan result for the filter's output, computed exactly as `scanSpoolDir` computes it. */
export function readSpoolFilterOutput(
  output: Buffer,
  spoolDir: string,
  options: { maxMessages?: number; limit?: number } = {},
): { result: SpoolScanResult; stats: SpoolFilterStats } {
  const out = parseSpoolFilterOutput(output);
  const summary = new SpoolSummary();
  for (const record of out.records) {
    // Decoded exactly as the local reader decodes the file's first bytes.
    const info = spoolMessageInfo(record.toString('utf8'));
    if (info === null) summary.unreadable++;
    else summary.add(info);
  }
  const max = options.maxMessages ?? 200_000;
  return {
    result: summary.result(spoolDir, out.split, out.total > max, options.limit ?? 50),
    stats: { total: out.total, files: out.records.length, bytesRead: out.bytesRead, bytesSelected: out.bytesSelected, verbatim: out.verbatim },
  };
}
