import { readFileSync } from 'node:fs';
import { GENESIS_HASH, type AuditRecord, type StepFinishRecord, type StepStartRecord, type SummaryRecord } from './records.js';
import { DuplicateKeyError, parseJsonStrict } from './strict-json.js';
import { verifyAuditText } from './verify.js';
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
  /** The file's text as read, for the verifier (a cut-off last line has no newline). */
  rawText?: string;
}

export interface ChainCheck {
  /** Chain intact and closed by a summary. */
  ok: boolean;
  /** Every record present follows the one before it (the log may still lack its summary). */
  linksHold: boolean;
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
      const value: unknown = parseJsonStrict(raw);
      if (isRecord(value)) record = value;
      else problems.push(`line ${lineNo}: not an audit record (no "type")`);
    } catch (error) {
      problems.push(`line ${lineNo}: ${error instanceof DuplicateKeyError ? error.message : 'not valid JSON'}`);
    }
    lines.push({ lineNo, text: raw, record });
    if (record !== undefined) records.push(record);
    head = sha256Hex(raw);
  });
  return { lines, records, head, problems, rawText: text };
}

/** Reads and parses an audit file. Throws only when the file cannot be read. */
export function readAuditLog(path: string): ParsedAuditLog {
  return parseAuditLog(readFileSync(path, 'utf8'));
}

/**
 * Checks a parsed log with the project's verifier (src/audit/verify.ts) and says, beyond its
 * verdict, whether the links that are there hold: a log that only lacks its summary (a crash,
 * or a cut tail) has an intact chain but is not complete.
 */
export function checkChain(log: ParsedAuditLog): ChainCheck {
  const text = log.lines.map((l) => `${l.text}\n`).join('');
  const result = verifyAuditText(log.rawText ?? text);
  const problems = result.problem ? [`line ${result.problem.line}: ${result.problem.message}`] : [];
  const last = result.records[result.records.length - 1];
  const summary = result.complete && last?.type === 'run.summary' ? last : undefined;
  // The verifier reports a missing summary one line past the end, and a last line cut off while
  // being written as torn; either way every link before it held.
  const linksHold = result.ok || result.torn === true || (result.problem !== undefined && result.problem.line > log.lines.length);
  return { ok: result.ok, linksHold, head: log.head, complete: result.complete, summary, problems };
}

/** What a report shows about the file it was rendered from. */
export function reportVerification(log: ParsedAuditLog, chain: ChainCheck = checkChain(log)) {
  return { head: log.head, chainOk: chain.linksHold, complete: chain.complete, problems: chain.problems };
}

/**
 * Each finished step of a log with the record that started it (the start holds the params and
 * whether it mutates), in log order, and the steps that started but never finished (the run
 * stopped in the middle of them).
 */
export function pairSteps(records: readonly AuditRecord[]): { finished: { start: StepStartRecord | undefined; finish: StepFinishRecord }[]; unfinished: StepStartRecord[] } {
  const open = new Map<string, StepStartRecord>();
  const finished: { start: StepStartRecord | undefined; finish: StepFinishRecord }[] = [];
  for (const record of records) {
    if (record.type === 'step.start') open.set(`${record.host}\u0000${record.step}`, record);
    if (record.type !== 'step.finish') continue;
    const key = `${record.host}\u0000${record.step}`;
    finished.push({ start: open.get(key), finish: record });
    open.delete(key);
  }
  return { finished, unfinished: [...open.values()] };
}
