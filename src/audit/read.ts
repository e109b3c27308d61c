import { readFileSync } from 'node:fs';
import { AUDIT_FORMAT, GENESIS_HASH, type AuditRecord, type SummaryRecord } from './records.js';
import { sha256Hex } from './writer.js';

/** One line of an audit file as read from disk: its exact bytes (for hashing) and its record. */
export interface AuditLine {
  /** 1-based line number in the file. */
  lineNo: number;
  /** The line's text without its newline: the bytes the next record's `prev` hashes. */
  text: string;
  /** Parsed record, or undefined when the line is not a JSON object. */
  record: AuditRecord | undefined;
}

export interface ParsedAuditLog {
  lines: AuditLine[];
  /** Records of the lines that parsed, in file order. */
  records: AuditRecord[];
  /** sha256 of the last line: the chain head of the file as it stands. */
  head: string;
  /** Problems found while parsing (not chain problems). */
  problems: string[];
}

export interface ChainCheck {
  ok: boolean;
  /** sha256 of the last line in the file. */
  head: string;
  /** The file ends with a run.summary whose `head` matches the line before it. */
  complete: boolean;
  summary: SummaryRecord | undefined;
  problems: string[];
}

function isRecord(value: unknown): value is AuditRecord {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { type?: unknown }).type === 'string'
  );
}

/** Parses audit JSONL text. Pure: never throws for malformed content, reports it instead. */
export function parseAuditLog(text: string): ParsedAuditLog {
  const rawLines = text.split('\n');
  // A well-formed log ends with a newline, which leaves one empty string at the end.
  if (rawLines.length > 0 && rawLines[rawLines.length - 1] === '') rawLines.pop();
  const lines: AuditLine[] = [];
  const records: AuditRecord[] = [];
  const problems: string[] = [];
  let head = GENESIS_HASH;
  rawLines.forEach((raw, index) => {
    const lineNo = index + 1;
    let record: AuditRecord | undefined;
    try {
      const value: unknown = JSON.parse(raw);
      if (isRecord(value)) record = value;
      else problems.push(`line ${lineNo}: not an audit record (no "type")`);
    } catch {
      problems.push(`line ${lineNo}: not valid JSON`);
    }
    lines.push({ lineNo, text: raw, record });
    if (record !== undefined) records.push(record);
    head = sha256Hex(raw);
  });
  return { lines, records, head, problems };
}

/** Reads and parses an audit file. Throws only when the file cannot be read. */
export function readAuditLog(path: string): ParsedAuditLog {
  return parseAuditLog(readFileSync(path, 'utf8'));
}

/**
 * Checks the hash chain of a parsed log: every `prev` is the hash of the line before it, `seq`
 * counts up from 0, the first record is a header of a known format, and a final summary closes
 * the chain head it claims. Edits, deletions, reorderings and a cut tail all show up here.
 */
export function checkChain(log: ParsedAuditLog): ChainCheck {
  const problems = [...log.problems];
  let expectedPrev = GENESIS_HASH;
  log.lines.forEach((line, index) => {
    const record = line.record;
    if (record !== undefined) {
      if (record.prev !== expectedPrev) {
        problems.push(`line ${line.lineNo}: chain broken (prev does not match the line before: edited, deleted or reordered)`);
      }
      if (record.seq !== index) {
        problems.push(`line ${line.lineNo}: seq ${String(record.seq)} where ${index} was expected`);
      }
    }
    expectedPrev = sha256Hex(line.text);
  });
  const first = log.records[0];
  if (log.lines.length === 0) problems.push('the log is empty');
  else if (first === undefined || first.type !== 'run.header') problems.push('line 1: the log does not start with a run.header record');
  else if (first.format !== AUDIT_FORMAT) problems.push(`line 1: unknown format ${JSON.stringify(first.format)}`);

  const lastLine = log.lines[log.lines.length - 1];
  const last = lastLine?.record;
  let summary: SummaryRecord | undefined;
  let complete = false;
  if (last !== undefined && last.type === 'run.summary') {
    summary = last;
    const before = log.lines[log.lines.length - 2];
    const closes = before === undefined ? GENESIS_HASH : sha256Hex(before.text);
    if (last.head !== closes) problems.push(`line ${lastLine?.lineNo ?? 0}: run.summary head does not match the chain`);
    else complete = true;
  }
  const summaries = log.records.filter((r) => r.type === 'run.summary').length;
  if (summaries > 1 || (summaries === 1 && summary === undefined)) {
    problems.push('a run.summary record is not the last line: records were appended after the run ended');
  }
  return { ok: problems.length === 0, head: log.head, complete, summary, problems };
}
