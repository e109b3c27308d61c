/**
 * Which hosts of an earlier run need another go: those whose `host.finish` says failed or
 * unreachable, and those that never got a `host.finish` (the run died first).
 */
import { readFile } from 'node:fs/promises';
import type { AuditRecord, HeaderRecord, HostFinishRecord } from '../audit/records.js';
import { DuplicateKeyError, parseJsonStrict } from '../audit/strict-json.js';

export function hostsToRerunFromText(text: string, source = 'audit log'): string[] {
  let header: HeaderRecord | undefined;
  const finished = new Map<string, HostFinishRecord['status']>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    let record: AuditRecord;
    try {
      record = parseJsonStrict(line) as AuditRecord;
    } catch (error) {
      // An edited record (a second "status") would decide which hosts run again: refuse it.
      if (error instanceof DuplicateKeyError) throw new Error(`${source}:${i + 1}: ${error.message}; run 'runbook audit verify' on it`);
      // A torn last line after a crash is expected; anything earlier is damage.
      if (i >= lines.length - 2) continue;
      throw new Error(`${source}:${i + 1}: not a JSON record; run 'runbook audit verify' on it`);
    }
    if (record.type === 'run.header') header = record;
    else if (record.type === 'host.finish') finished.set(record.host, record.status);
  }
  if (!header) throw new Error(`${source}: no run.header record; is this a runbook audit log?`);
  return header.hosts.filter((h) => {
    const status = finished.get(h);
    return status === undefined || status === 'failed' || status === 'unreachable';
  });
}

export async function hostsToRerun(auditLogPath: string): Promise<string[]> {
  return hostsToRerunFromText(await readFile(auditLogPath, 'utf8'), auditLogPath);
}
