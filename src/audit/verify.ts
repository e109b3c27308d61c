import { readFile } from 'node:fs/promises';
import { GENESIS_HASH, type AuditRecord } from './records.js';
import { DuplicateKeyError, parseJsonStrict } from './strict-json.js';
import { sha256Hex } from './writer.js';

export interface VerifyProblem {
  /** 1-based line number in the file. */
  line: number;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  /** Records that passed, in order. */
  records: AuditRecord[];
  /** sha256 of the last intact line: the chain head. */
  head: string;
  /** A run.summary record closes the log. */
  complete: boolean;
  /** The first broken record; verification stops there. */
  problem?: VerifyProblem;
  /**
   * The only problem is a last line without its newline, after intact records: a write that
   * stopped part-way (a full disk, a killed run), not an edit.
   */
  torn?: boolean;
}

export const TORN_LAST_RECORD = 'last record incomplete: the disk filled or the run was killed while writing';

/**
 * Checks the hash chain of an audit log held in memory. Every line must be a JSON record whose
 * `prev` is the sha256 of the previous line and whose `seq` is its position; the log must open
 * with a header and close with a summary whose `head` matches. The first break is reported.
 */
export function verifyAuditText(text: string): VerifyResult {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const records: AuditRecord[] = [];
  let previous = GENESIS_HASH;
  const fail = (line: number, message: string): VerifyResult => ({ ok: false, records, head: previous, complete: false, problem: { line, message } });
  if (lines.length === 0) return fail(1, 'the log is empty');
  if (!text.endsWith('\n')) {
    // A record is only complete with its newline: a cut-off last line is truncation.
    return verifyPrefix();
  }
  return walk(lines.length);

  function verifyPrefix(): VerifyResult {
    const result = walk(lines.length - 1);
    if (result.problem && result.problem.line <= lines.length - 1) return result;
    return { ...fail(lines.length, `${TORN_LAST_RECORD} (the ${result.records.length} records before it are intact)`), records: result.records, head: result.head, torn: true };
  }

  function walk(count: number): VerifyResult {
    let summarySeen = false;
    for (let i = 0; i < count; i += 1) {
      const line = lines[i] as string;
      const n = i + 1;
      if (summarySeen) return fail(n, 'a record follows the run summary (appended after the log was closed)');
      let record: AuditRecord;
      try {
        record = parseJsonStrict(line) as AuditRecord;
      } catch (error) {
        if (error instanceof DuplicateKeyError) return fail(n, `${error.message}: the record was edited`);
        return fail(n, 'not a complete JSON record (edited or truncated)');
      }
      if (record === null || typeof record !== 'object') return fail(n, 'not a record');
      if (record.seq !== i) return fail(n, `sequence number ${String(record.seq)} where ${i} was expected (a record was deleted, inserted or moved)`);
      if (record.prev !== previous) {
        return fail(n, 'hash chain broken: this record does not follow the previous line (the previous line was edited, or records were deleted or reordered)');
      }
      if (i === 0 && record.type !== 'run.header') return fail(n, 'the log does not start with a run header');
      if (record.type === 'run.summary') {
        if (record.head !== previous) return fail(n, 'the summary closes a different chain head');
        summarySeen = true;
      }
      records.push(record);
      previous = sha256Hex(line);
    }
    if (!summarySeen) {
      return { ok: false, records, head: previous, complete: false, problem: { line: count + 1, message: 'no run summary at the end: the run was killed before finishing, or the tail of the log was removed' } };
    }
    return { ok: true, records, head: previous, complete: true };
  }
}

export async function verifyAuditLog(path: string): Promise<VerifyResult> {
  return verifyAuditText(await readFile(path, 'utf8'));
}
